import Foundation
import Testing
@testable import TapyrusTraceCLI

@Suite("process watch (binary mode's notice of traced processes exiting)")
struct ProcessWatchTests {
    /// A fake proc file system with one `stat` per pid.
    struct FakeProc {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("watch-proc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")

        /// A `stat` line as the kernel writes it: pid, (comm), state, … field 22 the start time.
        func write(pid: Int32, state: String = "S", started: UInt64, command: String = "tapyrusd") throws {
            let folder = root.appendingPathComponent("\(pid)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let middle = (4...21).map { "\($0)" }.joined(separator: " ")
            try "\(pid) (\(command)) \(state) \(middle) \(started) 23 24\n".write(to: folder.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        }

        func remove(pid: Int32) throws {
            try FileManager.default.removeItem(at: root.appendingPathComponent("\(pid)"))
        }
    }

    @Test("the start time is field 22, counted from the last ')' of a command that holds spaces and parentheses")
    func startTimeField() {
        let fields = (4...21).map { "\($0)" }.joined(separator: " ")
        #expect(ProcessWatch.startTime(stat: "12 (tapyrusd) S \(fields) 987654 23\n") == 987_654)
        #expect(ProcessWatch.startTime(stat: "12 (b-msghand) (x) R \(fields) 55 23") == 55)
        #expect(ProcessWatch.startTime(stat: "12 (tapyrusd) Z \(fields) 987654 23") == nil, "a zombie has exited")
        #expect(ProcessWatch.startTime(stat: "12 (tapyrusd) S 4 5") == nil)
        #expect(ProcessWatch.startTime(stat: "garbage") == nil)
    }

    @Test("a process seen is named once when it is gone, a zombie, or its pid now another process's; running ones never")
    func exits() throws {
        let proc = FakeProc()
        defer { try? FileManager.default.removeItem(at: proc.root) }
        for pid: Int32 in [100, 200, 300, 400] { try proc.write(pid: pid, started: 1000 + UInt64(pid)) }
        let watch = ProcessWatch(procRoot: proc.root.path)
        for pid: Int32 in [100, 200, 300, 400, 100, 200] { watch.observe(pid) }
        #expect(watch.exited().isEmpty)
        try proc.remove(pid: 200)
        try proc.write(pid: 300, state: "Z", started: 1300)
        try proc.write(pid: 400, started: 9999)
        #expect(watch.exited() == [200, 300, 400])
        #expect(watch.exited().isEmpty, "each exit is named once")
        // A late event of an exited process does not bring it back.
        watch.observe(200)
        #expect(watch.exited().isEmpty)
        // A pid first seen after its process was gone is named at the next check.
        watch.observe(500)
        #expect(watch.exited() == [500])
    }

    @Test("a real child process: running until killed and reaped, then named as exited")
    func realProcess() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        let watch = ProcessWatch()
        watch.observe(sleeper.processIdentifier)
        watch.observe(getpid())
        #expect(watch.startTime(of: sleeper.processIdentifier) != nil)
        #expect(watch.exited().isEmpty)
        sleeper.terminate()
        sleeper.waitUntilExit()
        #expect(watch.exited() == [sleeper.processIdentifier])
    }
}
