import Foundation
import Testing

/// A detached tmux session running one command, driven like a user would:
/// keys sent, the screen captured, the window resized.
struct MonitorTmux {
    let name: String
    /// Where the wrapped command writes its exit status and the terminal
    /// settings after it returned (to see that raw mode was undone).
    let afterFile: String

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    /// Starts `command` (a shell command line) in a new `width`×`height` session.
    init(_ command: String, width: Int = 120, height: Int = 40) throws {
        name = "monitor-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        afterFile = NSTemporaryDirectory() + name + ".after"
        // The settings go to a scratch file first and are renamed into place,
        // so that the file appears whole (``settingsAfterExit()`` waits for it).
        let wrapped = "\(command); echo \"EXIT $?\"; { echo \"status $?\"; stty -a; } > \(afterFile).part; mv \(afterFile).part \(afterFile); sleep 120"
        // The client forks this session's tmux server; Foundation's Process
        // was seen never to notice such a client exit (left a zombie), so it
        // is spawned and reaped here, its output going nowhere.
        let arguments = ["/usr/bin/tmux", "-L", name, "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", wrapped]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The test's threads block most signals and ignore some; the session
        // must start with the defaults, as from a shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGWINCH, SIGUSR1, SIGUSR2] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/usr/bin/tmux", &actions, &attributes, &argv, environ)
        guard spawned == 0 else { throw FixtureError("cannot run tmux: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while waitpid(child, &status, WNOHANG) == 0, ContinuousClock.now < deadline {
            usleep(10_000)
        }
        guard (try? tmux(["has-session", "-t", name]))?.status == 0 else {
            throw FixtureError("tmux new-session did not start session \(name)")
        }
    }

    /// The visible screen, one string per row.
    func capture() throws -> String {
        try tmux(["capture-pane", "-p", "-t", name]).standardOutput
    }

    /// Sends keys as tmux names them (`j`, `Enter`, `Escape`, `Down`, `q`).
    func send(_ keys: String...) throws {
        _ = try tmux(["send-keys", "-t", name] + keys)
    }

    func resize(width: Int, height: Int) throws {
        _ = try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Waits until the screen satisfies `predicate`; returns that screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(15), _ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var screen = ""
        while ContinuousClock.now < deadline {
            screen = try capture()
            if predicate(screen) { return screen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("timed out waiting for \(what); the screen was:\n\(screen)")
    }

    /// What the wrapper recorded after the command returned: waits until the
    /// wrapper has written it (the screen shows `EXIT` just before).
    func settingsAfterExit(timeout: Duration = .seconds(15)) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let recorded = try? String(contentsOfFile: afterFile, encoding: .utf8) { return recorded }
            guard ContinuousClock.now < deadline else {
                throw FixtureError("the terminal settings after the command never appeared in \(afterFile)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The pid of the command the session's shell runs.
    func commandPID() throws -> Int32? {
        let shell = try tmux(["display-message", "-p", "-t", name, "#{pane_pid}"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// Closes the terminal under the command, as closing a terminal
    /// window does: the server goes, the pty hangs up.
    func killServer() {
        _ = try? tmux(["kill-server"])
    }

    /// Ends the session: its processes, then its server.
    func kill() {
        if let shell = try? tmux(["display-message", "-p", "-t", name, "#{pane_pid}"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines), let pid = Int32(shell), pid > 1 {
            Foundation.kill(-pid, SIGKILL)
        }
        _ = try? tmux(["kill-session", "-t", name])
        let directory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        try? FileManager.default.removeItem(atPath: "\(directory)/tmux-\(getuid())/\(name)")
        try? FileManager.default.removeItem(atPath: afterFile)
        try? FileManager.default.removeItem(atPath: afterFile + ".part")
    }

    /// Runs a tmux client on this session's own server (its own socket).
    private func tmux(_ arguments: [String]) throws -> Fixture.Output {
        try Fixture.run("/usr/bin/tmux", ["-L", name] + arguments)
    }
}

/// The peer rows of the P2P monitor's list: node (pid), id, counts, bytes, type, address.
struct MonitorPeerRow: Equatable {
    var selected: Bool
    var pid: Int32
    /// Whether the row says its node exited.
    var exited: Bool
    var id: Int64
    var outboundCount: Int
    var outboundBytes: UInt64
    var inboundCount: Int
    var inboundBytes: UInt64
    var connectionType: String
    var address: String

    static func rows(in screen: String) -> [MonitorPeerRow] {
        screen.split(separator: "\n").compactMap { line in
            let selected = line.hasPrefix(">")
            var tokens = line.dropFirst().split(separator: " ")
            guard let pid = tokens.first.flatMap({ Int32($0) }) else { return nil }
            tokens.removeFirst()
            let exited = tokens.first == "exited"
            if exited { tokens.removeFirst() }
            guard tokens.count == 9, tokens[3] == "byte", tokens[6] == "byte",
                  let id = Int64(tokens[0]), let outCount = Int(tokens[1]), let outBytes = UInt64(tokens[2]),
                  let inCount = Int(tokens[4]), let inBytes = UInt64(tokens[5]) else { return nil }
            return MonitorPeerRow(selected: selected, pid: pid, exited: exited, id: id, outboundCount: outCount, outboundBytes: outBytes,
                                  inboundCount: inCount, inboundBytes: inBytes, connectionType: String(tokens[7]), address: String(tokens[8]))
        }
    }
}

/// Saves captured screens as samples for docs/tools.md when `TAPYRUS_TRACE_SAMPLES`
/// names a directory (nothing otherwise).
enum MonitorSamples {
    static func save(_ name: String, _ screen: String) {
        guard let directory = ProcessInfo.processInfo.environment["TAPYRUS_TRACE_SAMPLES"] else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let trimmed = screen.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
        try? trimmed.joined(separator: "\n").trimmingCharacters(in: .newlines).write(toFile: "\(directory)/\(name).txt", atomically: true, encoding: .utf8)
    }
}
