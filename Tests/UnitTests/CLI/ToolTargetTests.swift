import Foundation
import Testing
@testable import TapyrusTraceCLI
import TraceHarness

@Suite("tool targets")
struct ToolTargetTests {
    @Test("a pid without a /proc entry is named as missing")
    func missingPid() {
        #expect(throws: ToolTargetError.noSuchProcess(42)) {
            try ToolTarget.resolve(pid: 42, binary: nil, required: [], procRoot: "/nonexistent-proc")
        }
    }

    @Test("a process whose executable has no probes is not tapyrusd")
    func notTapyrus() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("77"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("77/exe").path, withDestinationPath: "/bin/sh")
        do {
            _ = try ToolTarget.resolve(pid: 77, binary: nil, required: [], procRoot: root.path)
            Issue.record("resolved /bin/sh")
        } catch {
            #expect(error.description.hasPrefix("process 77 runs /bin/sh, which is not a traceable tapyrusd"))
        }
    }

    @Test("no tapyrusd on PATH and no TAPYRUSD: the lookup's message")
    func noBinary() {
        do {
            _ = try ToolTarget.resolve(pid: nil, binary: nil, required: [], environment: ["PATH": "/nonexistent"])
            Issue.record("resolved")
        } catch {
            #expect(error.description.contains("tapyrusd not found"))
        }
    }
}
