import CBPFShim
import Testing
@testable import TraceHarness

@Suite("Decoding ring-buffer records into events")
struct RecordDecoderTests {
    typealias Argument = RecordBuilder.Argument

    // MARK: integers

    @Test("integers are cut to their declared width and extended by their declared sign", arguments: [
        (UInt64(0xff), 1, true, FieldValue.signed(-1)),
        (0x7f, 1, true, .signed(127)),
        (0x80, 1, true, .signed(-128)),
        (0x1234_5601, 1, true, .signed(1)),
        (0xff, 1, false, .unsigned(255)),
        (0xfffe, 2, true, .signed(-2)),
        (0x8000, 2, true, .signed(-32768)),
        (0xdead_8000, 2, false, .unsigned(0x8000)),
        (0xffff_ffd6, 4, true, .signed(-42)),
        (0x8000_0000, 4, true, .signed(Int64(Int32.min))),
        (0x7fff_ffff, 4, true, .signed(Int64(Int32.max))),
        (0xdead_beef_0000_0005, 4, false, .unsigned(5)),
        (0xdead_beef_ffff_ffff, 4, true, .signed(-1)),
        (UInt64.max, 8, true, .signed(-1)),
        (UInt64.max, 8, false, .unsigned(UInt64.max)),
        (0x8000_0000_0000_0000, 8, true, .signed(Int64.min)),
    ] as [(UInt64, Int, Bool, FieldValue)])
    func integerWidths(raw: UInt64, bytes: Int, signed: Bool, expected: FieldValue) {
        #expect(RecordDecoder.integer(raw, bytes: bytes, signed: signed) == expected)
    }

    static let integers = Tracepoint("test", "integers", "every integer width", fields: [
        Field("i8", .integer(bytes: 1, signed: true)),
        Field("i16", .integer(bytes: 2, signed: true)),
        .int32("i32"),
        .uint32("u32"),
        Field("u8", .integer(bytes: 1, signed: false)),
        .int64("i64"),
        .bool("yes"),
        .bool("no"),
        .bool("high_byte_only"),
    ])

