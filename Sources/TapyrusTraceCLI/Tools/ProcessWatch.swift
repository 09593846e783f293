import Foundation
import Synchronization

/// Notices traced processes exiting, for the tools that trace every process
/// of a binary (where the capture itself stops for no process).
///
/// Each pid seen in an event is remembered with its start time (field 22 of
/// `/proc/PID/stat`, in clock ticks since boot), which tells the process from
/// a later one given the same pid. ``exited()``, called on a tick or a frame,
/// names the remembered processes no longer running: gone from `/proc`, a
/// zombie, or their pid now another process's. Each is named once.
final class ProcessWatch: Sendable {
    private struct State {
        /// Start times of the processes seen and not yet named as exited;
        /// nil for one already gone when first seen.
        var running: [Int32: UInt64?] = [:]
        /// Pids named as exited (events they fired may still arrive).
        var exited: Set<Int32> = []
    }

    private let state = Mutex(State())
    private let procRoot: String

    /// - Parameter procRoot: the proc file system (for tests).
    init(procRoot: String = "/proc") {
        self.procRoot = procRoot
    }

    /// Remembers the process of an event; cheap for a pid already seen.
    func observe(_ pid: Int32) {
        state.withLock { state in
            guard state.running[pid] == nil, !state.exited.contains(pid) else { return }
            state.running[pid] = .some(startTime(of: pid))
        }
    }

    /// The processes seen that are no longer running, in pid order; each pid
    /// is named once.
    func exited() -> [Int32] {
        state.withLock { state in
            let gone = state.running.compactMap { pid, started -> Int32? in
                guard let started, let now = startTime(of: pid), now == started else { return pid }
                return nil
            }.sorted()
            for pid in gone {
                state.running[pid] = nil
                state.exited.insert(pid)
            }
            return gone
        }
    }

    /// The start time of running process `pid`; nil when there is none (or
    /// only its zombie: it exited and awaits its parent).
    func startTime(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "\(procRoot)/\(pid)/stat") else { return nil }
        return Self.startTime(stat: String(decoding: data, as: UTF8.self))
    }

    /// The start time in a `/proc/PID/stat` line; nil for a zombie or dead
    /// process, or a line that cannot be read.
    ///
    /// The second field, the command in parentheses, may hold spaces and
    /// parentheses itself, so fields are counted from the last `)`.
    static func startTime(stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After the command: state (field 3) … starttime (field 22).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields.first, state != "Z", state != "X" else { return nil }
        return UInt64(fields[19])
    }
}
