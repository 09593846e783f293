/// A tracepoint's typed event: the tracepoint's one declaration and the Swift
/// view of its fields.
///
/// Adding a tracepoint to the harness means writing one such type and listing
/// it in ``TracepointCatalogue/tapyrusd``. The eBPF layout, the conformance
/// check and the printers all follow from ``tracepoint``. The catalogue's own
/// events are ``DeclaredEvent``s: one table gives both requirements.
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
    public var peerID: Int64 = 0
    public var peerAddress = ""
    public var connectionType = ""
    public var messageType = ""
    /// The payload's size in bytes (without the 24-byte message header).
    public var messageSize: UInt64 = 0
    public var message = Payload(bytes: [], declaredLength: 0)

    /// The declaration, with the size argument as the tracepoint passes it.
    static func arguments(size: Field) -> [EventArgument<Self>] {
        [
            .reading(.int64("peer_id"), into: \.peerID),
            .reading(.string("peer_address", maxLength: 127), into: \.peerAddress),
            .reading(.string("connection_type", maxLength: 31), into: \.connectionType),
            .reading(.string("message_type", maxLength: 31), into: \.messageType),
            .reading(size, into: \.messageSize),
            .reading(.payload("message", lengthField: size.name, maxLength: maximumMessageBytes), into: \.message),
        ]
    }
}

/// `net:inbound_message`: a P2P message received from a peer.
@dynamicMemberLookup
public struct InboundMessage: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("net", "inbound_message", "a P2P message received from a peer",
                                                           P2PMessageFields.arguments(size: .uint32("message_size", note: "bytes")), into: \.fields)
    public var fields = P2PMessageFields()
    public init() {}
    public subscript<Value>(dynamicMember keyPath: KeyPath<P2PMessageFields, Value>) -> Value { fields[keyPath: keyPath] }
}

/// `net:outbound_message`: a P2P message sent to a peer.
@dynamicMemberLookup
public struct OutboundMessage: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("net", "outbound_message", "a P2P message sent to a peer",
                                                           P2PMessageFields.arguments(size: .uint64("message_size", note: "bytes")), into: \.fields)
    public var fields = P2PMessageFields()
    public init() {}
    public subscript<Value>(dynamicMember keyPath: KeyPath<P2PMessageFields, Value>) -> Value { fields[keyPath: keyPath] }
}

// MARK: - validation

/// `validation:block_connected`: a block was connected to the chain tip.
public struct BlockConnected: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("validation", "block_connected", "a block was connected (ConnectBlock)", [
        .reading(.hash256("hash"), into: \.hash),
        .reading(.int32("height"), into: \.height),
        .reading(.uint64("transactions"), into: \.transactions),
        .reading(.int32("inputs"), into: \.inputs),
        .reading(.int64("sigops", note: "sigops cost"), into: \.sigops),
        .reading(.int64("duration", note: "µs"), into: \.durationMicroseconds),
    ])
    public var hash = Hash256.zero
    public var height: Int32 = 0
    public var transactions: UInt64 = 0
    public var inputs: Int32 = 0
    public var sigops: Int64 = 0
    /// Time ConnectBlock took, in microseconds.
    public var durationMicroseconds: Int64 = 0
    public init() {}
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
public struct UTXOCacheFlush: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("utxocache", "utxocache_flush", "the UTXO cache was flushed", [
        .reading(.int64("duration", note: "µs"), into: \.durationMicroseconds),
        .reading(.uint32("mode", note: "0 NONE, 1 IF_NEEDED, 2 PERIODIC, 3 ALWAYS"), into: \.modeValue),
        .reading(.uint64("coins", note: "coins in the cache before the flush"), into: \.coins),
        .reading(.uint64("memory", note: "bytes"), into: \.memoryBytes),
        .reading(.bool("for_prune"), into: \.forPrune),
    ])
    public var durationMicroseconds: Int64 = 0
    /// The raw mode number; ``mode`` names it when it is known.
    public var modeValue: UInt32 = 0
    public var coins: UInt64 = 0
    public var memoryBytes: UInt64 = 0
    public var forPrune = false
    public var mode: FlushMode? { FlushMode(rawValue: modeValue) }
    public init() {}
}

