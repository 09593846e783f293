import Foundation
import Testing
@testable import TraceHarness

@Suite("Hashes in display form")
struct HashTests {
    static let displayed = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"

    @Test("a hash parsed from its display form prints the same, with its bytes stored reversed")
    func hashRoundTrip() throws {
        let hash = try #require(Hash256(hex: Self.displayed))
        #expect(hash.hex == Self.displayed)
        #expect(hash.description == Self.displayed)
        #expect(hash.bytes.count == 32)
        #expect(hash.bytes.first == 0x6f)
        #expect(hash.bytes.last == 0x00)
        #expect(Hash256(bytes: hash.bytes) == hash)
    }

    @Test("upper-case hex parses and prints lower-case")
    func upperCase() throws {
        let hash = try #require(Hash256(hex: Self.displayed.uppercased()))
        #expect(hash.hex == Self.displayed)
    }

    @Test("hex of the wrong length or with a non-hex digit is not a hash",
          arguments: ["", "00", String(displayed.dropLast()), displayed + "00", "0x" + String(displayed.dropFirst(2)),
                      String(displayed.dropLast()) + "g", String(repeating: " ", count: 64)])
    func invalidHash(text: String) {
        #expect(Hash256(hex: text) == nil)
    }

    @Test("hashes encode as their display string and refuse to decode from anything else")
    func hashCodable() throws {
        let hash = try #require(Hash256(hex: Self.displayed))
        let data = try JSONEncoder().encode([hash])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(Self.displayed)\"]")
        #expect(try JSONDecoder().decode([Hash256].self, from: data) == [hash])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Hash256].self, from: Data("[\"abcd\"]".utf8)) }
    }
}

@Suite("Event formatting")
struct EventFormattingTests {
    /// 2023-11-14T22:13:20.25Z
    static let date = Date(timeIntervalSince1970: 1_700_000_000.25)
    static let hash = Hash256(bytes: (0..<32).map { UInt8($0) })

    static let event = TraceEvent(
        probe: ProbeName(provider: "net", name: "inbound_message"),
        tracepoint: InboundMessage.tracepoint,
        monotonicNanoseconds: 123_456_789,
        date: date,
        pid: 4242,
        tid: 4243,
        fields: [
            NamedValue(name: "peer_id", value: .signed(-7)),
            NamedValue(name: "peer_address", value: .string("[::1]:2357", truncated: false)),
            NamedValue(name: "message_type", value: .string("ver\"si\\on\n\u{01}", truncated: true)),
            NamedValue(name: "message_size", value: .unsigned(10)),
            NamedValue(name: "message", value: .payload(Payload(bytes: [0xde, 0xad, 0xbe, 0xef], declaredLength: 10))),
            NamedValue(name: "hash", value: .hash(hash)),
            NamedValue(name: "bad", value: .unreadable(address: 0xdead)),
            NamedValue(name: "flag", value: .bool(true)),
            NamedValue(name: "raw", value: .raw(value: UInt64(bitPattern: -3), size: 4, signed: true, pointee: [0xab, 0x01])),
        ])

    static func parse(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test("JSON strings escape quotes, backslashes, newlines, tabs and control characters")
    func jsonEscaping() {
        #expect(EventFormatter.jsonString("plain") == "\"plain\"")
        #expect(EventFormatter.jsonString("say \"hi\"") == #""say \"hi\"""#)
        #expect(EventFormatter.jsonString(#"C:\dir"#) == #""C:\\dir""#)
        #expect(EventFormatter.jsonString("a\nb\rc\td") == #""a\nb\rc\td""#)
        #expect(EventFormatter.jsonString("\u{01}\u{1f}") == #""\u0001\u001f""#)
        #expect(EventFormatter.jsonString("\u{0}") == #""\u0000""#)
        #expect(EventFormatter.jsonString("é ✓ \u{7f}") == "\"é ✓ \u{7f}\"")
        #expect(EventFormatter.jsonString("") == "\"\"")
    }

    @Test("any string survives a JSON round trip through jsonString",
          arguments: ["", "\"", "\\", "\\\"", "line\nbreak", "\u{0}\u{1}\u{8}\u{c}\u{1b}", "tab\there", "emoji 🚀 é", "</script>"])
    func jsonRoundTrip(text: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(EventFormatter.jsonString(text).utf8), options: .fragmentsAllowed)
        #expect(parsed as? String == text)
    }

