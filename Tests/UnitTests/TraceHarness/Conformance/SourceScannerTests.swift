import Foundation
import Testing
@testable import TraceHarness

@Suite("Finding tracing macro calls in C++ sources")
struct SourceScannerTests {
    static func calls(_ text: String) -> [SourceCallSite] {
        SourceScanner.callSites(in: text, file: "demo.cpp")
    }

    @Test("a call over several lines: probe, lines, macro, arguments")
    func multiLine() throws {
        let found = Self.calls("""
            void Door::Open()
            {
                TRACE3(demo, opened,
                    m_number,
                    who.c_str(),
                    (uint32_t)mode
                );
            }
            """)
        let call = try #require(found.first)
        #expect(found.count == 1)
        #expect(call.probe.description == "demo:opened")
        #expect(call.location == SourceLine(file: "demo.cpp", line: 3))
        #expect(call.endLine == 7)
        #expect(call.contains(line: 5) && !call.contains(line: 8))
        #expect(call.macro == "TRACE3")
        #expect(call.declaredCount == 3)
        #expect(call.arguments.map(\.expression) == ["m_number", "who.c_str()", "(uint32_t)mode"])
    }

    @Test("commas inside parentheses, brackets, braces and template arguments do not split")
    func nestedCommas() throws {
        let call = try #require(Self.calls("""
            TRACE4(demo, nested, pick(a, b), table[f(x, y)], static_cast<std::pair<int, long>>(p).first, Make<int, 3>{1, 2});
            """).first)
        #expect(call.arguments.map(\.expression) == [
            "pick(a, b)", "table[f(x, y)]", "static_cast<std::pair<int, long>>(p).first", "Make<int, 3>{1, 2}",
        ])
    }

    @Test("comparisons and arrows are not template brackets")
    func notTemplates() throws {
        let call = try #require(Self.calls("TRACE3(demo, compare, a < b, c > d, p->q);").first)
        #expect(call.arguments.map(\.expression) == ["a < b", "c > d", "p->q"])
        let shift = try #require(Self.calls("TRACE2(demo, shift, x<<2, y>>1);").first)
        #expect(shift.arguments.map(\.expression) == ["x<<2", "y>>1"])
    }

    @Test("comments are dropped, strings and characters are kept whole")
    func commentsAndLiterals() throws {
        let found = Self.calls(#"""
            // TRACE1(demo, commented_out, x);
            /* TRACE1(demo, also_commented, x); */
            const char* text = "TRACE1(demo, in_a_string, x)";
            TRACE4(demo, literals, /* the door */ door, // its number
                "a, (string)", ',', "escaped \", quote");
            """#)
        #expect(found.map(\.probe.name) == ["literals"])
        #expect(found.first?.arguments.map(\.expression) == ["door", #""a, (string)""#, "','", #""escaped \", quote""#])
    }

    @Test("preprocessor lines are skipped: the macros' own definitions are no calls")
    func directives() {
        let found = Self.calls(#"""
            #define TRACE2(context, event, a, b) DTRACE_PROBE2(context, event, a, b)
            #define TRACEPOINT(context, ...) \
                DO_TRACE(context, __VA_ARGS__)
            #if 0
            #endif
            int x = 1;
            TRACE1(demo, after_defines, x);
            """#)
        #expect(found.map(\.probe.name) == ["after_defines"])
        #expect(found.first?.location.line == 7)
    }

    @Test("every macro form: TRACE, TRACEn, TRACEPOINT, DTRACE_PROBEn, STAP_PROBEn; other names are not")
    func forms() {
        let found = Self.calls("""
            TRACE(demo, bare);
            TRACE12(demo, twelve, a, b, c, d, e, f, g, h, i, j, k, l);
            TRACEPOINT(demo, variadic, a, b);
            DTRACE_PROBE1(demo, sdt, a);
            STAP_PROBE2(demo, stap, a, b);
            MY_TRACE2(demo, wrapper, a, b);
            TRACE13(demo, too_many, a);
            TRACE2X(demo, suffix, a, b);
            obj.TRACE_LEVEL = 2;
            TRACE2;
            """)
        #expect(found.map(\.probe.name) == ["bare", "twelve", "variadic", "sdt", "stap"])
        #expect(found.map(\.declaredCount) == [0, 12, nil, 1, 2])
        #expect(found.map(\.arguments.count) == [0, 12, 2, 1, 2])
    }

    @Test("a macro whose count disagrees with its arguments is still read as written")
    func arity() throws {
        let call = try #require(Self.calls("TRACE2(demo, arity, a, b, c);").first)
        #expect(call.declaredCount == 2)
        #expect(call.arguments.count == 3)
    }

    @Test("a tree: C and C++ files found below the folder, named relative to it, hidden folders skipped")
    func tree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let files = [
            "door.cpp": "TRACE1(demo, door, x);\n",
            "wallet/keys.h": "\n\ninline void f() { TRACE2(demo, keys, a, b); }\n",
            "notes.txt": "TRACE1(demo, text_file, x);\n",
            ".git/hook.cpp": "TRACE1(demo, hidden, x);\n",
            "plain.c": "int main(void) { return 0; }\n",
        ]
        for (name, text) in files {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let found = try SourceScanner.callSites(inTreeAt: root.path)
        #expect(found.map(\.location.description) == ["door.cpp:1", "wallet/keys.h:3"])
        #expect(found.map(\.probe.name) == ["door", "keys"])
    }

    @Test("bad input: a missing folder, a file instead of a folder")
    func badInput() {
        #expect(throws: ConformanceInputError.self) { try SourceScanner.callSites(inTreeAt: "/nonexistent/src") }
        #expect(throws: ConformanceInputError.self) { try SourceScanner.callSites(inTreeAt: "/etc/hostname") }
        do { _ = try SourceScanner.callSites(inTreeAt: "/etc/hostname") } catch {
            #expect(error.description == "/etc/hostname: is a file; --source names the folder of the C++ sources")
        }
    }
}

@Suite("What a call site's expression says about its type")
struct SourceArgumentTests {
    @Test("casts over the whole expression", arguments: [
        ("(uint32_t)outpoint.n", "uint32_t", "uint32"),
        ("(int64_t)(now() - start)", "int64_t", "int64"),
        ("( bool ) flag", "bool", "bool"),
        ("static_cast<uint64_t>(count)", "uint64_t", "uint64"),
        ("reinterpret_cast<const unsigned char*>(hash.data())", "const unsigned char*", "bytes"),
        ("uint16_t(port)", "uint16_t", "uint16"),
        ("int64_t{value}", "int64_t", "int64"),
        ("(unsigned int)size", "unsigned int", "uint32"),
        ("((uint8_t)(x))", "uint8_t", "uint8"),
        ("(const char*)name", "const char*", "string"),
    ])
    func casts(expression: String, cast: String, type: String) {
        let argument = SourceArgument(expression: expression)
        #expect(argument.cast == cast)
        #expect(argument.type?.description == type)
        #expect(!argument.passesAddress)
    }

    @Test("a cast to a type the text does not define is recorded without a type")
    func unknownCast() {
        let argument = SourceArgument(expression: "(CAmount)fee")
        #expect(argument.cast == "CAmount")
        #expect(argument.type == nil)
    }

    @Test("a cast of the first operand only is no cast of the whole", arguments: ["(int64_t)a - b", "(uint32_t)x * 2", "(a + b)", "(n) ? 1 : 2"])
    func partialCasts(expression: String) {
        #expect(SourceArgument(expression: expression).cast == nil)
    }

    @Test("forms that tell the type", arguments: [
        ("who.c_str()", "string"), ("peer->name.c_str()", "string"), (#""BNB""#, "string"),
        (#"used ? "BNB" : "knapsack""#, "string"), ("hash.begin()", "bytes"), ("msg.data.data()", "bytes"),
        ("coins.size()", "uint64"), ("true", "bool"), ("42", "int32"), ("7u", "uint32"), ("-1ll", "int64"),
    ])
    func forms(expression: String, type: String) {
        #expect(SourceArgument(expression: expression).type?.description == type)
    }

    @Test("an address taken with &, under casts too; && is not one")
    func addresses() {
        #expect(SourceArgument(expression: "&nChange").passesAddress)
        #expect(SourceArgument(expression: "&nChange").type == .pointer)
        #expect(SourceArgument(expression: "(void*)&state").passesAddress)
        #expect(SourceArgument(expression: "(void*)&state").type == .pointer)
        #expect(!SourceArgument(expression: "a && b").passesAddress)
        #expect(!SourceArgument(expression: "nChange").passesAddress)
    }

    @Test("a plain variable says nothing of its type")
    func unknown() {
        #expect(SourceArgument(expression: "nChange").type == nil)
        #expect(SourceArgument(expression: "entity.second").type == nil)
        #expect(SourceArgument(expression: "a - b").type == nil)
    }
}