/// One coin as the three coin tracepoints describe it: the arguments they
/// share, ordered by outpoint.
public struct CoinEventFields: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The transaction id in display form (64 hex digits).
    public var txid: String
    public var index: UInt32
    /// "TPC" for the native coin, else the token's colour id in hex.
    public var colourID: String
    public var height: UInt32
    /// In tapyrus units (1 TPC = 100,000,000).
    public var value: Int64
    public var isCoinbase: Bool

    public init(txid: String = "", index: UInt32 = 0, colourID: String = "", height: UInt32 = 0, value: Int64 = 0, isCoinbase: Bool = false) {
        (self.txid, self.index, self.colourID, self.height, self.value, self.isCoinbase) = (txid, index, colourID, height, value, isCoinbase)
    }

    /// `txid:index`.
    public var outpoint: String { "\(txid):\(index)" }

    public var description: String {
        "\(txid.prefix(16))…:\(index) \(colourID.prefix(16)) height \(height) value \(value)\(isCoinbase ? " coinbase" : "")"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.txid, lhs.index) < (rhs.txid, rhs.index)
    }

    /// The arguments of the three coin tracepoints, in order.
    static let arguments: [EventArgument<Self>] = [
        .reading(.string("txid", maxLength: 64), into: \.txid),
        .reading(.uint32("index"), into: \.index),
        .reading(.string("colour_id", maxLength: 66, note: "TPC or token colour id"), into: \.colourID),
        .reading(.uint32("height"), into: \.height),
        .reading(.int64("value", note: "tapyrus units"), into: \.value),
        .reading(.bool("is_coinbase"), into: \.isCoinbase),
    ]
}

/// `utxocache:utxocache_add`: a coin was added to the UTXO cache.
public struct UTXOCacheAdd: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("utxocache", "utxocache_add", "a coin was added to the UTXO cache", CoinEventFields.arguments, into: \.coin)
    public var coin = CoinEventFields()
    public init() {}
}

/// `utxocache:utxocache_spent`: a coin was spent from the UTXO cache.
public struct UTXOCacheSpent: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("utxocache", "utxocache_spent", "a coin was spent from the UTXO cache", CoinEventFields.arguments, into: \.coin)
    public var coin = CoinEventFields()
    public init() {}
}

/// `utxocache:utxocache_uncache`: an unmodified coin was dropped from the cache.
public struct UTXOCacheUncache: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("utxocache", "utxocache_uncache", "a coin was removed from the UTXO cache", CoinEventFields.arguments, into: \.coin)
    public var coin = CoinEventFields()
    public init() {}
}

// MARK: - mempool

/// `mempool:added`: a transaction entered the mempool.
public struct MempoolAdded: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("mempool", "added", "a transaction entered the mempool", [
        .reading(.hash256("txid"), into: \.txid),
        .reading(.int32("size", note: "bytes"), into: \.size),
        .reading(.int64("fee", note: "tapyrus units"), into: \.fee),
    ])
    public var txid = Hash256.zero
    public var size: Int32 = 0
    public var fee: Int64 = 0
    public init() {}
}

/// `mempool:removed`: a transaction left the mempool.
public struct MempoolRemoved: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("mempool", "removed", "a transaction left the mempool", [
        .reading(.hash256("txid"), into: \.txid),
        .reading(.string("reason", maxLength: 31), into: \.reason),
        .reading(.int32("size", note: "bytes"), into: \.size),
        .reading(.int64("fee", note: "tapyrus units"), into: \.fee),
        .reading(.int64("entry_time", note: "epoch seconds"), into: \.entryTime),
    ])
    public var txid = Hash256.zero
    public var reason = ""
    public var size: Int32 = 0
    public var fee: Int64 = 0
    public var entryTime: Int64 = 0
    public init() {}
}

