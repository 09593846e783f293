import Foundation
import TapyrusEncoding
import Testing
import TraceHarness

/// A JSON value with integers kept exact (UInt64 and Int64 alike).
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case signed(Int64), unsigned(UInt64), double(Double), string(String), bool(Bool)
    case object([String: JSONValue]), array([JSONValue]), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .signed(value) }
        else if let value = try? container.decode(UInt64.self) { self = .unsigned(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
        else { self = .array(try container.decode([JSONValue].self)) }
    }

    var description: String {
        switch self {
        case .signed(let v): "\(v)"
        case .unsigned(let v): "\(v)"
        case .double(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .bool(let v): "\(v)"
        case .object(let v): "\(v)"
        case .array(let v): "\(v)"
        case .null: "null"
        }
    }
}

/// One line the fixture printed.
struct FixtureLine: CustomStringConvertible {
    enum Kind {
        case fired(probe: ProbeName, fields: [String: JSONValue])
        case ready(Int32)
        case done
        case other([String: JSONValue])
    }

    var kind: Kind
    var text: String
    var description: String { text }

    init(parsing text: String) throws {
        self.text = text
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        if case .string(let probe)? = object["probe"], case .object(let fields)? = object["fields"], let name = ProbeName(probe) {
            kind = .fired(probe: name, fields: fields)
        } else if case .signed(let pid)? = object["ready"] {
            kind = .ready(Int32(pid))
        } else if object["done"] != nil {
            kind = .done
        } else {
            kind = .other(object)
        }
    }

    var probe: ProbeName? {
        if case .fired(let probe, _) = kind { return probe }
        return nil
    }
}

/// The bytes of a fixture payload: byte i is (i*131 + seed) & 0xff.
func fixturePayload(length: Int, seed: Int) -> [UInt8] {
    (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed) }
}

/// Checks that a decoded event carries exactly what the fixture fired.
func expectEvent(_ event: TraceEvent, matches line: FixtureLine, sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .fired(let probe, let fields) = line.kind else {
        Issue.record("not a fired line: \(line)", sourceLocation: sourceLocation)
        return
    }
    #expect(event.probe == probe, sourceLocation: sourceLocation)
    #expect(event.fields.count == fields.count, "field count of \(probe)", sourceLocation: sourceLocation)
    for (name, expected) in fields {
        guard let actual = event[name] else {
            Issue.record("\(probe): no field \(name)", sourceLocation: sourceLocation)
            continue
        }
        let declared = event.tracepoint?.fields.first { $0.name == name }
        switch (actual, expected) {
        case (.signed(let a), .signed(let e)):
            #expect(a == e, "\(probe).\(name)", sourceLocation: sourceLocation)
        case (.unsigned(let a), .signed(let e)):
            #expect(e >= 0 && a == UInt64(e), "\(probe).\(name): \(a) vs \(e)", sourceLocation: sourceLocation)
        case (.unsigned(let a), .unsigned(let e)):
            #expect(a == e, "\(probe).\(name)", sourceLocation: sourceLocation)
        case (.bool(let a), .bool(let e)):
            #expect(a == e, "\(probe).\(name)", sourceLocation: sourceLocation)
        case (.string(let a, let truncated), .string(let e)):
            if case .string(let maxLength)? = declared?.kind, e.utf8.count > maxLength {
                #expect(truncated, "\(probe).\(name) should be marked truncated", sourceLocation: sourceLocation)
                #expect(e.hasPrefix(a) && a.utf8.count == maxLength + 1, "\(probe).\(name): \(a)", sourceLocation: sourceLocation)
            } else {
                #expect(a == e, "\(probe).\(name)", sourceLocation: sourceLocation)
                #expect(!truncated, "\(probe).\(name) wrongly marked truncated", sourceLocation: sourceLocation)
            }
        case (.hash(let a), .string(let e)):
            #expect(a.bytes.hexString == e, "\(probe).\(name)", sourceLocation: sourceLocation)
        case (.payload(let a), .object(let e)):
            guard case .signed(let length)? = e["length"], case .signed(let seed)? = e["seed"] else {
                Issue.record("bad payload expectation \(e)", sourceLocation: sourceLocation)
                continue
            }
            #expect(a.declaredLength == UInt64(length), "\(probe).\(name) length", sourceLocation: sourceLocation)
            #expect(a.isComplete, "\(probe).\(name) incomplete: \(a.bytes.count) of \(a.declaredLength)", sourceLocation: sourceLocation)
            #expect(a.bytes == fixturePayload(length: Int(length), seed: Int(seed)), "\(probe).\(name) bytes", sourceLocation: sourceLocation)
        case (.raw(let value, _, let signed, _), .signed(let e)):
            #expect(signed ? Int64(bitPattern: value) == e : value == UInt64(bitPattern: e), "\(probe).\(name): \(value) vs \(e)", sourceLocation: sourceLocation)
        case (.raw(let value, _, _, _), .unsigned(let e)):
            #expect(value == e, "\(probe).\(name)", sourceLocation: sourceLocation)
        default:
            Issue.record("\(probe).\(name): decoded \(actual), fixture passed \(expected)", sourceLocation: sourceLocation)
        }
    }
}

/// Collects `count` events from a stream, or fails after `timeout`.
func collect(_ count: Int, from stream: AsyncStream<TraceEvent>, timeout: Duration = .seconds(10)) async throws -> [TraceEvent] {
    try await withThrowingTaskGroup(of: [TraceEvent].self) { group in
        group.addTask {
            var events: [TraceEvent] = []
            for await event in stream {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw FixtureError("timed out waiting for \(count) events")
        }
        let events = try await group.next() ?? []
        group.cancelAll()
        return events
    }
}
