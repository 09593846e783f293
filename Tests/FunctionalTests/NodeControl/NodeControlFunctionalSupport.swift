import Foundation
import NodeControl
import Testing

/// The real tapyrusd, if one can be found; functional tests are skipped without it.
let tapyrusBinaries: TapyrusBinaries? = try? NodeTestRequirements.lookup.get()

/// Whether a process has gone (no /proc entry, or only a zombie awaiting its reaper).
func processIsGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    // The state follows the parenthesised command name.
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state == "Z" || state == "X"
}

/// Waits up to `timeout` for `pid` to disappear.
func waitForProcessToVanish(_ pid: Int32, timeout: Duration = .seconds(10)) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if processIsGone(pid) { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return processIsGone(pid)
}

/// Runs `body` with a started node; checks that afterwards the process is gone and the datadir removed.
func withCheckedNode<R: Sendable>(_ name: String, configOptions: [(key: String, value: String)] = [],
                                  _ body: (TapyrusNode) async throws -> R) async throws -> R {
    var options = NodeOptions(name: name)
    options.configOptions = configOptions
    let node = try await TapyrusNode.start(options: options, binaries: tapyrusBinaries)
    let pid = try #require(await node.pid)
    let result: R
    do {
        result = try await body(node)
    } catch {
        await node.finish(passed: false)
        throw error
    }
    await node.finish(passed: true)
    #expect(await waitForProcessToVanish(pid), "tapyrusd pid \(pid) outlived finish()")
    #expect(!FileManager.default.fileExists(atPath: node.dataDirectory), "datadir left behind")
    return result
}

/// Prints a timing line in the test log.
func report(_ what: String, _ duration: Duration) {
    let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    print("NodeControl timing: \(what): \(String(format: "%.0f", milliseconds)) ms")
}
