import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum ProcessExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called exit with this code.
    case exited(Int32)
    /// It was ended by this signal.
    case signaled(Int32)

    public var description: String {
        switch self {
        case let .exited(code): "exit code \(code)"
        case let .signaled(signal): "killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : signal == SIGTERM ? " (SIGTERM)" : "")"
        }
    }
}

/// A child process that dies with this process: its pid, a reaper thread and bounded waiting for its exit.
///
/// Nodes are run this way; use it for any other helper process that must not
/// outlive the harness. Unlike Foundation's `Process`, waiting does not depend on
/// the run loop of the thread that launched it, so it is safe from async code.
///
/// `@unchecked Sendable`: `pid` never changes; the exit status and the
/// waiters are guarded by `lock`, and waiters are resumed after it is released.
public final class ChildProcess: @unchecked Sendable {
    /// The process id.
    public let pid: Int32
    private let lock = NSLock()
    private var status: ProcessExitStatus?
    private var waiters: [UInt64: CheckedContinuation<ProcessExitStatus?, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    /// Spawns `path` with `arguments` so that it is killed (SIGKILL) if this process dies.
    ///
    /// - Parameters:
    ///   - environment: The child's environment; `nil` inherits this process's.
    ///   - standardOutput: A file stdout is appended to.
    ///   - standardError: A file stderr is appended to. Stdin is `/dev/null`.
    public static func spawn(path: String, arguments: [String], environment: [String: String]? = nil,
                             standardOutput: String = "/dev/null", standardError: String = "/dev/null") async throws -> ChildProcess {
        let pid = try await ChildSpawner.shared.spawn(path: path, arguments: arguments, environment: environment,
                                                      standardOutput: standardOutput, standardError: standardError)
        return ChildProcess(pid: pid)
    }

    private init(pid: Int32) {
        self.pid = pid
        let thread = Thread { [self] in reap() }
        thread.name = "reaper for pid \(pid)"
        thread.start()
    }

    /// The exit status, once the process has ended.
    public var exitStatus: ProcessExitStatus? {
        lock.withLock { status }
    }

    /// Sends `signal` unless the process has already been reaped (so a reused pid is never hit).
    public func send(_ signal: Int32) {
        lock.withLock {
            if status == nil { _ = kill(pid, signal) }
        }
    }

    /// Waits until the process ends or `timeout` passes; `nil` means it is still running.
    public func waitForExit(timeout: Duration) async -> ProcessExitStatus? {
        let id: UInt64 = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.resumeWaiter(id, with: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            lock.lock()
            if let status {
                lock.unlock()
                continuation.resume(returning: status)
            } else {
                waiters[id] = continuation
                lock.unlock()
            }
        }
    }

    private func resumeWaiter(_ id: UInt64, with value: ProcessExitStatus?) {
        let continuation = lock.withLock { waiters.removeValue(forKey: id) }
        continuation?.resume(returning: value)
    }

    private func reap() {
        // Wait without reaping, so the pid stays ours until `status` is set under the lock.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
        let (final, pending): (ProcessExitStatus, [CheckedContinuation<ProcessExitStatus?, Never>]) = lock.withLock {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
            let final: ProcessExitStatus = (raw & 0x7f) == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
            status = final
            let pending = Array(waiters.values)
            waiters.removeAll()
            return (final, pending)
        }
        for continuation in pending { continuation.resume(returning: final) }
    }
}

/// Spawns every node process from one thread that never exits.
///
/// Linux's parent-death signal (`PR_SET_PDEATHSIG`) fires when the *thread* that
/// created the child exits, not the process. Swift's concurrency and Dispatch
/// threads come and go, so children are spawned here, through
/// `setpriv --pdeathsig KILL`, which sets the signal and then execs the program
/// (the pid stays the program's). The child is then killed when this process
/// dies, however it dies, including SIGKILL.
///
/// `@unchecked Sendable`: the request queue is guarded by `condition`, and
/// only the spawner's own thread spawns.
final class ChildSpawner: @unchecked Sendable {
    static let shared = ChildSpawner()

    private struct Request {
        var path: String
        var arguments: [String]
        var environment: [String: String]?
        var standardOutput: String
        var standardError: String
        var continuation: CheckedContinuation<Result<Int32, NodeError>, Never>
    }

    private let condition = NSCondition()
    private var requests: [Request] = []
    private let setpriv: String?

    private init() {
        setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv", "/sbin/setpriv"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let thread = Thread { [self] in serve() }
        thread.name = "NodeControl spawner (parent of all nodes)"
        thread.start()
    }

    func spawn(path: String, arguments: [String], environment: [String: String]?, standardOutput: String,
               standardError: String) async throws(NodeError) -> Int32 {
        let result = await withCheckedContinuation { continuation in
            condition.lock()
            requests.append(Request(path: path, arguments: arguments, environment: environment, standardOutput: standardOutput,
                                    standardError: standardError, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
        return try result.get()
    }

    private func serve() {
        while true {
            condition.lock()
            while requests.isEmpty { condition.wait() }
            let request = requests.removeFirst()
            condition.unlock()
            request.continuation.resume(returning: spawnNow(request))
        }
    }

    private func spawnNow(_ request: Request) -> Result<Int32, NodeError> {
        guard let setpriv else {
            return .failure(NodeError(.spawnFailed("setpriv (util-linux) not found; it is needed so nodes die with the harness")))
        }
        let argv = [setpriv, "--pdeathsig", "KILL", "--", request.path] + request.arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, request.standardOutput, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, request.standardError, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // Nothing else of ours leaks into the child: a pipe's write end held by
        // a long-lived node would keep its reader from ever seeing end-of-file,
        // and BPF descriptors would keep probes attached after a tracer closed.
        closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Start with default signal dispositions and an empty mask, whatever this process set.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cEnvironment: [UnsafeMutablePointer<CChar>?]? = request.environment.map { environment in
            environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for pointer in cEnvironment ?? [] { free(pointer) } }

        var pid: pid_t = 0
        let result: Int32
        if var explicit = cEnvironment {
            result = posix_spawn(&pid, setpriv, &actions, &attributes, &cArguments, &explicit)
        } else {
            result = posix_spawn(&pid, setpriv, &actions, &attributes, &cArguments, environ)
        }
        guard result == 0 else {
            return .failure(NodeError(.spawnFailed("posix_spawn \(setpriv): \(String(cString: strerror(result)))")))
        }
        return .success(pid)
    }
}

/// Adds to `actions` the closing of every descriptor above standard error.
///
/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+) does it at
/// spawn time, atomically; Swift's Glibc module does not export it, so it is
/// looked up by name. Without it, each descriptor open now is closed one by one.
private func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
        if closeFrom(&actions, 3) == 0 { return }
    }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
        posix_spawn_file_actions_addclose(&actions, descriptor)
    }
}
