import Foundation
import NodeControl
import Testing

@Suite("NodeControl functional: what a node inherits", .requiresTapyrusd)
struct NodeControlDescriptorTests {
    @Test("a node inherits none of the harness's descriptors (a pipe it held would never reach end-of-file)")
    func noInheritedDescriptors() async throws {
        let pipe = Pipe()
        let writeEnd = pipe.fileHandleForWriting.fileDescriptor
        let ourPipe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(writeEnd)")
        try await withCheckedNode("descriptors") { node in
            let pid = try #require(await node.pid)
            let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            let targets = entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!targets.contains(ourPipe), "the node holds the harness's pipe \(ourPipe)")
        }
    }
}
