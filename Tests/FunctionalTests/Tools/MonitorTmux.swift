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
        let wrapped = "\(command); echo \"EXIT $?\"; { echo \"status $?\"; stty -a; } > \(afterFile); sleep 600"
        let result = try Self.tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", wrapped])
        guard result.status == 0 else { throw FixtureError("tmux new-session failed: \(result.standardError)") }
    }

    /// The visible screen, one string per row.
    func capture() throws -> String {
        try Self.tmux(["capture-pane", "-p", "-t", name]).standardOutput
    }

    /// Sends keys as tmux names them (`j`, `Enter`, `Escape`, `Down`, `q`).
    func send(_ keys: String...) throws {
        _ = try Self.tmux(["send-keys", "-t", name] + keys)
    }

    func resize(width: Int, height: Int) throws {
        _ = try Self.tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
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

    /// What the wrapper recorded after the command returned (empty before).
    func after() -> String {
        (try? String(contentsOfFile: afterFile, encoding: .utf8)) ?? ""
    }

    /// The pid of the command the session's shell runs.
    func commandPID() throws -> Int32? {
        let shell = try Self.tmux(["display-message", "-p", "-t", name, "#{pane_pid}"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }

    func kill() {
        _ = try? Self.tmux(["kill-session", "-t", name])
        try? FileManager.default.removeItem(atPath: afterFile)
    }

    private static func tmux(_ arguments: [String]) throws -> Fixture.Output {
        try Fixture.run("/usr/bin/tmux", arguments)
    }
}

/// The peer rows of the P2P monitor's list: id, counts, bytes, type, address.
struct MonitorPeerRow: Equatable {
    var selected: Bool
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
            let tokens = line.dropFirst().split(separator: " ")
            guard tokens.count == 9, tokens[3] == "byte", tokens[6] == "byte",
                  let id = Int64(tokens[0]), let outCount = Int(tokens[1]), let outBytes = UInt64(tokens[2]),
                  let inCount = Int(tokens[4]), let inBytes = UInt64(tokens[5]) else { return nil }
            return MonitorPeerRow(selected: selected, id: id, outboundCount: outCount, outboundBytes: outBytes,
                                  inboundCount: inCount, inboundBytes: inBytes, connectionType: String(tokens[7]), address: String(tokens[8]))
        }
    }
}

/// Saves captured screens as README samples when `TAPYRUS_TRACE_SAMPLES`
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
