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

    /// The tracer attached to `binary`, made on first use.
    public static func attached(to binary: String) throws(TracerError) -> Tracer {
        let result: Result<Tracer, TracerError> = tracers.withLock { tracers in
            if let tracer = tracers[binary] { return .success(tracer) }
            do throws(TracerError) {
                let tracer = try Tracer(binary: binary)
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
