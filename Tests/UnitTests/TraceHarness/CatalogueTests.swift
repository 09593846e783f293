import CBPFShim
import Testing
@testable import TraceHarness

@Suite("The tapyrusd tracepoint catalogue")
struct CatalogueTests {
    static let catalogue = TracepointCatalogue.tapyrusd

    static func tracepoint(_ text: String) throws -> Tracepoint {
        let probe = try #require(ProbeName(text))
        return try #require(catalogue[probe], "\(text) is catalogued")
    }

    static func field(_ probe: String, _ name: String) throws -> Field {
        let tracepoint = try tracepoint(probe)
        return try #require(tracepoint.fields.first { $0.name == name }, "\(probe) has \(name)")
    }

    /// A field's expected spec as `[-]N`.
    static func spec(_ probe: String, _ name: String) throws -> String {
        let spec = try field(probe, name).expectedSpec
        return (spec.isSigned ? "-" : "") + "\(spec.size)"
    }

    @Test("the catalogue declares exactly the 15 tapyrusd tracepoints, each once")
    func fifteenUnique() {
        let probes = Self.catalogue.tracepoints.map(\.probe)
        #expect(probes.count == 15)
        #expect(Set(probes).count == 15)
        #expect(Set(probes.map(\.description)) == [
            "net:inbound_message", "net:outbound_message",
            "validation:block_connected",
            "utxocache:utxocache_flush", "utxocache:utxocache_add", "utxocache:utxocache_spent", "utxocache:utxocache_uncache",
            "mempool:added", "mempool:removed", "mempool:replaced", "mempool:rejected",
            "coin_selection:coins_requested", "coin_selection:selected_coins", "coin_selection:change_info", "coin_selection:fee_info",
        ])
    }

    @Test("every tracepoint is found by its probe name; an unknown name is not")
    func lookup() {
        for tracepoint in Self.catalogue.tracepoints {
            #expect(Self.catalogue[tracepoint.probe] == tracepoint)
        }
        #expect(Self.catalogue[ProbeName(provider: "net", name: "nonexistent")] == nil)
    }

    @Test("field names are unique within each tracepoint and no tracepoint exceeds TT_MAX_ARGS")
    func fieldNames() {
        for tracepoint in Self.catalogue.tracepoints {
            let names = tracepoint.fields.map(\.name)
            #expect(Set(names).count == names.count, "\(tracepoint.probe)")
            #expect(!names.isEmpty, "\(tracepoint.probe)")
            #expect(names.count <= Int(TT_MAX_ARGS), "\(tracepoint.probe)")
        }
    }

    @Test("every catalogued tracepoint builds a capture layout", arguments: TracepointCatalogue.tapyrusd.tracepoints)
    func layoutBuilds(tracepoint: Tracepoint) throws {
        let layout = try CaptureLayout(tracepoint: tracepoint)
        #expect(layout.names == tracepoint.fields.map(\.name))
        #expect(layout.slots.count == tracepoint.fields.count)
        #expect(layout.abi.arg_count == UInt32(tracepoint.fields.count))
    }

    @Test("declared specs: message sizes, heights, bools, pointers")
    func expectedSpecs() throws {
        #expect(try Self.spec("net:inbound_message", "message_size") == "4")
        #expect(try Self.spec("net:outbound_message", "message_size") == "8")
        #expect(try Self.spec("net:inbound_message", "peer_id") == "-8")
        #expect(try Self.spec("validation:block_connected", "height") == "-4")
        #expect(try Self.spec("validation:block_connected", "transactions") == "8")
        #expect(try Self.spec("utxocache:utxocache_flush", "for_prune") == "1")
        #expect(try Self.spec("utxocache:utxocache_flush", "mode") == "4")
        #expect(try Self.spec("utxocache:utxocache_add", "index") == "4")
        #expect(try Self.spec("mempool:replaced", "replaced_size") == "-4")
        #expect(try Self.spec("mempool:replaced", "replacement_size") == "4")
        // Strings, hashes and payloads are passed as pointers.
        #expect(try Self.spec("net:inbound_message", "peer_address") == "8")
        #expect(try Self.spec("validation:block_connected", "hash") == "8")
        #expect(try Self.spec("net:inbound_message", "message") == "8")
    }

    @Test("the message payloads take their length from message_size")
    func payloadLength() throws {
        for probe in ["net:inbound_message", "net:outbound_message"] {
            let tracepoint = try Self.tracepoint(probe)
            let message = try Self.field(probe, "message")
            guard case .payload(let lengthField, let maxLength) = message.kind else {
                Issue.record("\(probe) message is \(message.kind)")
                continue
            }
            #expect(lengthField == "message_size")
            #expect(maxLength == 0x0200_0000)
            #expect(tracepoint.index(of: "message_size") == 4)
            let layout = try CaptureLayout(tracepoint: tracepoint)
            #expect(layout.slots[5] == .payload(lengthArgument: 4, maxLength: 0x0200_0000))
        }
    }

    @Test("layouts whose items fit 32 bytes below offset 32 use the small record",
          arguments: ["validation:block_connected", "mempool:added", "coin_selection:fee_info", "utxocache:utxocache_flush"])
    func smallRecord(probe: String) throws {
        let layout = try CaptureLayout(tracepoint: try Self.tracepoint(probe))
        #expect(layout.usesSmallRecord)
        #expect(layout.abi.flags & TT_LAYOUT_SMALL_RECORD != 0)
    }

    @Test("layouts with longer strings or items past offset 32 use the large record",
          arguments: ["net:inbound_message", "net:outbound_message", "utxocache:utxocache_add", "utxocache:utxocache_spent",
                      "utxocache:utxocache_uncache", "mempool:removed", "mempool:replaced", "mempool:rejected",
                      "coin_selection:coins_requested", "coin_selection:selected_coins", "coin_selection:change_info"])
    func largeRecord(probe: String) throws {
        let layout = try CaptureLayout(tracepoint: try Self.tracepoint(probe))
        #expect(!layout.usesSmallRecord)
        #expect(layout.abi.flags & TT_LAYOUT_SMALL_RECORD == 0)
    }

    @Test("strings get their declared length plus two bytes, packed one after another in the data area")
    func inboundLayout() throws {
        let layout = try CaptureLayout(tracepoint: try Self.tracepoint("net:inbound_message"))
        #expect(layout.slots == [
            .integer(bytes: 8, signed: true),
            .string(offset: 0, capacity: 129),
            .string(offset: 129, capacity: 33),
            .string(offset: 162, capacity: 33),
            .integer(bytes: 4, signed: false),
            .payload(lengthArgument: 4, maxLength: 0x0200_0000),
        ])
        let abi = layout.abi
        let args = withUnsafeBytes(of: abi.args) { Array($0.bindMemory(to: tt_arg_layout.self)) }
        #expect(args[1].kind == UInt8(TT_ARG_CSTRING.rawValue))
        #expect(args[1].offset == 0)
        #expect(args[1].max_length == 129)
        #expect(args[3].offset == 162)
        #expect(args[4].kind == UInt8(TT_ARG_SCALAR.rawValue))
        #expect(args[5].kind == UInt8(TT_ARG_PAYLOAD.rawValue))
        #expect(args[5].length_arg == 4)
        #expect(args[5].max_length == 0x0200_0000)
    }

    @Test("hashes take 32 bytes: mempool:replaced places its two txids at 0 and 32")
    func hashLayout() throws {
        let layout = try CaptureLayout(tracepoint: try Self.tracepoint("mempool:replaced"))
        #expect(layout.slots[0] == .hash(offset: 0))
        #expect(layout.slots[4] == .hash(offset: 32))
        let args = withUnsafeBytes(of: layout.abi.args) { Array($0.bindMemory(to: tt_arg_layout.self)) }
        #expect(args[4].kind == UInt8(TT_ARG_BYTES.rawValue))
        #expect(args[4].offset == 32)
        #expect(args[4].max_length == 32)
    }

    @Test("every typed event's declaration is the catalogue's")
    func typedEventsMatch() {
        let types: [any CataloguedEvent.Type] = [
            InboundMessage.self, OutboundMessage.self, BlockConnected.self, UTXOCacheFlush.self, UTXOCacheAdd.self,
            UTXOCacheSpent.self, UTXOCacheUncache.self, MempoolAdded.self, MempoolRemoved.self, MempoolReplaced.self,
            MempoolRejected.self, CoinsRequested.self, SelectedCoins.self, ChangeInfo.self, FeeInfo.self,
        ]
        #expect(types.map { $0.tracepoint } == Self.catalogue.tracepoints)
    }
}

