import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a node was brought down by ``TapyrusNode/stop()``.
public struct StopReport: Sendable, Hashable, CustomStringConvertible {
    /// The step that ended the process.
    public enum Method: String, Sendable, Hashable {
        case rpcStop = "RPC stop"
        case sigterm = "SIGTERM"
        case sigkill = "SIGKILL"
        /// It had already exited.
        case alreadyExited = "already exited"
    }

    /// The step that ended it.
    public var method: Method
    /// Its exit status.
    public var status: ProcessExitStatus
    /// Time from the stop request to the exit.
    public var duration: Duration

    public var description: String { "stopped by \(method.rawValue) with \(status) in \(duration)" }
}

/// One tapyrusd process in dev mode with its own temporary datadir.
///
/// ```swift
/// let node = try await TapyrusNode.start(options: NodeOptions(name: "miner"))
/// let address = try await node.rpc.getNewAddress()
/// try await node.rpc.generateToAddress(3, address: address)
/// await node.finish(passed: true)   // stops it and removes the datadir
/// ```
///
/// The node is spawned so that it dies with the harness process, however the
/// harness dies. Its datadir survives a ``stop()`` (for ``restart(arguments:)``)
/// and is removed or kept by ``finish(passed:)``.
public actor TapyrusNode {
    /// The node's name, for messages.
    public nonisolated let name: String
    /// The binaries it runs.
    public nonisolated let binaries: TapyrusBinaries
    /// The datadir (holds `tapyrus.conf` and `genesis.dat`).
    public nonisolated let dataDirectory: String
    /// The network-specific folder inside the datadir (`dev-<networkid>`): blocks, chainstate, `debug.log`, `.cookie`.
    public nonisolated let networkDirectory: String
    /// The P2P port on 127.0.0.1.
    public nonisolated let p2pPort: UInt16
    /// The RPC port on 127.0.0.1.
    public nonisolated let rpcPort: UInt16
    /// The network's message start bytes.
    public nonisolated let magic: NetworkMagic
    /// The key its blocks are signed with.
    public nonisolated let signingKey: SigningKey
    /// A JSON-RPC client for this node (cookie authentication, re-read on every call).
    public nonisolated let rpc: RPCClient
    /// The options it was started with.
    public nonisolated let options: NodeOptions

    private var process: ChildProcess?
    /// The extra command-line arguments of the current (or last) run.
    public private(set) var arguments: [String]
    private var finished = false

    /// `127.0.0.1:<p2p port>`, the address other nodes connect to.
    public nonisolated var p2pAddress: String { "127.0.0.1:\(p2pPort)" }
    /// The path of `debug.log`.
    public nonisolated var debugLogPath: String { "\(networkDirectory)/debug.log" }
    /// The path the node's stderr is appended to.
    public nonisolated var standardErrorPath: String { "\(dataDirectory)/stderr.log" }
    /// The path of the RPC cookie file.
    public nonisolated var cookiePath: String { "\(networkDirectory)/.cookie" }

    /// The pid of the running process, or `nil` when it is not running.
    public var pid: Int32? {
        guard let process, process.exitStatus == nil else { return nil }
        return process.pid
    }

    /// Whether the process is running.
    public var isRunning: Bool { pid != nil }

    /// How the last process ended, if it has.
    public var exitStatus: ProcessExitStatus? { process?.exitStatus }

    private init(name: String, binaries: TapyrusBinaries, dataDirectory: String, networkID: UInt32,
                 p2pPort: UInt16, rpcPort: UInt16, options: NodeOptions, process: ChildProcess) {
        self.name = name
        self.binaries = binaries
        self.dataDirectory = dataDirectory
        self.networkDirectory = "\(dataDirectory)/\(DevNetwork.dataDirectoryName(networkID: networkID))"
        self.p2pPort = p2pPort
        self.rpcPort = rpcPort
        self.magic = NetworkMagic(networkID: networkID)
        self.signingKey = options.signingKey
        self.options = options
        self.arguments = options.arguments
        self.process = process
        self.rpc = RPCClient(port: rpcPort, authentication: .cookieFile("\(networkDirectory)/.cookie"),
                             defaultTimeout: options.rpcTimeout)
    }

    /// A node dropped without ``finish(passed:)`` is killed, never left running.
    deinit {
        process?.send(SIGKILL)
    }

    // MARK: Starting

    /// Makes a fresh datadir with genesis block and config, starts tapyrusd and waits for its RPC.
    ///
    /// - Parameters:
    ///   - options: Setup and bounds.
    ///   - binaries: The binaries to run; located through `TAPYRUSD`/`PATH` when `nil`.
    /// - Throws: ``BinaryLookupError`` or ``NodeError`` (with the node's stderr and last log
    ///   lines if it exited). The datadir of a node that failed to start is kept and named in the error.
    public static func start(options: NodeOptions = NodeOptions(), binaries: TapyrusBinaries? = nil) async throws -> TapyrusNode {
        let binaries = try binaries ?? TapyrusBinaries.locate()
        try binaries.validate()
        let networkID = options.networkID ?? DevNetwork.defaultNetworkID
        let dataDirectory = try makeDataDirectory(name: options.name, parent: options.parentDirectory)
        let networkDirectory = "\(dataDirectory)/\(DevNetwork.dataDirectoryName(networkID: networkID))"
        do {
            let genesis: String
            if let fixed = options.genesisBlock {
                genesis = fixed
            } else {
                genesis = try await GenesisFactory.shared.genesisHex(key: options.signingKey, binaries: binaries)
            }
            try write(genesis + "\n", to: "\(dataDirectory)/genesis.dat")
            try copyBlockFiles(options.blockFiles, into: "\(networkDirectory)/blocks")
            let portsFixed = options.p2pPort != nil || options.rpcPort != nil
            var attempt = 0
            while true {
                attempt += 1
                let free = try PortAllocator.freePorts(2)
                let p2pPort = options.p2pPort ?? free[0]
                let rpcPort = options.rpcPort ?? free[1]
                let configuration = NodeConfiguration(p2pPort: p2pPort, rpcPort: rpcPort, networkID: options.networkID,
                                                      extraOptions: options.configOptions)
                try write(configuration.rendered(), to: "\(dataDirectory)/tapyrus.conf")
                let rpc = RPCClient(port: rpcPort, authentication: .cookieFile("\(networkDirectory)/.cookie"),
                                    defaultTimeout: options.rpcTimeout)
                let process = try await launch(binaries: binaries, dataDirectory: dataDirectory, arguments: options.arguments)
                do {
                    try await waitForRPC(process: process, rpc: rpc, name: options.name, dataDirectory: dataDirectory,
                                         networkDirectory: networkDirectory, timeout: options.startTimeout)
                } catch let error as NodeError where !portsFixed && attempt < 3 && error.isBindFailure {
                    continue
                }
                return TapyrusNode(name: options.name, binaries: binaries, dataDirectory: dataDirectory,
                                   networkID: networkID, p2pPort: p2pPort, rpcPort: rpcPort, options: options,
                                   process: process)
            }
        } catch let error as NodeError {
            throw error.located(node: options.name, dataDirectory: dataDirectory)
        }
    }

    /// Starts `count` nodes concurrently with options made by `makeOptions(index)`.
    public static func start(count: Int, binaries: TapyrusBinaries? = nil,
                             options makeOptions: @Sendable (Int) -> NodeOptions = { NodeOptions(name: "node\($0)") }) async throws -> [TapyrusNode] {
        let binaries = try binaries ?? TapyrusBinaries.locate()
        let optionsList = (0..<count).map(makeOptions)
        return try await withThrowingTaskGroup(of: (Int, TapyrusNode).self) { group in
            for (index, options) in optionsList.enumerated() {
                group.addTask { (index, try await TapyrusNode.start(options: options, binaries: binaries)) }
            }
            var nodes: [(Int, TapyrusNode)] = []
            do {
                for try await started in group { nodes.append(started) }
            } catch {
                for (_, node) in nodes { await node.finish(passed: true) }
                throw error
            }
            return nodes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func makeDataDirectory(name: String, parent: String?) throws(NodeError) -> String {
        let base = parent ?? NSTemporaryDirectory()
        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(32))
        var template = Array("\(base.hasSuffix("/") ? base : base + "/")tapyrus-trace-\(safeName)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else {
            throw NodeError(.setupFailed("cannot make a datadir under \(base): \(String(cString: strerror(errno)))"), node: name)
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Copies `files` into `folder` (made if missing) as `blk00000.dat`, `blk00001.dat`, ...
    private static func copyBlockFiles(_ files: [String], into folder: String) throws(NodeError) {
        guard !files.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (index, file) in files.enumerated() {
                let name = "blk" + String(repeating: "0", count: max(0, 5 - String(index).count)) + "\(index).dat"
                try FileManager.default.copyItem(atPath: file, toPath: "\(folder)/\(name)")
            }
        } catch {
            throw NodeError(.setupFailed("cannot copy block files into \(folder): \(error.localizedDescription)"))
        }
    }

    private static func write(_ text: String, to path: String) throws(NodeError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw NodeError(.setupFailed("cannot write \(path): \(error)"))
        }
    }

    private static func launch(binaries: TapyrusBinaries, dataDirectory: String, arguments: [String]) async throws -> ChildProcess {
        try await ChildProcess.spawn(path: binaries.tapyrusd, arguments: ["-datadir=\(dataDirectory)"] + arguments,
                                     standardOutput: "\(dataDirectory)/stdout.log",
                                     standardError: "\(dataDirectory)/stderr.log")
    }

    private static func waitForRPC(process: ChildProcess, rpc: RPCClient, name: String, dataDirectory: String,
                                   networkDirectory: String, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var lastError = "no attempt yet"
        while true {
            if let status = process.exitStatus {
                throw NodeError(.exitedDuringStartup(status: status.description), node: name, pid: process.pid,
                                dataDirectory: dataDirectory,
                                logTail: tail(of: "\(networkDirectory)/debug.log", lines: 20),
                                standardError: readSmall("\(dataDirectory)/stderr.log"))
            }
            do {
                _ = try await rpc.call("getblockcount", timeout: .seconds(5))
                return
            } catch {
                lastError = error.description
            }
            if clock.now >= deadline {
                process.send(SIGKILL)
                _ = await process.waitForExit(timeout: .seconds(5))
                throw NodeError(.startTimedOut(seconds: timeout.seconds, lastError: lastError), node: name,
                                pid: process.pid, dataDirectory: dataDirectory,
                                logTail: tail(of: "\(networkDirectory)/debug.log", lines: 20),
                                standardError: readSmall("\(dataDirectory)/stderr.log"))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Stopping

    /// Stops the process: RPC `stop`, then SIGTERM, then SIGKILL, each within its bound. The datadir stays.
    @discardableResult
    public func stop() async throws -> StopReport {
        let clock = ContinuousClock()
        let started = clock.now
        guard let process else { throw NodeError(.wrongState("was never started"), node: name) }
        if let status = process.exitStatus {
            return StopReport(method: .alreadyExited, status: status, duration: .zero)
        }
        _ = try? await rpc.call("stop", timeout: .seconds(5))
        if let status = await process.waitForExit(timeout: options.stopTimeout) {
            return StopReport(method: .rpcStop, status: status, duration: clock.now - started)
        }
        process.send(SIGTERM)
        if let status = await process.waitForExit(timeout: options.terminateTimeout) {
            return StopReport(method: .sigterm, status: status, duration: clock.now - started)
        }
        process.send(SIGKILL)
        if let status = await process.waitForExit(timeout: options.killTimeout) {
            return StopReport(method: .sigkill, status: status, duration: clock.now - started)
        }
        throw NodeError(.stopFailed("still running \(clock.now - started) after RPC stop, SIGTERM and SIGKILL"),
                        node: name, pid: process.pid, dataDirectory: dataDirectory, logTail: debugLogTail(lines: 10))
    }

    /// Kills the process with SIGKILL at once (a crash, for tests of recovery) and waits for it.
    public func kill() async -> ProcessExitStatus? {
        guard let process else { return nil }
        process.send(SIGKILL)
        return await process.waitForExit(timeout: options.killTimeout)
    }

    /// Stops the node if needed and starts it again on the same datadir and ports with `arguments`
    /// (e.g. `["-reindex"]`, `["-prune=550"]`, `["-txindex"]`), waiting for RPC as ``start(options:binaries:)`` does.
    public func restart(arguments: [String] = []) async throws {
        guard !finished else { throw NodeError(.wrongState("was finished; its datadir is gone"), node: name) }
        if isRunning { try await stop() }
        self.arguments = arguments
        let process = try await Self.launch(binaries: binaries, dataDirectory: dataDirectory, arguments: arguments)
        self.process = process
        try await Self.waitForRPC(process: process, rpc: rpc, name: name, dataDirectory: dataDirectory,
                                  networkDirectory: networkDirectory, timeout: options.startTimeout)
    }

    /// Ends the node's life: stops it if running, then removes the datadir if `passed`,
    /// or keeps it and prints its path (to stderr) if not. Never throws.
    public func finish(passed: Bool) async {
        guard !finished else { return }
        finished = true
        var stopProblem: String?
        do {
            if isRunning { try await stop() }
        } catch {
            stopProblem = "\(error)"
        }
        if passed && stopProblem == nil {
            try? FileManager.default.removeItem(atPath: dataDirectory)
        } else {
            let reason = stopProblem.map { "stop failed: \($0)" } ?? "the run failed"
            FileHandle.standardError.write(Data("NodeControl: kept datadir of node '\(name)' (\(reason)): \(dataDirectory)\n".utf8))
        }
    }

    // MARK: Logs and peers

    /// The last `lines` lines of `debug.log`.
    public nonisolated func debugLogTail(lines: Int = 20) -> [String] {
        Self.tail(of: debugLogPath, lines: lines)
    }

    /// Opens a raw P2P connection to this node and completes the handshake.
    public nonisolated func connectRawPeer(version: VersionMessage? = nil, timeout: Duration = .seconds(10)) async throws -> RawPeer {
        try await RawPeer.connect(port: p2pPort, magic: magic, version: version, timeout: timeout)
    }

    static func tail(of path: String, lines: Int) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let window: UInt64 = 64 * 1024
        try? handle.seek(toOffset: size > window ? size - window : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).suffix(lines).map(String.init)
    }

    static func readSmall(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data.suffix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension NodeError {
    /// Whether the node failed because a port was taken.
    var isBindFailure: Bool {
        let text = (logTail + [standardError]).joined(separator: "\n")
        return text.contains("Unable to bind") || text.contains("Address already in use")
    }
}

/// Runs `body` with a started node, then stops it; removes the datadir if `body`
/// returned and keeps it (printing its path) if `body` threw.
public func withNode<R: Sendable>(options: NodeOptions = NodeOptions(), binaries: TapyrusBinaries? = nil,
                                  _ body: (TapyrusNode) async throws -> R) async throws -> R {
    let node = try await TapyrusNode.start(options: options, binaries: binaries)
    do {
        let result = try await body(node)
        await node.finish(passed: true)
        return result
    } catch {
        await node.finish(passed: false)
        throw error
    }
}
