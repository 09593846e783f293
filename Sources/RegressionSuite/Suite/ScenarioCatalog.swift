import Foundation
import NodeControl
import Synchronization
import TraceHarness

/// Every regression scenario, by family. Each family lives in its own file.
public enum ScenarioCatalog {
    /// All scenarios, in the order `check` runs and prints them.
    public static var all: [any Scenario] {
        conformance + validation + p2p + utxocache + mempool + coinSelection
    }

    /// The scenario called `name`.
    public static func named(_ name: String) -> (any Scenario)? {
        all.first { $0.name == name }
    }
}

/// One tracer per tapyrusd binary for the whole process, attached to every
/// probe for every process, so scenarios never pay to attach and detach
/// (about 0.13 s per site) and filter events by pid instead.
public enum SharedTracer {
    private static let tracers = Mutex<[String: Tracer]>([:])

    /// A 256 MiB ring buffer rather than the 64 MiB the probes' payloads
    /// ask for: scenarios flood it side by side (utxocache-flush-pressure
    /// adds 45,000 coins in one block, utxocache-flush-blocks 54,000), a
    /// debug build's reader decodes several times slower than a release
    /// build's, and a loaded machine starves it further. Once, two flooding
    /// scenarios with a debug build on a loaded machine lost 2,704 events
    /// with 64 MiB. The kernel allocates the ring when the map is made; one
    /// per binary for the test process's life is affordable.
    public static let ringBufferBytes = 256 << 20

    private static var options: Tracer.Options {
        var options = Tracer.Options()
        options.ringBufferBytes = ringBufferBytes
        return options
    }

    /// The tracer attached to `binary`, made on first use.
    public static func attached(to binary: String) throws(TracerError) -> Tracer {
        let result: Result<Tracer, TracerError> = tracers.withLock { tracers in
            if let tracer = tracers[binary] { return .success(tracer) }
            do throws(TracerError) {
                let tracer = try Tracer(binary: binary, options: options)
                tracers[binary] = tracer
                return .success(tracer)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension ScenarioContext {
    /// A context for the tapyrusd found through `TAPYRUSD` or `PATH` (or the
    /// given binaries), with the shared tracer attached to it.
    public static func make(binaries: TapyrusBinaries? = nil) throws -> ScenarioContext {
        let binaries = try binaries ?? TapyrusBinaries.locate()
        return ScenarioContext(binaries: binaries, tracer: try SharedTracer.attached(to: binaries.tapyrusd))
    }
}
