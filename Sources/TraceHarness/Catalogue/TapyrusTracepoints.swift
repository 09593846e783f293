/// A tracepoint's typed event: the tracepoint's one declaration and the Swift
/// view of its fields.
///
/// Adding a tracepoint to the harness means writing one such type and listing
/// it in ``TracepointCatalogue/tapyrusd``. The eBPF layout, the conformance
/// check and the printers all follow from ``tracepoint``.
public protocol CataloguedEvent: Sendable {
    /// The declaration: probe name and arguments in order.
    static var tracepoint: Tracepoint { get }
    /// The typed view of a decoded event: its fields read in declaration order.
    init(reading reader: inout EventFieldReader) throws(EventDecodingError)
}

extension CataloguedEvent {
    /// The typed view of a decoded event of this tracepoint.
    public init(_ event: TraceEvent) throws(EventDecodingError) {
        var reader = try EventFieldReader(event, declaration: Self.tracepoint)
        try self.init(reading: &reader)
    }
}

extension TraceEvent {
    /// This event as the typed event `type`, or nil if it is another probe.
    public func `as`<Event: CataloguedEvent>(_ type: Event.Type) throws(EventDecodingError) -> Event? {
        guard probe == Event.tracepoint.probe else { return nil }
        return try Event(self)
    }
}

/// The largest P2P message a node accepts (MAX_SIZE), the payload cap.
let maximumMessageBytes = 0x0200_0000

// MARK: - net

/// The arguments both P2P message tracepoints pass.
public struct P2PMessageFields: Sendable, Hashable {
    public var peerID: Int64
    public var peerAddress: String
    public var connectionType: String
    public var messageType: String
    /// The payload's size in bytes (without the 24-byte message header).
    public var messageSize: UInt64
    public var message: Payload

    /// The declaration, with the size argument as the tracepoint passes it.
    static func fields(size: Field) -> [Field] {
        [
            .int64("peer_id"),
            .string("peer_address", maxLength: 127),
            .string("connection_type", maxLength: 31),
            .string("message_type", maxLength: 31),
            size,
            .payload("message", lengthField: size.name, maxLength: maximumMessageBytes),
        ]
    }

    init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        peerID = try reader.int64()
        peerAddress = try reader.string()
        connectionType = try reader.string()
        messageType = try reader.string()
        messageSize = try reader.uint64()
        message = try reader.payload()
    }
}

/// `net:inbound_message`: a P2P message received from a peer.
@dynamicMemberLookup
public struct InboundMessage: CataloguedEvent {
    public static let tracepoint = Tracepoint("net", "inbound_message", "a P2P message received from a peer",
                                              fields: P2PMessageFields.fields(size: .uint32("message_size", note: "bytes")))
    public var fields: P2PMessageFields
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { fields = try P2PMessageFields(reading: &reader) }
    public subscript<Value>(dynamicMember keyPath: KeyPath<P2PMessageFields, Value>) -> Value { fields[keyPath: keyPath] }
}

/// `net:outbound_message`: a P2P message sent to a peer.
@dynamicMemberLookup
public struct OutboundMessage: CataloguedEvent {
    public static let tracepoint = Tracepoint("net", "outbound_message", "a P2P message sent to a peer",
                                              fields: P2PMessageFields.fields(size: .uint64("message_size", note: "bytes")))
    public var fields: P2PMessageFields
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { fields = try P2PMessageFields(reading: &reader) }
    public subscript<Value>(dynamicMember keyPath: KeyPath<P2PMessageFields, Value>) -> Value { fields[keyPath: keyPath] }
}

// MARK: - validation

/// `validation:block_connected`: a block was connected to the chain tip.
public struct BlockConnected: CataloguedEvent {
    public static let tracepoint = Tracepoint("validation", "block_connected", "a block was connected (ConnectBlock)", fields: [
        .hash256("hash"),
        .int32("height"),
        .uint64("transactions"),
        .int32("inputs"),
        .int64("sigops", note: "sigops cost"),
        .int64("duration", note: "µs"),
    ])
    public var hash: Hash256
    public var height: Int32
    public var transactions: UInt64
    public var inputs: Int32
    public var sigops: Int64
    /// Time ConnectBlock took, in microseconds.
    public var durationMicroseconds: Int64

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        hash = try reader.hash()
        height = try reader.int32()
        transactions = try reader.uint64()
        inputs = try reader.int32()
        sigops = try reader.int64()
        durationMicroseconds = try reader.int64()
    }
}