/// `mempool:replaced`: a transaction was replaced by another.
public struct MempoolReplaced: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("mempool", "replaced", "a mempool transaction was replaced", [
        .reading(.hash256("replaced_txid"), into: \.replacedTxid),
        .reading(.int32("replaced_size", note: "bytes"), into: \.replacedSize),
        .reading(.int64("replaced_fee", note: "tapyrus units"), into: \.replacedFee),
        .reading(.int64("replaced_entry_time", note: "epoch seconds"), into: \.replacedEntryTime),
        .reading(.hash256("replacement_txid"), into: \.replacementTxid),
        .reading(.uint32("replacement_size", note: "bytes"), into: \.replacementSize),
        .reading(.int64("replacement_fee", note: "tapyrus units"), into: \.replacementFee),
    ])
    public var replacedTxid = Hash256.zero
    public var replacedSize: Int32 = 0
    public var replacedFee: Int64 = 0
    public var replacedEntryTime: Int64 = 0
    public var replacementTxid = Hash256.zero
    public var replacementSize: UInt32 = 0
    public var replacementFee: Int64 = 0
    public init() {}
}

/// `mempool:rejected`: a transaction was refused by the mempool.
public struct MempoolRejected: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("mempool", "rejected", "a transaction was rejected", [
        .reading(.hash256("txid"), into: \.txid),
        .reading(.string("reason", maxLength: 127), into: \.reason),
    ])
    public var txid = Hash256.zero
    public var reason = ""
    public init() {}
}

// MARK: - coin_selection

/// `coin_selection:coins_requested`: the wallet starts selecting coins.
public struct CoinsRequested: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("coin_selection", "coins_requested", "the wallet asks for coins", [
        .reading(.int64("value", note: "tapyrus units"), into: \.value),
        .reading(.string("colour_id", maxLength: 66), into: \.colourID),
    ])
    public var value: Int64 = 0
    public var colourID = ""
    public init() {}
}

/// `coin_selection:selected_coins`: the wallet's selection result.
public struct SelectedCoins: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("coin_selection", "selected_coins", "the coins the wallet selected", [
        .reading(.string("colour_id", maxLength: 66), into: \.colourID),
        .reading(.int64("target", note: "tapyrus units"), into: \.target),
        .reading(.int64("input_value", note: "tapyrus units"), into: \.inputValue),
        .reading(.uint64("coin_count"), into: \.coinCount),
        .reading(.string("algorithm", maxLength: 15, note: "BNB or knapsack"), into: \.algorithm),
    ])
    public var colourID = ""
    public var target: Int64 = 0
    public var inputValue: Int64 = 0
    public var coinCount: UInt64 = 0
    public var algorithm = ""
    public init() {}
}

/// `coin_selection:change_info`: the change output the wallet made.
public struct ChangeInfo: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("coin_selection", "change_info", "the change the wallet made", [
        .reading(.int64("change", note: "tapyrus units"), into: \.change),
        .reading(.string("colour_id", maxLength: 66), into: \.colourID),
    ])
    public var change: Int64 = 0
    public var colourID = ""
    public init() {}
}

/// `coin_selection:fee_info`: the fee the wallet paid and needed.
public struct FeeInfo: DeclaredEvent {
    public static let declaration = EventDeclaration<Self>("coin_selection", "fee_info", "the fee of the wallet's transaction", [
        .reading(.int64("fee_paid", note: "tapyrus units"), into: \.feePaid),
        .reading(.int64("fee_needed", note: "tapyrus units"), into: \.feeNeeded),
    ])
    public var feePaid: Int64 = 0
    public var feeNeeded: Int64 = 0
    public init() {}
}
