import Foundation
import TapyrusEncoding

/// Renders events as readable lines or as JSON objects (one per line).
public struct EventFormatter: Sendable {
    /// Payload bytes to show as hex, at most (0: only length and completeness;
    /// nil: all of them).
    public var payloadHexLimit: Int?

    public init(payloadHexLimit: Int? = 0) {
        self.payloadHexLimit = payloadHexLimit
    }

    /// One readable line: time, pid/tid, probe, then `name=value` pairs.
    public func line(for event: TraceEvent) -> String {
        let fields = event.fields.map { "\($0.name)=\(readable($0.value))" }.joined(separator: " ")
        // pid/tid padded to two 7-digit ids (pid_max is at most 4,194,304),
        // so the probe column stays aligned whichever process a line is of.
        let process = "\(event.pid)/\(event.tid)".padding(toLength: 15, withPad: " ", startingAt: 0)
        return "\(Self.time(event.date)) \(process) \(event.probe) \(fields)"
    }

    /// One JSON object, no newline.
    public func json(for event: TraceEvent) -> String {
        var out = "{\"time\":\(Self.jsonString(Self.isoTime(event.date))),\"monotonic_ns\":\(event.monotonicNanoseconds),\"pid\":\(event.pid),\"tid\":\(event.tid),\"probe\":\(Self.jsonString(event.probe.description)),\"fields\":{"
        out += event.fields.map { "\(Self.jsonString($0.name)):\(json($0.value))" }.joined(separator: ",")
        out += "}}"
        return out
    }

    private func hex(_ bytes: [UInt8]) -> String {
        guard let limit = payloadHexLimit else { return bytes.hexString }
        return Array(bytes.prefix(limit)).hexString
    }

    public func readable(_ value: FieldValue) -> String {
        switch value {
        case .signed(let number): return "\(number)"
        case .unsigned(let number): return "\(number)"
        case .bool(let flag): return "\(flag)"
        case .string(let text, let truncated): return Self.quoted(text) + (truncated ? "(truncated)" : "")
        case .hash(let hash): return hash.hex
        case .unreadable(let address): return "<unreadable 0x\(String(address, radix: 16))>"
        case .payload(let payload):
            let state = payload.isComplete ? "complete" : "INCOMPLETE: \(payload.bytes.count) of \(payload.declaredLength) bytes read"
            let shown = hex(payload.bytes)
            return shown.isEmpty ? "<\(payload.declaredLength) bytes, \(state)>" : "<\(payload.declaredLength) bytes, \(state)> \(shown)"
        case .raw(let number, _, let signed, let pointee):
            let text = signed ? "\(Int64(bitPattern: number))" : "\(number)"
            guard let pointee else { return text }
            return "\(text)(->\(pointee.hexString))"
        }
    }

    public func json(_ value: FieldValue) -> String {
        switch value {
        case .signed(let number): return "\(number)"
        case .unsigned(let number): return "\(number)"
        case .bool(let flag): return "\(flag)"
        case .string(let text, let truncated):
            return truncated ? "{\"text\":\(Self.jsonString(text)),\"truncated\":true}" : Self.jsonString(text)
        case .hash(let hash): return Self.jsonString(hash.hex)
        case .unreadable(let address): return "{\"unreadable\":\(address)}"
        case .payload(let payload):
            var out = "{\"length\":\(payload.declaredLength),\"received\":\(payload.bytes.count),\"complete\":\(payload.isComplete)"
            if payloadHexLimit != 0 { out += ",\"hex\":\(Self.jsonString(hex(payload.bytes)))" }
            return out + "}"
        case .raw(let number, let size, let signed, let pointee):
            var out = "{\"value\":\(signed ? "\(Int64(bitPattern: number))" : "\(number)"),\"size\":\(size),\"signed\":\(signed)"
            if let pointee { out += ",\"pointee\":\(Self.jsonString(pointee.hexString))" }
            return out + "}"
        }
    }

    /// A string in double quotes with quotes, backslashes and control
    /// characters escaped, so an event always stays on one line.
    static func quoted(_ text: String) -> String {
        jsonString(text)
    }

    /// A JSON string literal.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `HH:MM:SS.ffffff` in UTC, the time of a readable line.
    public static func time(_ date: Date) -> String {
        let (parts, micros) = utc(date)
        return String(format: "%02d:%02d:%02d.%06d", parts.tm_hour, parts.tm_min, parts.tm_sec, micros)
    }

    /// ISO 8601 with microseconds in UTC, the time of a JSON line.
    public static func isoTime(_ date: Date) -> String {
        let (parts, micros) = utc(date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, micros)
    }

    /// The calendar parts of `date` in UTC, and its microseconds.
    private static func utc(_ date: Date) -> (tm, Int) {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        return (parts, Int((seconds - whole) * 1_000_000))
    }
}