// MARK: - utxocache

/// Why the UTXO cache was flushed (`FlushStateMode` in tapyrusd).
public enum FlushMode: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0, ifNeeded = 1, periodic = 2, always = 3

    public var description: String {
        switch self {
        case .none: "NONE"
        case .ifNeeded: "IF_NEEDED"
        case .periodic: "PERIODIC"
        case .always: "ALWAYS"
        }
    }
}

/// `utxocache:utxocache_flush`: the coins cache was written to disk.
public struct UTXOCacheFlush: CataloguedEvent {
    public static let tracepoint = Tracepoint("utxocache", "utxocache_flush", "the UTXO cache was flushed", fields: [
        .int64("duration", note: "µs"),
        .uint32("mode", note: "0 NONE, 1 IF_NEEDED, 2 PERIODIC, 3 ALWAYS"),
        .uint64("coins", note: "coins in the cache before the flush"),
        .uint64("memory", note: "bytes"),
        .bool("for_prune"),
    ])
    public var durationMicroseconds: Int64
    /// The raw mode number; ``mode`` names it when it is known.
    public var modeValue: UInt32
    public var coins: UInt64
    public var memoryBytes: UInt64
    public var forPrune: Bool
    public var mode: FlushMode? { FlushMode(rawValue: modeValue) }

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        durationMicroseconds = try reader.int64()
        modeValue = try reader.uint32()
        coins = try reader.uint64()
        memoryBytes = try reader.uint64()
        forPrune = try reader.bool()
    }
}

/// The arguments the three coin tracepoints share.
public struct CoinEventFields: Sendable, Hashable {
    /// The transaction id in display form (64 hex digits).
    public var txid: String
    public var index: UInt32
    /// "TPC" for the native coin, else the token's colour id in hex.
    public var colourID: String
    public var height: UInt32
    /// In tapyrus units (1 TPC = 100,000,000).
    public var value: Int64
    public var isCoinbase: Bool

    static func fields() -> [Field] {
        [
            .string("txid", maxLength: 64),
            .uint32("index"),
            .string("colour_id", maxLength: 66, note: "TPC or token colour id"),
            .uint32("height"),
            .int64("value", note: "tapyrus units"),
            .bool("is_coinbase"),
        ]
    }

    init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        txid = try reader.string()
        index = try reader.uint32()
        colourID = try reader.string()
        height = try reader.uint32()
        value = try reader.int64()
        isCoinbase = try reader.bool()
    }
}

/// `utxocache:utxocache_add`: a coin was added to the UTXO cache.
public struct UTXOCacheAdd: CataloguedEvent {
    public static let tracepoint = Tracepoint("utxocache", "utxocache_add", "a coin was added to the UTXO cache", fields: CoinEventFields.fields())
    public var coin: CoinEventFields
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { coin = try CoinEventFields(reading: &reader) }
}

/// `utxocache:utxocache_spent`: a coin was spent from the UTXO cache.
public struct UTXOCacheSpent: CataloguedEvent {
    public static let tracepoint = Tracepoint("utxocache", "utxocache_spent", "a coin was spent from the UTXO cache", fields: CoinEventFields.fields())
    public var coin: CoinEventFields
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { coin = try CoinEventFields(reading: &reader) }
}

/// `utxocache:utxocache_uncache`: an unmodified coin was dropped from the cache.
public struct UTXOCacheUncache: CataloguedEvent {
    public static let tracepoint = Tracepoint("utxocache", "utxocache_uncache", "a coin was removed from the UTXO cache", fields: CoinEventFields.fields())
    public var coin: CoinEventFields
    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) { coin = try CoinEventFields(reading: &reader) }
}

// MARK: - mempool

/// `mempool:added`: a transaction entered the mempool.
public struct MempoolAdded: CataloguedEvent {
    public static let tracepoint = Tracepoint("mempool", "added", "a transaction entered the mempool", fields: [
        .hash256("txid"),
        .int32("size", note: "bytes"),
        .int64("fee", note: "tapyrus units"),
    ])
    public var txid: Hash256
    public var size: Int32
    public var fee: Int64

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        txid = try reader.hash()
        size = try reader.int32()
        fee = try reader.int64()
    }
}