    @Test("an event's JSON parses back with its time, probe and every field's value")
    func eventJSON() throws {
        let json = EventFormatter(payloadHexLimit: nil).json(for: Self.event)
        #expect(!json.contains("\n"), "one line")
        let object = try Self.parse(json)
        #expect(object["time"] as? String == "2023-11-14T22:13:20.250000Z")
        #expect(object["monotonic_ns"] as? Int == 123_456_789)
        #expect(object["pid"] as? Int == 4242)
        #expect(object["tid"] as? Int == 4243)
        #expect(object["probe"] as? String == "net:inbound_message")
        let fields = try #require(object["fields"] as? [String: Any])
        #expect(Set(fields.keys) == Set(Self.event.fields.map(\.name)))
        #expect(fields["peer_id"] as? Int == -7)
        #expect(fields["peer_address"] as? String == "[::1]:2357")
        let messageType = try #require(fields["message_type"] as? [String: Any])
        #expect(messageType["text"] as? String == "ver\"si\\on\n\u{01}")
        #expect(messageType["truncated"] as? Bool == true)
        #expect(fields["message_size"] as? Int == 10)
        let message = try #require(fields["message"] as? [String: Any])
        #expect(message["length"] as? Int == 10)
        #expect(message["received"] as? Int == 4)
        #expect(message["complete"] as? Bool == false)
        #expect(message["hex"] as? String == "deadbeef")
        #expect(fields["hash"] as? String == Self.hash.hex)
        let bad = try #require(fields["bad"] as? [String: Any])
        #expect(bad["unreadable"] as? Int == 0xdead)
        #expect(fields["flag"] as? Bool == true)
        let raw = try #require(fields["raw"] as? [String: Any])
        #expect(raw["value"] as? Int == -3)
        #expect(raw["size"] as? Int == 4)
        #expect(raw["signed"] as? Bool == true)
        #expect(raw["pointee"] as? String == "ab01")
    }

    @Test("payload hex is left out by default and limited when a limit is set")
    func payloadHexLimit() throws {
        let hidden = try #require(try Self.parse(EventFormatter().json(for: Self.event))["fields"] as? [String: Any])
        let hiddenMessage = try #require(hidden["message"] as? [String: Any])
        #expect(hiddenMessage["hex"] == nil)
        #expect(hiddenMessage["received"] as? Int == 4)

        let limited = try #require(try Self.parse(EventFormatter(payloadHexLimit: 2).json(for: Self.event))["fields"] as? [String: Any])
        #expect((limited["message"] as? [String: Any])?["hex"] as? String == "dead")
    }

    @Test("a complete payload is marked complete in JSON and in the readable form")
    func completePayload() {
        let payload = FieldValue.payload(Payload(bytes: [1, 2, 3], declaredLength: 3))
        let formatter = EventFormatter(payloadHexLimit: nil)
        #expect(formatter.json(payload) == #"{"length":3,"received":3,"complete":true,"hex":"010203"}"#)
        #expect(formatter.readable(payload) == "<3 bytes, complete> 010203")
        #expect(EventFormatter().readable(payload) == "<3 bytes, complete>")
        let cut = FieldValue.payload(Payload(bytes: [1], declaredLength: 3))
        #expect(EventFormatter().readable(cut) == "<3 bytes, INCOMPLETE: 1 of 3 bytes read>")
    }

    @Test("the readable line has time, pid/tid padded to 15 characters (the probe column aligned), probe and name=value pairs")
    func readableLine() {
        let line = EventFormatter().line(for: Self.event)
        #expect(line.hasPrefix("22:13:20.250000 4242/4243       net:inbound_message peer_id=-7 peer_address=\"[::1]:2357\" "))
        var longer = Self.event
        longer.pid = 4_194_303
        longer.tid = 4_194_304
        #expect(EventFormatter().line(for: longer).hasPrefix("22:13:20.250000 4194303/4194304 net:inbound_message "))
        #expect(line.contains("message_size=10 "))
        #expect(line.contains("(truncated)"))
        #expect(line.contains("hash=\(Self.hash.hex)"))
        #expect(line.contains("bad=<unreadable 0xdead>"))
        #expect(line.contains("flag=true"))
        #expect(line.hasSuffix("raw=-3(->ab01)"))
    }

    @Test("a readable line stays on one line when a string value holds a newline")
    func readableLineIsOneLine() {
        let line = EventFormatter().line(for: Self.event)
        #expect(!line.contains("\n"))
    }
}
