import Foundation
import NodeControl
import Testing

@Suite("NodeControl functional: what a node inherits", .requiresTapyrusd)
struct NodeControlDescriptorTests {
    @Test("a node inherits none of the harness's descriptors, so a pipe's reader still sees end-of-file")
    func noInheritedDescriptors() async throws {
        let pipe = Pipe()
        let writeEnd = pipe.fileHandleForWriting.fileDescriptor
        let ourPipe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(writeEnd)")
        try await withCheckedNode("descriptors") { node in
            let pid = try #require(await node.pid)
            let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            let targets = entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!targets.contains(ourPipe), "the node holds the harness's pipe \(ourPipe)")
            // With the write end closed here, the read end reaches end-of-file
            // at once although the node still runs.
            try pipe.fileHandleForWriting.close()
            var poller = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 2000)
            #expect(ready == 1 && poller.revents & Int16(POLLHUP) != 0, "end-of-file within 2 s (poll: \(ready), events \(poller.revents))")
        }
    }
}