/// `mempool:removed`: a transaction left the mempool.
public struct MempoolRemoved: CataloguedEvent {
    public static let tracepoint = Tracepoint("mempool", "removed", "a transaction left the mempool", fields: [
        .hash256("txid"),
        .string("reason", maxLength: 31),
        .int32("size", note: "bytes"),
        .int64("fee", note: "tapyrus units"),
        .int64("entry_time", note: "epoch seconds"),
    ])
    public var txid: Hash256
    public var reason: String
    public var size: Int32
    public var fee: Int64
    public var entryTime: Int64

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        txid = try reader.hash()
        reason = try reader.string()
        size = try reader.int32()
        fee = try reader.int64()
        entryTime = try reader.int64()
    }
}

/// `mempool:replaced`: a transaction was replaced by another.
public struct MempoolReplaced: CataloguedEvent {
    public static let tracepoint = Tracepoint("mempool", "replaced", "a mempool transaction was replaced", fields: [
        .hash256("replaced_txid"),
        .int32("replaced_size", note: "bytes"),
        .int64("replaced_fee", note: "tapyrus units"),
        .int64("replaced_entry_time", note: "epoch seconds"),
        .hash256("replacement_txid"),
        .uint32("replacement_size", note: "bytes"),
        .int64("replacement_fee", note: "tapyrus units"),
    ])
    public var replacedTxid: Hash256
    public var replacedSize: Int32
    public var replacedFee: Int64
    public var replacedEntryTime: Int64
    public var replacementTxid: Hash256
    public var replacementSize: UInt32
    public var replacementFee: Int64

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        replacedTxid = try reader.hash()
        replacedSize = try reader.int32()
        replacedFee = try reader.int64()
        replacedEntryTime = try reader.int64()
        replacementTxid = try reader.hash()
        replacementSize = try reader.uint32()
        replacementFee = try reader.int64()
    }
}

/// `mempool:rejected`: a transaction was refused by the mempool.
public struct MempoolRejected: CataloguedEvent {
    public static let tracepoint = Tracepoint("mempool", "rejected", "a transaction was rejected", fields: [
        .hash256("txid"),
        .string("reason", maxLength: 127),
    ])
    public var txid: Hash256
    public var reason: String

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        txid = try reader.hash()
        reason = try reader.string()
    }
}

// MARK: - coin_selection

/// `coin_selection:coins_requested`: the wallet starts selecting coins.
public struct CoinsRequested: CataloguedEvent {
    public static let tracepoint = Tracepoint("coin_selection", "coins_requested", "the wallet asks for coins", fields: [
        .int64("value", note: "tapyrus units"),
        .string("colour_id", maxLength: 66),
    ])
    public var value: Int64
    public var colourID: String

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        value = try reader.int64()
        colourID = try reader.string()
    }
}

/// `coin_selection:selected_coins`: the wallet's selection result.
public struct SelectedCoins: CataloguedEvent {
    public static let tracepoint = Tracepoint("coin_selection", "selected_coins", "the coins the wallet selected", fields: [
        .string("colour_id", maxLength: 66),
        .int64("target", note: "tapyrus units"),
        .int64("input_value", note: "tapyrus units"),
        .uint64("coin_count"),
        .string("algorithm", maxLength: 15, note: "BNB or knapsack"),
    ])
    public var colourID: String
    public var target: Int64
    public var inputValue: Int64
    public var coinCount: UInt64
    public var algorithm: String

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        colourID = try reader.string()
        target = try reader.int64()
        inputValue = try reader.int64()
        coinCount = try reader.uint64()
        algorithm = try reader.string()
    }
}

/// `coin_selection:change_info`: the change output the wallet made.
public struct ChangeInfo: CataloguedEvent {
    public static let tracepoint = Tracepoint("coin_selection", "change_info", "the change the wallet made", fields: [
        .int64("change", note: "tapyrus units"),
        .string("colour_id", maxLength: 66),
    ])
    public var change: Int64
    public var colourID: String

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        change = try reader.int64()
        colourID = try reader.string()
    }
}

/// `coin_selection:fee_info`: the fee the wallet paid and needed.
public struct FeeInfo: CataloguedEvent {
    public static let tracepoint = Tracepoint("coin_selection", "fee_info", "the fee of the wallet's transaction", fields: [
        .int64("fee_paid", note: "tapyrus units"),
        .int64("fee_needed", note: "tapyrus units"),
    ])
    public var feePaid: Int64
    public var feeNeeded: Int64

    public init(reading reader: inout EventFieldReader) throws(EventDecodingError) {
        feePaid = try reader.int64()
        feeNeeded = try reader.int64()
    }
}