    @Test("an event of integers and bools decodes with sign extension, pid, tid and time")
    func integerEvent() throws {
        var decoder = try RecordDecoder.forTracepoints([Self.integers], offset: 1_700_000_000)
        let layout = try CaptureLayout(tracepoint: Self.integers)
        #expect(layout.usesSmallRecord)
        let record = RecordBuilder.event(
            cookie: 0, sequence: 1, small: true, timestamp: 1_500_000_000, pid: 0xffff_fffe, tid: 77,
            arguments: [
                Argument(value: 0xffff_ff80), Argument(value: 0xffff), Argument(value: 0xffff_ffd6),
                Argument(value: 0xffff_ffff), Argument(value: 0x1ff), Argument(value: 0x8000_0000_0000_0000),
                Argument(value: 1), Argument(value: 0), Argument(value: 0x100),
            ])
        let event = try #require(try decoder.feed(record))
        #expect(event.probe == ProbeName(provider: "test", name: "integers"))
        #expect(event.tracepoint == Self.integers)
        #expect(event.pid == -2)
        #expect(event.tid == 77)
        #expect(event.monotonicNanoseconds == 1_500_000_000)
        #expect(event.date.timeIntervalSince1970 == 1.5 + 1_700_000_000)
        #expect(event.fields.map(\.name) == ["i8", "i16", "i32", "u32", "u8", "i64", "yes", "no", "high_byte_only"])
        #expect(event.fields.map(\.value) == [
            .signed(-128), .signed(-1), .signed(-42), .unsigned(0xffff_ffff), .unsigned(0xff), .signed(Int64.min),
            .bool(true), .bool(false), .bool(false),
        ])
        #expect(try event.int64("i32") == -42)
        #expect(try event.uint64("u32") == 0xffff_ffff)
        #expect(try event.bool("yes"))
        #expect(decoder.delivered == [1])
    }

    // MARK: strings

    static let strings = Tracepoint("test", "strings", "strings", fields: [
        .string("short", maxLength: 31),
        .string("empty", maxLength: 127),
        .string("cut", maxLength: 7),
        .string("bad", maxLength: 15),
        .string("unread", maxLength: 15),
    ])

    @Test("strings decode from the data area; a full one is marked truncated, a faulted one is unreadable")
    func stringEvent() throws {
        var decoder = try RecordDecoder.forTracepoints([Self.strings])
        let layout = try CaptureLayout(tracepoint: Self.strings)
        #expect(!layout.usesSmallRecord)
        #expect(layout.slots == [
            .string(offset: 0, capacity: 33), .string(offset: 33, capacity: 129), .string(offset: 162, capacity: 9),
            .string(offset: 171, capacity: 17), .string(offset: 188, capacity: 17),
        ])
        // "cut" filled its 9-byte capacity: 8 characters and the NUL.
        let record = RecordBuilder.event(
            cookie: 0, sequence: 1, small: false,
            arguments: [
                Argument(value: 0x1000, length: 8),
                Argument(value: 0x2000, length: 1),
                Argument(value: 0x3000, length: 9, truncated: true),
                Argument(value: 0xdead_0000, faulted: true),
                Argument(value: 0x5000, length: 0),
            ],
            data: [
                (0, RecordBuilder.cString("héllo!")),
                (33, [0]),
                (162, RecordBuilder.cString("abcdefgh")),
                (171, Array("garbage".utf8)),
            ])
        let event = try #require(try decoder.feed(record))
        #expect(event["short"] == .string("héllo!", truncated: false))
        #expect(event["empty"] == .string("", truncated: false))
        guard case .string(let cut, let truncated) = event["cut"] else {
            Issue.record("cut is \(String(describing: event["cut"]))")
            return
        }
        #expect(truncated)
        #expect(cut.hasPrefix("abcdefg"))
        #expect(event.isTruncated("cut"))
        #expect(!event.isTruncated("short"))
        #expect(event["bad"] == .unreadable(address: 0xdead_0000))
        #expect(event["unread"] == .string("", truncated: false))
        #expect(try event.string("short") == "héllo!")
        let error = #expect(throws: EventDecodingError.self) { try event.string("bad") }
        #expect(error?.field == "bad")
        #expect(error?.reason.contains("0xdead0000") == true)
        #expect(error?.description.hasPrefix("test:strings field bad:") == true)
    }

    // MARK: hashes

    @Test("a hash decodes from the data area and displays byte-reversed; mempool:added's typed view reads it")
    func hashEvent() throws {
        var decoder = try RecordDecoder.forTracepoints([MempoolAdded.tracepoint])
        let memory = (0..<32).map { UInt8($0) }
        let record = RecordBuilder.event(
            cookie: 0, sequence: 9, small: true,
            arguments: [Argument(value: 0x7fff_1234, length: 32), Argument(value: 0xffff_ff9c), Argument(value: UInt64(bitPattern: -5000))],
            data: [(0, memory)])
        let event = try #require(try decoder.feed(record))
        #expect(event["txid"] == .hash(Hash256(bytes: memory)))
        let added = try #require(try event.as(MempoolAdded.self))
        #expect(added.txid.bytes == memory)
        #expect(added.txid.hex == "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100")
        #expect(added.size == -100)
        #expect(added.fee == -5000)
        #expect(try event.as(BlockConnected.self) == nil)
    }

    @Test("a faulted hash is unreadable and the typed view refuses it")
    func faultedHash() throws {
        var decoder = try RecordDecoder.forTracepoints([MempoolAdded.tracepoint])
        let record = RecordBuilder.event(
            cookie: 0, sequence: 1, small: true,
            arguments: [Argument(value: 0x10, faulted: true), Argument(value: 1), Argument(value: 2)])
        let event = try #require(try decoder.feed(record))
        #expect(event["txid"] == .unreadable(address: 0x10))
        #expect(throws: EventDecodingError.self) { try MempoolAdded(event) }
    }

    @Test("block_connected decodes from a small record into its typed view")
    func blockConnected() throws {
        var decoder = try RecordDecoder.forTracepoints([BlockConnected.tracepoint])
        let hash = (0..<32).map { UInt8(0xa0 &+ $0) }
        let record = RecordBuilder.event(
            cookie: 0, sequence: 1, small: true,
            arguments: [
                Argument(value: 0x1000, length: 32), Argument(value: 0xffff_ffff), Argument(value: 2500),
                Argument(value: 4000), Argument(value: 80_000), Argument(value: 1234),
            ],
            data: [(0, hash)])
        let block = try #require(try decoder.feed(record)?.as(BlockConnected.self))
        #expect(block.hash == Hash256(bytes: hash))
        #expect(block.height == -1)
        #expect(block.transactions == 2500)
        #expect(block.inputs == 4000)
        #expect(block.sigops == 80_000)
        #expect(block.durationMicroseconds == 1234)
    }

    // MARK: payloads

    static let message: [UInt8] = (0..<5352).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    static func inboundEvent(sequence: UInt64, size: UInt64, delivered: UInt64) -> [UInt8] {
        RecordBuilder.event(
            cookie: 0, sequence: sequence, small: false,
            arguments: [
                Argument(value: 7), Argument(value: 0x1000, length: 15), Argument(value: 0x2000, length: 8),
                Argument(value: 0x3000, length: 3), Argument(value: size), Argument(value: 0x4000),
            ],
            payloadDelivered: delivered,
            data: [(0, RecordBuilder.cString("127.0.0.1:2357")), (129, RecordBuilder.cString("inbound")), (162, RecordBuilder.cString("tx"))])
    }

    /// The message's chunks as the program sends them: 256, 4096, the rest.
    static func chunks(sequence: UInt64, of bytes: [UInt8] = message) -> [[UInt8]] {
        [
            RecordBuilder.chunk(cookie: 0, sequence: sequence, offset: 0, bytes: Array(bytes[0..<256]), total: UInt32(bytes.count)),
            RecordBuilder.chunk(cookie: 0, sequence: sequence, offset: 256, bytes: Array(bytes[256..<4352]), total: UInt32(bytes.count)),
            RecordBuilder.chunk(cookie: 0, sequence: sequence, offset: 4352, bytes: Array(bytes[4352...]), total: UInt32(bytes.count)),
        ]
    }

    @Test("a payload sent in three chunks (offsets 0, 256, 4352) is reassembled whole and complete")
    func payloadReassembled() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        for chunk in Self.chunks(sequence: 5) {
            #expect(try decoder.feed(chunk) == nil, "chunks alone make no event")
        }
        #expect(decoder.delivered == [0])
        let event = try #require(try decoder.feed(Self.inboundEvent(sequence: 5, size: 5352, delivered: 5352)))
        let message = try #require(try event.as(InboundMessage.self))
        #expect(message.message.bytes == Self.message)
        #expect(message.message.declaredLength == 5352)
        #expect(message.message.isComplete)
        #expect(message.messageSize == 5352)
        #expect(message.peerID == 7)
        #expect(message.peerAddress == "127.0.0.1:2357")
        #expect(message.connectionType == "inbound")
        #expect(message.messageType == "tx")
        #expect(decoder.delivered == [1])
    }

    @Test("a payload whose event reports fewer bytes delivered is cut there and incomplete")
    func payloadFewerDelivered() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        for chunk in Self.chunks(sequence: 5) { _ = try decoder.feed(chunk) }
        let event = try #require(try decoder.feed(Self.inboundEvent(sequence: 5, size: 5352, delivered: 4352)))
        let payload = try event.payload("message")
        #expect(payload.bytes == Array(Self.message[0..<4352]))
        #expect(payload.declaredLength == 5352)
        #expect(!payload.isComplete)
    }

    @Test("a lost middle chunk stops reassembly at the gap")
    func payloadGap() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        let chunks = Self.chunks(sequence: 5)
        _ = try decoder.feed(chunks[0])
        _ = try decoder.feed(chunks[2])
        let event = try #require(try decoder.feed(Self.inboundEvent(sequence: 5, size: 5352, delivered: 5352)))
        let payload = try event.payload("message")
        #expect(payload.bytes == Array(Self.message[0..<256]))
        #expect(!payload.isComplete)
    }

    @Test("an event without chunks has an empty payload, complete only when zero bytes were declared")
    func payloadAbsent() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        let empty = try #require(try decoder.feed(Self.inboundEvent(sequence: 1, size: 0, delivered: 0)))
        #expect(try empty.payload("message") == Payload(bytes: [], declaredLength: 0))
        #expect(try empty.payload("message").isComplete)
        let missing = try #require(try decoder.feed(Self.inboundEvent(sequence: 2, size: 24, delivered: 0)))
        #expect(try missing.payload("message").bytes.isEmpty)
        #expect(try !missing.payload("message").isComplete)
    }

    @Test("chunks of interleaved events are kept apart by sequence")
    func interleavedPayloads() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        let other: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: 255 - $0) }
        let first = Self.chunks(sequence: 10)
        _ = try decoder.feed(first[0])
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: 11, offset: 0, bytes: Array(other[0..<256])))
        _ = try decoder.feed(first[1])
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: 11, offset: 256, bytes: Array(other[256...])))
        _ = try decoder.feed(first[2])
        let second = try #require(try decoder.feed(Self.inboundEvent(sequence: 11, size: 300, delivered: 300)))
        let firstEvent = try #require(try decoder.feed(Self.inboundEvent(sequence: 10, size: 5352, delivered: 5352)))
        #expect(try second.payload("message").bytes == other)
        #expect(try firstEvent.payload("message").bytes == Self.message)
        #expect(decoder.delivered == [2])
        #expect(decoder.pendingPayloads == 0, "both events took their chunks")
    }

    @Test("chunks whose event was lost are dropped once a later event of the same site and CPU passes them by 1,024 hits")
    func orphanedChunks() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint])
        let otherCPU: UInt64 = 1 << 48
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: 1, offset: 0, bytes: [1, 2, 3]))
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: otherCPU | 1, offset: 0, bytes: [4, 5, 6]))
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: 1000, offset: 0, bytes: [7]))
        #expect(decoder.pendingPayloads == 3)
        _ = try #require(try decoder.feed(Self.inboundEvent(sequence: 1024, size: 0, delivered: 0)))
        #expect(decoder.pendingPayloads == 3, "hit 1 is within the margin of hit 1024")
        _ = try #require(try decoder.feed(Self.inboundEvent(sequence: 1026, size: 0, delivered: 0)))
        #expect(decoder.pendingPayloads == 2, "hit 1 is dropped; hit 1000 and the other CPU's hit 1 stay")
        let late = try #require(try decoder.feed(Self.inboundEvent(sequence: 1000, size: 1, delivered: 1)))
        #expect(try late.payload("message").bytes == [7], "a late event still finds its chunks")
        #expect(decoder.pendingPayloads == 1)
    }

    // MARK: bookkeeping and errors

    @Test("delivered counts events per cookie, not chunks")
    func deliveredPerCookie() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint, FeeInfo.tracepoint])
        #expect(decoder.delivered == [0, 0])
        let fee = RecordBuilder.event(cookie: 1, sequence: 1, small: true, arguments: [Argument(value: 500), Argument(value: 400)])
        let feeEvent = try #require(try decoder.feed(fee))
        #expect(try feeEvent.as(FeeInfo.self)?.feePaid == 500)
        _ = try decoder.feed(RecordBuilder.event(cookie: 1, sequence: 2, small: true, arguments: [Argument(), Argument()]))
        _ = try decoder.feed(RecordBuilder.chunk(cookie: 0, sequence: 1, offset: 0, bytes: [1]))
        #expect(decoder.delivered == [0, 2])
        _ = try decoder.feed(Self.inboundEvent(sequence: 1, size: 1, delivered: 1))
        #expect(decoder.delivered == [1, 2])
    }

    @Test("a record naming an unknown cookie is refused")
    func unknownSite() throws {
        var decoder = try RecordDecoder.forTracepoints([FeeInfo.tracepoint])
        #expect(throws: RecordDecoder.Failure.unknownSite(7)) {
            try decoder.feed(RecordBuilder.event(cookie: 7, sequence: 1, small: true, arguments: []))
        }
        #expect(throws: RecordDecoder.Failure.unknownSite(1)) {
            try decoder.feed(RecordBuilder.chunk(cookie: 1, sequence: 1, offset: 0, bytes: [1]))
        }
        #expect(decoder.delivered == [0])
    }

    @Test("a record of an unknown type is refused")
    func unknownType() throws {
        var decoder = try RecordDecoder.forTracepoints([FeeInfo.tracepoint])
        var record = RecordBuilder.event(cookie: 0, sequence: 1, small: true, arguments: [])
        record[0] = 9
        #expect(throws: RecordDecoder.Failure.unknownRecordType(9)) { try decoder.feed(record) }
    }

    @Test("records shorter than their header, their chunk or their event's data area are refused")
    func truncatedRecords() throws {
        var decoder = try RecordDecoder.forTracepoints([InboundMessage.tracepoint, FeeInfo.tracepoint])
        #expect(throws: RecordDecoder.Failure.truncatedRecord(size: 10)) { try decoder.feed([UInt8](repeating: 0, count: 10)) }

        let chunkHeaderSize = MemoryLayout<tt_chunk_header>.size
        let shortChunk = Array(RecordBuilder.chunk(cookie: 0, sequence: 1, offset: 0, bytes: []).prefix(chunkHeaderSize - 4))
        #expect(throws: RecordDecoder.Failure.truncatedRecord(size: chunkHeaderSize - 4)) { try decoder.feed(shortChunk) }

        let overlong = RecordBuilder.chunk(cookie: 0, sequence: 1, offset: 0, bytes: [UInt8](repeating: 1, count: 50), declaredLength: 100)
        #expect(throws: RecordDecoder.Failure.truncatedRecord(size: chunkHeaderSize + 50)) { try decoder.feed(overlong) }

        // A large-record event cut to the small record's size.
        let smallSize = MemoryLayout<tt_small_event_record>.size
        let cut = Array(Self.inboundEvent(sequence: 1, size: 0, delivered: 0).prefix(smallSize))
        #expect(throws: RecordDecoder.Failure.truncatedRecord(size: smallSize)) { try decoder.feed(cut) }

        let cutSmall = Array(RecordBuilder.event(cookie: 1, sequence: 1, small: true, arguments: [Argument(), Argument()]).prefix(smallSize - 1))
        #expect(throws: RecordDecoder.Failure.truncatedRecord(size: smallSize - 1)) { try decoder.feed(cutSmall) }
        #expect(decoder.delivered == [0, 0])
    }

    @Test("the record sizes match the ABI: 64- and 512-byte data areas after a shared fixed part")
    func recordSizes() {
        let dataOffset = MemoryLayout<tt_event_record>.offset(of: \tt_event_record.data)
        #expect(dataOffset == MemoryLayout<tt_small_event_record>.offset(of: \tt_small_event_record.data))
        #expect(MemoryLayout<tt_small_event_record>.size == (dataOffset ?? 0) + Int(TT_SMALL_DATA_SIZE))
        #expect(MemoryLayout<tt_event_record>.size == (dataOffset ?? 0) + Int(TT_DATA_SIZE))
        #expect(MemoryLayout<tt_record_header>.size == 24)
        #expect(MemoryLayout<tt_chunk_header>.size == 40)
    }

    // MARK: raw probes

    @Test("arguments of an uncatalogued probe decode raw, with the bytes they point at unless faulted")
    func rawArguments() throws {
        let specs = try ["8@%rax", "-4@$-42", "8@(%rsp)"].map { try ArgumentSpec(parsing: $0) }
        let probe = ProbeName(provider: "fixture", name: "raw")
        let layout = try CaptureLayout(rawArguments: specs, probe: probe, pointeeBytes: 4)
        var decoder = RecordDecoder(probes: [.init(name: probe, tracepoint: nil, layout: layout)], monotonicToEpochOffset: 0)
        let record = RecordBuilder.event(
            cookie: 0, sequence: 1, small: layout.usesSmallRecord,
            arguments: [Argument(value: 0x7fff_0000_1000, length: 4), Argument(value: 0xffff_ffd6), Argument(value: 0x2000, faulted: true)],
            data: [(0, [1, 2, 3, 4]), (4, [9, 9, 9, 9])])
        let event = try #require(try decoder.feed(record))
        #expect(event.tracepoint == nil)
        #expect(event.fields.map(\.name) == ["arg0", "arg1", "arg2"])
        #expect(event["arg0"] == .raw(value: 0x7fff_0000_1000, size: 8, signed: false, pointee: [1, 2, 3, 4]))
        #expect(event["arg1"] == .raw(value: UInt64(bitPattern: -42), size: 4, signed: true, pointee: nil))
        #expect(event["arg2"] == .raw(value: 0x2000, size: 8, signed: false, pointee: nil))
    }
}
