import Foundation
import Testing
import TraceHarness

/// `--attach`, `TAPYRUS_TRACE_ATTACH` and `--ring-buffer-size` on the commands
/// that capture, run as processes.
@Suite("Capture flags of the command line", .serialized, .enabled(if: Fixture.isAvailable && CLI.path != nil, "\(Fixture.unavailableReason ?? "tapyrus-trace executable not built")"))
struct CaptureFlagsTests {
    /// Runs tapyrus-trace with `environment` added to this process's.
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Fixture.Output {
        guard let path = CLI.path else { throw FixtureError("tapyrus-trace was not built") }
        return try Fixture.run(path, arguments, environment: environment)
    }

    private let block = ["--probe", "validation:block_connected", "--duration", "0.2"]

    @Test("log says which way it attached: --attach per-site, --attach multi, and by default the kernel's best")
    func attachModes() throws {
        let copy = try Fixture.privateCopy()
        let perSite = try run(["log", copy, "--attach", "per-site"] + block)
        #expect(perSite.status == 0, "\(perSite.standardError)")
        #expect(perSite.standardError.contains("tracing 1 probes (2 sites) of \(copy) through 2 per-site uprobes, 4 MiB ring buffer; Ctrl-C to stop"))

        let automatic = try run(["log", copy] + block)
        #expect(automatic.status == 0)
        let expected = AttachMode.kernelHasMultiUprobe ? "through one multi-uprobe link" : "through 2 per-site uprobes"
        #expect(automatic.standardError.contains(expected))

        let multi = try run(["log", copy, "--attach", "multi"] + block)
        if AttachMode.kernelHasMultiUprobe {
            #expect(multi.status == 0)
            #expect(multi.standardError.contains("through one multi-uprobe link"))
        } else {
            #expect(multi.status != 0)
            #expect(multi.standardError.contains("cannot attach with multi: "))
        }
    }

    @Test("TAPYRUS_TRACE_ATTACH sets the default attach mode of log and of the tools; a bad value is one line")
    func attachEnvironment() throws {
        let copy = try Fixture.privateCopy()
        let logged = try run(["log", copy] + block, environment: ["TAPYRUS_TRACE_ATTACH": "per-site"])
        #expect(logged.status == 0)
        #expect(logged.standardError.contains("through 2 per-site uprobes"))

        let tool = try run(["flush-log", "--tapyrusd", copy, "--duration", "0.2"], environment: ["TAPYRUS_TRACE_ATTACH": "per-site"])
        #expect(tool.status == 0, "\(tool.standardError)")
        #expect(tool.standardError.contains("through 1 per-site uprobe, 4 MiB ring buffer"))

        let overridden = try run(["log", copy, "--attach", "auto"] + block, environment: ["TAPYRUS_TRACE_ATTACH": "per-site"])
        #expect(!overridden.standardError.contains("per-site uprobes") || !AttachMode.kernelHasMultiUprobe, "the flag wins")

        let bad = try run(["log", copy] + block, environment: ["TAPYRUS_TRACE_ATTACH": "sideways"])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("TAPYRUS_TRACE_ATTACH=sideways is not one of auto, multi, per-site"))
        #expect(bad.standardError.split(separator: "\n").count <= 3)
    }

    @Test("--ring-buffer-size sets the ring in bytes or with a K, M or G suffix; tools without payloads get an event-sized ring, raw-p2p one for a whole message")
    func ringBufferSize() throws {
        let copy = try Fixture.privateCopy()
        let mebibyte = try run(["log", copy, "--ring-buffer-size", "1M"] + block)
        #expect(mebibyte.status == 0)
        #expect(mebibyte.standardError.contains(", 1 MiB ring buffer; Ctrl-C"))
        let bytes = try run(["log", copy, "--ring-buffer-size", "\(64 << 10)"] + block)
        #expect(bytes.standardError.contains(", 64 KiB ring buffer; Ctrl-C"))

        let everything = try run(["log", copy, "--duration", "0.2"])
        #expect(everything.standardError.contains(", 64 MiB ring buffer (holds a 32 MiB message whole); Ctrl-C"))
        let p2p = try run(["p2p-log", "--tapyrusd", copy, "--duration", "0.2"])
        #expect(p2p.status == 0, "\(p2p.standardError)")
        #expect(p2p.standardError.contains(", 4 MiB ring buffer; Ctrl-C"), "p2p-log reads no payloads")
        let raw = try run(["raw-p2p", "--tapyrusd", copy, "--duration", "0.2"])
        #expect(raw.standardError.contains(", 64 MiB ring buffer (holds a 32 MiB message whole); Ctrl-C"))
        let sized = try run(["p2p-log", "--tapyrusd", copy, "--duration", "0.2", "--ring-buffer-size", "2M"])
        #expect(sized.standardError.contains(", 2 MiB ring buffer; Ctrl-C"))
    }

    @Test("a ring buffer size that is no power of two, too small or not a size is one clear line and a non-zero exit", arguments: [
        ("3000", "--ring-buffer-size 3000 is not a power of two of at least 4096 bytes"),
        ("2K", "--ring-buffer-size 2048 is not a power of two of at least 4096 bytes"),
        ("lots", "'lots'"),
    ])
    func badRingBufferSize(value: String, message: String) throws {
        let copy = try Fixture.privateCopy()
        for command in [["log", copy], ["p2p-log", "--tapyrusd", copy]] {
            let result = try run(command + ["--ring-buffer-size", value, "--duration", "0.2"])
            #expect(result.status != 0)
            #expect(result.standardError.contains(message), "\(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count <= 3)
        }
    }
}
