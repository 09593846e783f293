import Foundation
import Testing
import TraceHarness

/// fixtures/usdt-riprel.c, compiled once: demo:fine can be attached, demo:riprel
/// (a RIP-relative argument) cannot.
enum RIPRelativeFixture {
    static let built: Result<String, FixtureError> = {
        let output = Fixture.buildDirectory.appendingPathComponent("usdt-riprel").path
        let source = Fixture.packageRoot.appendingPathComponent("fixtures/usdt-riprel.c").path
        do {
            let result = try Fixture.run("/usr/bin/env", ["cc", "-O2", "-o", output, source])
            guard result.status == 0 else { return .failure(FixtureError("cc failed: \(result.standardError)")) }
        } catch {
            return .failure(FixtureError("cannot run cc: \(error)"))
        }
        return .success(output)
    }()

    /// Starts the fixture; it fires its probes once `release()` writes a line to its input.
    // @unchecked Sendable: used by one test at a time; Process and Pipe are
    // not marked Sendable but are not mutated after start.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let input = Pipe()
        private let output = Pipe()

        init() throws {
            process.executableURL = URL(fileURLWithPath: try built.get())
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        /// Lets it fire, then waits (polling) for it to exit and returns what it printed.
        func release() async throws -> String {
            try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while process.isRunning {
                if ContinuousClock.now > deadline { process.terminate(); throw FixtureError("the fixture did not exit") }
                try await Task.sleep(for: .milliseconds(10))
            }
            return String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }

        deinit { if process.isRunning { process.terminate() } }
    }
}

extension InProcessCapture {
    @Suite("Probes the capture program cannot read", .enabled(if: Fixture.isAvailable && CLI.path != nil, "\(Fixture.unavailableReason ?? "tapyrus-trace executable not built")"))
    struct UnattachableProbeTests {
        let fine = ProbeName(provider: "demo", name: "fine")
        let riprel = ProbeName(provider: "demo", name: "riprel")

        @Test("the Tracer fails as a whole by default, skips and names the probe when asked, and fails if nothing is left")
        func tracerSkipsWhenAsked() throws {
            let binary = try RIPRelativeFixture.built.get()
            #expect {
                _ = try Tracer(binary: binary)
            } throws: { error in
                guard let error = error as? TracerError, case let .attachFailed(probe, reason) = error else { return false }
                return probe == riprel && reason.contains("counter(%rip)")
            }

            var options = Tracer.Options()
            options.skipUnattachableProbes = true
            let tracer = try Tracer(binary: binary, options: options)
            defer { tracer.close() }
            #expect(tracer.probes.map(\.probe) == [fine])
            #expect(tracer.skipped.map(\.probe) == [riprel])
            #expect(tracer.skipped.first?.reason.contains("relative to the instruction pointer") == true)

            #expect {
                _ = try Tracer(binary: binary, probes: [riprel], options: options)
            } throws: { error in
                guard let error = error as? TracerError, case let .nothingAttached(skipped) = error else { return false }
                return skipped.map(\.probe) == [riprel]
            }
        }

        @Test("probes marks the RIP-relative argument; log fails in one line naming --skip-unattachable")
        func probesAndLogWithoutFlag() throws {
            let binary = try RIPRelativeFixture.built.get()
            let listed = try CLI.run(["probes", binary])
            #expect(listed.status == 0)
            #expect(listed.standardOutput.contains("-8@counter(%rip)") && listed.standardOutput.contains("(RIP-relative: the capture program cannot read it, so the probe cannot be attached)"))
            #expect(listed.standardOutput.components(separatedBy: "RIP-relative").count == 2, "only the one argument is marked")

            let logged = try CLI.run(["log", binary, "--duration", "1"])
            #expect(logged.status != 0)
            let lines = logged.standardError.split(separator: "\n")
            #expect(lines.count == 1, "\(logged.standardError)")
            #expect(lines.first?.hasPrefix("Error: cannot attach to demo:riprel: ") == true)
            #expect(lines.first?.hasSuffix("; pass --skip-unattachable to trace the other probes") == true)
            #expect(!logged.standardError.contains("libbpf: libbpf:"))
        }

        @Test("log --skip-unattachable traces the other probe exactly and names the skipped one")
        func logSkipping() async throws {
            let fixture = try RIPRelativeFixture.Running()
            let tool = try await ToolProcess(["log", try RIPRelativeFixture.built.get(), "--pid", "\(fixture.pid)", "--skip-unattachable", "--json"])
            let printed = try await fixture.release()
            let result = try await tool.finish(timeout: .seconds(30))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("warning: not attached: demo:riprel: "))
            #expect(result.standardError.contains("tracing 1 probes (1 sites)"))
            #expect(result.standardError.contains(" 0 lost"))
            let events = result.standardOutput.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(events.count == 3, "\(result.standardOutput)")
            #expect(events.allSatisfy { $0["probe"] as? String == "demo:fine" })
            let fields = events.compactMap { $0["fields"] as? [String: Any] }
            let passed = printed.split(separator: "\n").map { $0.split(separator: " ").dropFirst().compactMap { Int($0) } }
            // Raw arguments: {"value": N, "size": 8, "signed": true}.
            func value(_ field: Any?) -> Int { (field as? [String: Any])?["value"] as? Int ?? -1 }
            #expect(fields.map { [value($0["arg0"]), value($0["arg1"])] } == passed, "\(result.standardOutput) vs \(printed)")
        }
    }
}