@Suite("Capture layouts the eBPF program cannot follow")
struct CaptureLayoutErrorTests {
    static func probe(_ fields: [Field]) -> Tracepoint {
        Tracepoint("test", "probe", "a test probe", fields: fields)
    }

    @Test("more than TT_MAX_ARGS arguments")
    func tooManyArguments() {
        let fields = (0...Int(TT_MAX_ARGS)).map { Field.int64("a\($0)") }
        let error = #expect(throws: CaptureLayoutError.self) { try CaptureLayout(tracepoint: Self.probe(fields)) }
        #expect(error?.reason == "more than 12 arguments")
        #expect(error?.description == "cannot capture test:probe: more than 12 arguments")
        #expect(throws: CaptureLayoutError.self) {
            try CaptureLayout(rawArguments: Array(repeating: try ArgumentSpec(parsing: "8@%rax"), count: 13), probe: ProbeName(provider: "t", name: "p"))
        }
    }

    @Test("a payload naming a length field that does not exist")
    func unknownLengthField() {
        let error = #expect(throws: CaptureLayoutError.self) {
            try CaptureLayout(tracepoint: Self.probe([.payload("message", lengthField: "size", maxLength: 100)]))
        }
        #expect(error?.reason.contains("size") == true)
    }

    @Test("two payloads")
    func twoPayloads() {
        let error = #expect(throws: CaptureLayoutError.self) {
            try CaptureLayout(tracepoint: Self.probe([
                .uint64("size"), .payload("a", lengthField: "size", maxLength: 100), .payload("b", lengthField: "size", maxLength: 100),
            ]))
        }
        #expect(error?.reason == "at most one payload argument is supported")
    }

    @Test("a string longer than one data item, and strings that overflow the data area")
    func dataArea() throws {
        let long = #expect(throws: CaptureLayoutError.self) {
            try CaptureLayout(tracepoint: Self.probe([.string("s", maxLength: 255)]))
        }
        #expect(long?.reason.contains("257") == true)

        // 254 + 2 bytes fill one item; nothing may start at offset 256.
        let fits = try CaptureLayout(tracepoint: Self.probe([.string("a", maxLength: 254)]))
        #expect(fits.slots == [.string(offset: 0, capacity: 256)])
        #expect(throws: CaptureLayoutError.self) {
            try CaptureLayout(tracepoint: Self.probe([.string("a", maxLength: 254), .hash256("h")]))
        }
        let lastBelowLimit = try CaptureLayout(tracepoint: Self.probe([.string("a", maxLength: 253), .string("b", maxLength: 254)]))
        #expect(lastBelowLimit.slots == [.string(offset: 0, capacity: 255), .string(offset: 255, capacity: 256)])
    }

    @Test("raw layouts read pointee bytes only at unsigned 8-byte arguments")
    func rawLayout() throws {
        let specs = try ["8@%rax", "-8@%rbx", "4@%ecx", "8@(%rsp)"].map { try ArgumentSpec(parsing: $0) }
        let layout = try CaptureLayout(rawArguments: specs, probe: ProbeName(provider: "t", name: "p"), pointeeBytes: 16)
        #expect(layout.names == ["arg0", "arg1", "arg2", "arg3"])
        #expect(layout.slots == [
            .raw(bytes: 8, signed: false, offset: 0, pointee: 16),
            .raw(bytes: 8, signed: true, offset: 0, pointee: 0),
            .raw(bytes: 4, signed: false, offset: 0, pointee: 0),
            .raw(bytes: 8, signed: false, offset: 16, pointee: 16),
        ])
        #expect(layout.usesSmallRecord)

        let plain = try CaptureLayout(rawArguments: specs, probe: ProbeName(provider: "t", name: "p"))
        #expect(plain.slots.allSatisfy { if case .raw(_, _, _, 0) = $0 { true } else { false } })
    }
}
