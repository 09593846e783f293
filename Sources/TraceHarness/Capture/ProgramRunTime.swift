import CBPFShim
import Foundation

/// Keeps the kernel counting the run time of every BPF program
/// (`BPF_ENABLE_STATS`) while it lives: for benchmarks, which read
/// ``Tracer/programRunTime()``. Counting costs a little per run.
public final class ProgramRunTimeStatistics: Sendable {
    private let descriptor: Int32

    public init() throws(TracerError) {
        let descriptor = bpf_enable_stats(BPF_STATS_RUN_TIME)
        guard descriptor >= 0 else {
            throw .loadFailed("cannot enable BPF run-time statistics: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}

/// How often a BPF program ran and how long it ran in all, as the kernel
/// counted while run-time statistics were enabled.
public struct ProgramRunTime: Sendable, Equatable {
    public var runs: UInt64
    public var nanoseconds: UInt64

    public init(runs: UInt64, nanoseconds: UInt64) {
        self.runs = runs
        self.nanoseconds = nanoseconds
    }

    init(descriptor: Int32) {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(descriptor, &info, &length) == 0 else {
            self.init(runs: 0, nanoseconds: 0)
            return
        }
        self.init(runs: info.run_cnt, nanoseconds: info.run_time_ns)
    }

    /// The counts since `earlier`.
    public func since(_ earlier: ProgramRunTime) -> ProgramRunTime {
        ProgramRunTime(runs: runs &- earlier.runs, nanoseconds: nanoseconds &- earlier.nanoseconds)
    }

    /// Nanoseconds per run (0 without runs).
    public var nanosecondsPerRun: Double { runs == 0 ? 0 : Double(nanoseconds) / Double(runs) }
}
