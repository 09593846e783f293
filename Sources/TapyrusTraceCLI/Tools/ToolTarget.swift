import Foundation
import NodeControl
import TraceHarness

/// What a tool traces: one tapyrusd process, or every process running a binary.
///
/// Resolved from the user's `--pid` or `--tapyrusd`, with the checks that turn
/// bad input into one clear sentence: a pid that does not exist, a process that
/// is not tapyrusd (its executable has no USDT probes, or not the ones the tool
/// needs), a binary without probes.
struct ToolTarget: Sendable, Hashable {
    /// The binary whose probes are attached.
    var binary: String
    /// The one process traced, or nil for every process running ``binary``.
    var pid: Int32?

    init(binary: String, pid: Int32?) {
        self.binary = binary
        self.pid = pid
    }

    /// How the target reads in messages: `process 123 (/usr/local/bin/tapyrusd)`
    /// or `every process running /usr/local/bin/tapyrusd`.
    var description: String {
        if let pid { return "process \(pid) (\(binary))" }
        return "every process running \(binary)"
    }

    /// Resolves `--pid` and `--tapyrusd` into a target whose binary has every
    /// probe in `required`.
    ///
    /// - Parameters:
    ///   - pid: the process to trace; its executable is found through
    ///     `/proc/PID/exe`. When given, `binary` must be nil or the same file.
    ///   - binary: the binary to trace every process of; nil for `$TAPYRUSD`,
    ///     else `tapyrusd` on `PATH`.
    ///   - required: the probes the tool attaches.
    ///   - environment: where `TAPYRUSD` and `PATH` are read.
    ///   - procRoot: the proc file system (for tests).
    static func resolve(
        pid: Int32?,
        binary: String?,
        required: [ProbeName],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        procRoot: String = "/proc"
    ) throws(ToolTargetError) -> ToolTarget {
        if let pid {
            guard pid > 0 else { throw .noSuchProcess(pid) }
            let link = "\(procRoot)/\(pid)/exe"
            guard FileManager.default.fileExists(atPath: "\(procRoot)/\(pid)") else { throw .noSuchProcess(pid) }
            let executable: String
            do {
                executable = try FileManager.default.destinationOfSymbolicLink(atPath: link)
            } catch {
                throw .unreadableExecutable(pid: pid, reason: "cannot read \(link) (a kernel thread, or not permitted)")
            }
            // A replaced or deleted executable is still reachable through the link.
            let path = FileManager.default.fileExists(atPath: executable) ? executable : link
            if let binary, (binary as NSString).resolvingSymlinksInPath != (path as NSString).resolvingSymlinksInPath {
                throw .pidRunsOtherBinary(pid: pid, runs: executable, asked: binary)
            }
            try requireProbes(in: path, required: required) { reason in .notTapyrus(pid: pid, executable: executable, reason: reason) }
            return ToolTarget(binary: path, pid: pid)
        }
        let path: String
        if let binary {
            path = binary
        } else {
            do {
                path = try TapyrusBinaries.locate(environment: environment).tapyrusd
            } catch {
                throw .noBinary(error.description)
            }
        }
        try requireProbes(in: path, required: required) { reason in .binaryUnusable(reason) }
        return ToolTarget(binary: path, pid: nil)
    }

    private static func requireProbes(in path: String, required: [ProbeName], _ failure: (String) -> ToolTargetError) throws(ToolTargetError) {
        let sites: [ProbeSite]
        do {
            sites = try ProbeDiscovery.sites(inBinaryAt: path)
        } catch {
            throw failure(error.description)
        }
        let present = Set(sites.map(\.probe))
        let missing = required.filter { !present.contains($0) }
        if !missing.isEmpty {
            throw failure("\(path) has no probe \(missing.map(\.description).joined(separator: ", ")) (is it tapyrusd built with tracing?)")
        }
    }
}

/// Why a tool cannot trace what it was pointed at.
enum ToolTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    case noSuchProcess(Int32)
    case unreadableExecutable(pid: Int32, reason: String)
    case notTapyrus(pid: Int32, executable: String, reason: String)
    case pidRunsOtherBinary(pid: Int32, runs: String, asked: String)
    case noBinary(String)
    case binaryUnusable(String)

    var description: String {
        switch self {
        case .noSuchProcess(let pid):
            "no process with pid \(pid)"
        case .unreadableExecutable(let pid, let reason):
            "process \(pid): \(reason)"
        case .notTapyrus(let pid, let executable, let reason):
            "process \(pid) runs \(executable), which is not a traceable tapyrusd: \(reason)"
        case .pidRunsOtherBinary(let pid, let runs, let asked):
            "process \(pid) runs \(runs), not \(asked)"
        case .noBinary(let reason):
            reason
        case .binaryUnusable(let reason):
            reason
        }
    }
}
