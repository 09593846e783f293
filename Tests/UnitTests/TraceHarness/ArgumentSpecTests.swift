import Testing
@testable import TraceHarness

@Suite("USDT argument spec parsing")
struct ArgumentSpecTests {
    @Test("a signed 8-byte stack slot below the frame pointer: -8@-3512(%rbp)")
    func negativeFrameOffset() throws {
        let spec = try ArgumentSpec(parsing: "-8@-3512(%rbp)")
        #expect(spec.size == 8)
        #expect(spec.isSigned)
        #expect(spec.operand == .memory(offset: -3512, symbol: nil, base: "rbp", index: nil, scale: 1))
        #expect(spec.text == "-8@-3512(%rbp)")
        #expect(spec.description == "-8@-3512(%rbp)")
    }

    @Test("an unsigned 8-byte register: 8@%rax")
    func register64() throws {
        let spec = try ArgumentSpec(parsing: "8@%rax")
        #expect(spec.size == 8)
        #expect(!spec.isSigned)
        #expect(spec.operand == .register("rax"))
    }

    @Test("a register name with digits and a suffix: 4@%r15d")
    func registerWithDigits() throws {
        let spec = try ArgumentSpec(parsing: "4@%r15d")
        #expect(spec.size == 4)
        #expect(!spec.isSigned)
        #expect(spec.operand == .register("r15d"))
    }

    @Test("signed constants, positive and negative: -4@$5 and -4@$-42")
    func constants() throws {
        let five = try ArgumentSpec(parsing: "-4@$5")
        #expect(five.size == 4)
        #expect(five.isSigned)
        #expect(five.operand == .constant(5))

        let negative = try ArgumentSpec(parsing: "-4@$-42")
        #expect(negative.isSigned)
        #expect(negative.operand == .constant(-42))
    }

    @Test("hexadecimal constants: $0x10, $0XfF and $-0x10")
    func hexConstants() throws {
        #expect(try ArgumentSpec(parsing: "8@$0x10").operand == .constant(16))
        #expect(try ArgumentSpec(parsing: "2@$0XfF").operand == .constant(255))
        #expect(try ArgumentSpec(parsing: "-8@$-0x10").operand == .constant(-16))
    }

    @Test("memory through a register without displacement: 8@(%r15)")
    func memoryNoDisplacement() throws {
        let spec = try ArgumentSpec(parsing: "8@(%r15)")
        #expect(spec.operand == .memory(offset: 0, symbol: nil, base: "r15", index: nil, scale: 1))
    }

    @Test("memory with a positive displacement: 8@24(%r15) and 1@49(%rsp)")
    func memoryPositiveDisplacement() throws {
        #expect(try ArgumentSpec(parsing: "8@24(%r15)").operand == .memory(offset: 24, symbol: nil, base: "r15", index: nil, scale: 1))
        let byte = try ArgumentSpec(parsing: "1@49(%rsp)")
        #expect(byte.size == 1)
        #expect(!byte.isSigned)
        #expect(byte.operand == .memory(offset: 49, symbol: nil, base: "rsp", index: nil, scale: 1))
    }

    @Test("memory with base, index and scale: 8@-8(%rbp,%rax,8)")
    func memoryBaseIndexScale() throws {
        let spec = try ArgumentSpec(parsing: "8@-8(%rbp,%rax,8)")
        #expect(spec.operand == .memory(offset: -8, symbol: nil, base: "rbp", index: "rax", scale: 8))
    }

    @Test("an index without a base: 4@0x10(,%rcx,4)")
    func memoryIndexOnly() throws {
        let spec = try ArgumentSpec(parsing: "4@0x10(,%rcx,4)")
        #expect(spec.operand == .memory(offset: 16, symbol: nil, base: nil, index: "rcx", scale: 4))
    }

    @Test("a RIP-relative global: -8@fixture_global_value(%rip)")
    func ripRelativeSymbol() throws {
        let spec = try ArgumentSpec(parsing: "-8@fixture_global_value(%rip)")
        #expect(spec.size == 8)
        #expect(spec.isSigned)
        #expect(spec.operand == .memory(offset: 0, symbol: "fixture_global_value", base: "rip", index: nil, scale: 1))
    }

    @Test("a symbol with an offset: 4@counter+8(%rip) and 4@counter-4(%rip)")
    func symbolWithOffset() throws {
        #expect(try ArgumentSpec(parsing: "4@counter+8(%rip)").operand == .memory(offset: 8, symbol: "counter", base: "rip", index: nil, scale: 1))
        #expect(try ArgumentSpec(parsing: "4@counter-4(%rip)").operand == .memory(offset: -4, symbol: "counter", base: "rip", index: nil, scale: 1))
    }

    @Test("every allowed size, signed and unsigned, parses with that size and sign", arguments: [1, 2, 4, 8], [false, true])
    func sizes(size: Int, signed: Bool) throws {
        let spec = try ArgumentSpec(parsing: "\(signed ? "-" : "")\(size)@%rdi")
        #expect(spec.size == size)
        #expect(spec.isSigned == signed)
    }

    @Test("a spec without '@' is rejected: abc")
    func missingAt() {
        let error = #expect(throws: ArgumentSpecError.self) { try ArgumentSpec(parsing: "abc") }
        #expect(error == ArgumentSpecError(spec: "abc", reason: "missing '@'"))
        #expect(error?.description == "cannot parse USDT argument 'abc': missing '@'")
    }

    @Test("sizes other than 1, 2, 4 and 8 are rejected: 3@%rax, 16@%rax, x@%rax")
    func badSize() {
        for text in ["3@%rax", "16@%rax", "x@%rax", "-@%rax", "0@%rax"] {
            let error = #expect(throws: ArgumentSpecError.self, "\(text)") { try ArgumentSpec(parsing: text) }
            #expect(error?.spec == text)
            #expect(error?.reason == "size must be 1, 2, 4 or 8 bytes")
        }
    }

    @Test("an empty operand is rejected: 8@")
    func emptyOperand() {
        let error = #expect(throws: ArgumentSpecError.self) { try ArgumentSpec(parsing: "8@") }
        #expect(error?.reason == "unrecognised operand ''")
        #expect(error?.description == "cannot parse USDT argument '8@': unrecognised operand ''")
    }

    @Test("an unclosed memory operand is rejected: 8@(%rax")
    func unbalancedParenthesis() {
        let error = #expect(throws: ArgumentSpecError.self) { try ArgumentSpec(parsing: "8@(%rax") }
        #expect(error?.spec == "8@(%rax")
        #expect(error?.reason == "unbalanced parenthesis in '(%rax'")
    }

    @Test("bad registers, constants, scales and memory operands are rejected with a reason naming the part")
    func otherErrors() {
        let cases: [(String, String)] = [
            ("8@%", "bad register '%'"),
            ("8@%r-x", "bad register '%r-x'"),
            ("8@$", "bad constant '$'"),
            ("8@$12abc", "bad constant '$12abc'"),
            ("8@(rax)", "bad register 'rax'"),
            ("8@(%rbp,%rax,3)", "bad scale '3'"),
            ("8@(%rbp,%rax,8,1)", "bad memory operand '(%rbp,%rax,8,1)'"),
        ]
        for (text, reason) in cases {
            let error = #expect(throws: ArgumentSpecError.self, "\(text)") { try ArgumentSpec(parsing: text) }
            #expect(error?.reason == reason, "\(text)")
        }
    }
}
