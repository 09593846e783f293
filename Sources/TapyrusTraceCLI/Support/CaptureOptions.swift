import ArgumentParser
import Foundation
import TraceHarness

/// The capture flags every command that attaches probes shares.
struct CaptureOptions: ParsableArguments {
    /// The variable that sets ``attach``'s default (for test runs).
    static let attachEnvironment = "TAPYRUS_TRACE_ATTACH"

    @Option(help: ArgumentHelp(
        "How to attach the probes: auto (one multi-uprobe link where the kernel has them), multi, or per-site (default: $\(attachEnvironment), else auto).",
        valueName: "mode"))
    var attach: AttachMode?

    @Option(help: ArgumentHelp(
        "Size of the ring buffer: a power of two of bytes, or with a K, M or G suffix, e.g. 16M (default: sized from what the probes can emit).",
        valueName: "size"))
    var ringBufferSize: String?

    func validate() throws {
        _ = try ringBufferBytes()
        _ = try attachMode()
    }

    /// The ring buffer size asked for, in bytes, or nil for the default.
    func ringBufferBytes() throws -> Int? {
        guard let ringBufferSize else { return nil }
        guard let bytes = RingBufferSize(argument: ringBufferSize)?.bytes else {
            throw ValidationError("--ring-buffer-size '\(ringBufferSize)' is not a size: write bytes, or a number with K, M or G")
        }
        guard bytes & (bytes - 1) == 0, bytes >= 4096 else {
            throw ValidationError("--ring-buffer-size \(bytes) is not a power of two of at least 4096 bytes")
        }
        return bytes
    }

    /// The attach mode asked for: the flag, else the environment, else auto.
    func attachMode() throws -> AttachMode {
        if let attach { return attach }
        guard let value = ProcessInfo.processInfo.environment[Self.attachEnvironment], !value.isEmpty else { return .automatic }
        guard let mode = AttachMode(rawValue: value) else {
            throw ValidationError("\(Self.attachEnvironment)=\(value) is not one of \(AttachMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    /// Tracer options with these flags applied.
    func tracerOptions(capturesPayloads: Bool = true) throws -> Tracer.Options {
        var options = Tracer.Options()
        options.attachMode = try attachMode()
        options.ringBufferBytes = try ringBufferBytes()
        options.capturesPayloads = capturesPayloads
        return options
    }

    /// How a tracer captures, for the line a command prints when it starts:
    /// "through one multi-uprobe link, 4 MiB ring buffer".
    static func describe(_ tracer: Tracer) -> String {
        let sites = tracer.probes.reduce(0) { $0 + $1.sites.count }
        var text = "through \(tracer.attachMode.phrase(sites: sites)), \(RingBufferSize(bytes: tracer.ringBufferBytes)) ring buffer"
        if tracer.largestPayload > 0 {
            text += " (holds a \(RingBufferSize(bytes: tracer.largestPayload)) message whole)"
        }
        return text
    }
}

extension AttachMode: ExpressibleByArgument {}

/// A ring buffer size in bytes, written as a number with an optional K, M or G suffix
/// (powers of 1024).
struct RingBufferSize: CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        var text = Substring(argument.uppercased())
        if text.hasSuffix("IB") { text = text.dropLast(2) } else if text.hasSuffix("B") { text = text.dropLast() }
        var multiplier = 1
        if let unit = text.last, let power = ["K": 10, "M": 20, "G": 30][unit] {
            multiplier = 1 << power
            text = text.dropLast()
        }
        guard let value = Int(text), value > 0, value <= (1 << 40) / multiplier else { return nil }
        bytes = value * multiplier
    }

    var description: String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
