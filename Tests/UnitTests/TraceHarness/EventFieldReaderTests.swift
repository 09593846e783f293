import Foundation
import Testing
@testable import TraceHarness

@Suite("Typed events read their fields by the slot the declaration gave them")
struct EventFieldReaderTests {
    static func event(_ tracepoint: Tracepoint, _ values: [FieldValue], names: [String]? = nil) -> TraceEvent {
        let names = names ?? tracepoint.fields.map(\.name)
        return TraceEvent(probe: tracepoint.probe, tracepoint: tracepoint, monotonicNanoseconds: 1, date: Date(timeIntervalSince1970: 0),
                          pid: 1, tid: 1, fields: zip(names, values).map { NamedValue(name: $0, value: $1) })
    }

    static let hash = Hash256(bytes: Array(0..<32))

    @Test("block_connected decodes from its slots whatever the fields are called: no name is looked up")
    func bySlot() throws {
        let values: [FieldValue] = [.hash(Self.hash), .signed(7), .unsigned(3), .signed(4), .signed(12), .signed(250)]
        let renamed = Self.event(BlockConnected.tracepoint, values, names: ["a", "b", "c", "d", "e", "f"])
        let block = try BlockConnected(renamed)
        #expect(block.hash == Self.hash)
        #expect(block.height == 7 && block.transactions == 3 && block.inputs == 4)
        #expect(block.sigops == 12 && block.durationMicroseconds == 250)
    }

    @Test("a value of the wrong kind is refused naming its slot's field; so is a wrong argument count")
    func refusals() {
        let values: [FieldValue] = [.hash(Self.hash), .signed(7), .string("three", truncated: false), .signed(4), .signed(12), .signed(250)]
        let wrongKind = #expect(throws: EventDecodingError.self) { try BlockConnected(Self.event(BlockConnected.tracepoint, values)) }
        #expect(wrongKind?.field == "transactions")
        #expect(wrongKind?.description.hasPrefix("validation:block_connected field transactions: expected an integer") == true)

        let short = Self.event(BlockConnected.tracepoint, Array(values.prefix(5)))
        let count = #expect(throws: EventDecodingError.self) { try BlockConnected(short) }
        #expect(count?.reason == "5 arguments arrived, the declaration has 6")

        let unreadable = [FieldValue.unreadable(address: 0x40)] + values.dropFirst()
        let fault = #expect(throws: EventDecodingError.self) { try BlockConnected(Self.event(BlockConnected.tracepoint, Array(unreadable))) }
        #expect(fault?.field == "hash")
        #expect(fault?.reason == "memory at 0x40 could not be read")
    }

    @Test("the shared P2P and coin fields read by slot too, 4- and 8-byte sizes alike")
    func sharedFields() throws {
        let payload = Payload(bytes: [1, 2, 3], declaredLength: 3)
        let message: [FieldValue] = [.signed(5), .string("127.0.0.1:1", truncated: false), .string("inbound", truncated: false),
                                     .string("ping", truncated: false), .unsigned(3), .payload(payload)]
        let inbound = try InboundMessage(Self.event(InboundMessage.tracepoint, message))
        #expect(inbound.peerID == 5 && inbound.messageType == "ping" && inbound.messageSize == 3 && inbound.message == payload)
        let outbound = try OutboundMessage(Self.event(OutboundMessage.tracepoint, message))
        #expect(outbound.peerAddress == "127.0.0.1:1" && outbound.connectionType == "inbound")

        let coin: [FieldValue] = [.string("ab", truncated: false), .unsigned(2), .string("TPC", truncated: false),
                                  .unsigned(9), .signed(50), .bool(true)]
        let added = try UTXOCacheAdd(Self.event(UTXOCacheAdd.tracepoint, coin))
        #expect(added.coin.txid == "ab" && added.coin.index == 2 && added.coin.colourID == "TPC")
        #expect(added.coin.height == 9 && added.coin.value == 50 && added.coin.isCoinbase)
    }
}
