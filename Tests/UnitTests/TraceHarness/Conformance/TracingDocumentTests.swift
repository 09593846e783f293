import Foundation
import Testing
@testable import TraceHarness

@Suite("Reading a tracing document in tapyrus-core's format")
struct TracingDocumentTests {
    /// Our own document, with each variation the real one has.
    static let text = """
        # Tracing the demo daemon

        ## Tracepoints

        ### Context `demo`

        #### Tracepoint `demo:opened`

        Fires when a door opens.

        Arguments passed:
        1. Door number as `uint16`
        2. Who opened it as `pointer to C-style String` (max. length 20 characters)
        3. Opening mode as `uint32`. It is one of `0` (`PUSH`),
           `1` (`PULL`)
        4. Weight of the door `int64`

        Note: the door may also close. This paragraph is not an argument.

        #### Tracepoint demo:closed

        Arguments passed:
        1.Door number as uint16
        2.Closing time (epoch) as int64 seconds
        3.Lock bytes as pointer to unsigned chars (i.e. 4 bytes)

        ```
        #### Tracepoint `demo:inside_a_fence`
        1. Not an argument as `int8`
        ```

        ### Context `other`

        A paragraph between a context and its first tracepoint.

        #### Tracepoint `demo:noted`

        Arguments passed:
        1. A flag as `bool`
        2. Something the writer forgot to type
        3. A count as `size_t`

        ## Adding tracepoints

        1. This list belongs to no tracepoint as `int32`
        """

    static let document = TracingDocument(parsing: text, path: "demo.md")

    @Test("every tracepoint heading, with and without backticks, in document order; fenced blocks skipped")
    func headings() {
        #expect(Self.document.tracepoints.map(\.probe.description) == ["demo:opened", "demo:closed", "demo:noted"])
        #expect(Self.document.tracepoints.map(\.line) == [7, 20, 36])
        #expect(Self.document[ProbeName(provider: "demo", name: "inside_a_fence")] == nil)
    }

    @Test("arguments: number, name, type in backticks, continuation lines joined, the paragraph after the list left out")
    func backtickedTypes() throws {
        let opened = try #require(Self.document[ProbeName(provider: "demo", name: "opened")])
        #expect(opened.arguments.map(\.number) == [1, 2, 3, 4])
        #expect(opened.arguments.map(\.name) == ["Door number", "Who opened it", "Opening mode", "Weight of the door"])
        #expect(opened.arguments.map(\.typeText) == ["uint16", "pointer to C-style String", "uint32", "int64"])
        #expect(opened.arguments.map(\.type) == [.integer(.init(size: 2, isSigned: false)), .string,
                                                  .integer(.init(size: 4, isSigned: false)), .integer(.init(size: 8, isSigned: true))])
        #expect(opened.arguments[2].text.hasSuffix("`1` (`PULL`)"), "the indented line continues item 3")
        #expect(opened.arguments[2].line == 14)
        #expect(!opened.arguments.contains { $0.text.contains("paragraph") })
    }

    @Test("items written 1.Text with the type after 'as' and no backticks")
    func plainTypes() throws {
        let closed = try #require(Self.document[ProbeName(provider: "demo", name: "closed")])
        #expect(closed.arguments.map(\.name) == ["Door number", "Closing time (epoch)", "Lock bytes"])
        #expect(closed.arguments.map(\.type) == [.integer(.init(size: 2, isSigned: false)), .integer(.init(size: 8, isSigned: true)), .bytes])
        #expect(closed.arguments[2].typeText == "pointer to unsigned chars")
    }

    @Test("an item without a type has none, and the list of another section is not a tracepoint's")
    func untyped() throws {
        let noted = try #require(Self.document[ProbeName(provider: "demo", name: "noted")])
        #expect(noted.arguments.count == 3)
        #expect(noted.arguments[1].type == nil)
        #expect(noted.arguments[1].typeText == nil)
        #expect(noted.arguments[1].name == "Something the writer forgot to type")
        #expect(noted.arguments[2].type == .integer(.init(size: 8, isSigned: false)))
    }

    @Test("bad input: a missing file, a folder, a file with no tracepoint", arguments: [
        ("/nonexistent/tracing.md", "no such file"),
        ("/tmp", "is a directory"),
        ("/etc/hostname", "documents no tracepoint"),
    ])
    func badInput(path: String, problem: String) {
        #expect(throws: ConformanceInputError.self) { try TracingDocument(contentsOf: path) }
        do {
            _ = try TracingDocument(contentsOf: path)
        } catch {
            #expect(error.path == path)
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test("a document read from a file is the same as from memory")
    func fromFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracing-\(UUID().uuidString).md").path
        try Data(Self.text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let read = try TracingDocument(contentsOf: path)
        #expect(read.tracepoints == Self.document.tracepoints)
        #expect(read.path == path)
    }
}

@Suite("Argument types as documents and C++ name them")
struct ArgumentTypeTests {
    @Test("type names", arguments: [
        ("int64", "int64"), ("uint32_t", "uint32"), ("Int8", "int8"), ("uint64 seconds", "uint64"),
        ("unsigned int", "uint32"), ("unsigned long long", "uint64"), ("long", "int64"), ("std::size_t", "uint64"),
        ("size_t", "uint64"), ("short", "int16"), ("bool", "bool"), ("const char*", "string"), ("char *", "string"),
        ("unsigned char*", "bytes"), ("void *", "pointer"), ("pointer to C-style String", "string"),
        ("pointer to C-style string`(66 bytes)", "string"), ("pointer to unsigned chars (i.e. bytes)", "bytes"),
        ("pointer to char", "string"), ("pointer to a struct", "pointer"), ("pointer", "pointer"),
    ])
    func parse(text: String, expected: String) throws {
        let type = try #require(ArgumentType(parsing: text))
        #expect(type.description == expected)
    }

    @Test("not types", arguments: ["", "integer", "CAmount", "Door", "(int)", "foo int64"])
    func notTypes(text: String) {
        #expect(ArgumentType(parsing: text) == nil)
    }

    @Test("the layout a type has in a note")
    func layouts() {
        #expect(ArgumentType.integer(.init(size: 4, isSigned: true)).layout.description == "-4")
        #expect(ArgumentType.bool.layout.description == "1")
        #expect(ArgumentType.string.layout == .pointer)
        #expect(ArgumentType.bytes.layout.description == "8")
        #expect(ArgumentType.pointer.isPointer && !ArgumentType.bool.isPointer)
    }

    @Test("a type encodes as its name and decodes back")
    func codable() throws {
        let types: [ArgumentType] = [.integer(.init(size: 2, isSigned: true)), .bool, .string, .bytes, .pointer]
        let data = try JSONEncoder().encode(types)
        #expect(String(decoding: data, as: UTF8.self) == #"["int16","bool","string","bytes","pointer"]"#)
        #expect(try JSONDecoder().decode([ArgumentType].self, from: data) == types)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ArgumentType].self, from: Data(#"["door"]"#.utf8)) }
    }
}
