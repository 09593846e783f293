import CBPFShim
import Testing
@testable import TraceHarness

@Suite("Probe sites as the capture program reads them: operands and file offsets")
struct CaptureSiteTests {
    static func spec(_ text: String) throws -> ArgumentSpec { try ArgumentSpec(parsing: text) }

    // The word positions of registers in x86-64's `struct pt_regs`, fixed by
    // the kernel's ABI (arch/x86/include/uapi/asm/ptrace.h).
    static let r15 = 0, rbp = 4, rbx = 5, r8 = 9, rax = 10, rcx = 11, rdi = 14, rip = 16, rsp = 19

    @Test("registers by any of their names: rax, eax, ax and al are one word; r8 to r8b another")
    func registerNames() throws {
        for name in ["rax", "eax", "ax", "al"] { #expect(try CaptureSite.registerWord(name) == UInt8(Self.rax)) }
        for name in ["r8", "r8d", "r8w", "r8b"] { #expect(try CaptureSite.registerWord(name) == UInt8(Self.r8)) }
        #expect(try CaptureSite.registerWord("rbp") == UInt8(Self.rbp))
        #expect(try CaptureSite.registerWord("r15") == UInt8(Self.r15))
        #expect(try CaptureSite.registerWord("rip") == UInt8(Self.rip))
        #expect(try CaptureSite.registerWord("esp") == UInt8(Self.rsp))
        #expect(throws: CaptureSite.OperandError.self) { try CaptureSite.registerWord("ah") }
        #expect(throws: CaptureSite.OperandError.self) { try CaptureSite.registerWord("xmm0") }
    }

    @Test("a register operand keeps the spec's size and sign")
    func registerOperand() throws {
        let operand = try CaptureSite.operand(for: Self.spec("-4@%esi"))
        #expect(operand.kind == UInt8(TT_OPERAND_REGISTER.rawValue))
        #expect(operand.base == 13, "rsi is word 13")
        #expect(operand.size == 4)
        #expect(operand.is_signed == 1)
    }

    @Test("a constant operand carries its value")
    func constantOperand() throws {
        let operand = try CaptureSite.operand(for: Self.spec("-4@$-9"))
        #expect(operand.kind == UInt8(TT_OPERAND_CONSTANT.rawValue))
        #expect(Int64(bitPattern: operand.displacement) == -9)
        #expect(operand.size == 4 && operand.is_signed == 1)
        #expect(operand.base == UInt8(TT_NO_REGISTER))
    }

    @Test("memory operands: displacement from a base, and base + index × scale")
    func memoryOperands() throws {
        let frame = try CaptureSite.operand(for: Self.spec("-8@-24(%rbp)"))
        #expect(frame.kind == UInt8(TT_OPERAND_MEMORY.rawValue))
        #expect(Int64(bitPattern: frame.displacement) == -24)
        #expect(frame.base == UInt8(Self.rbp))
        #expect(frame.index == UInt8(TT_NO_REGISTER))
        #expect(frame.size == 8 && frame.is_signed == 1)

        let indexed = try CaptureSite.operand(for: Self.spec("2@16(%rdi,%rcx,8)"))
        #expect(indexed.base == UInt8(Self.rdi))
        #expect(indexed.index == UInt8(Self.rcx))
        #expect(indexed.scale == 8)
        #expect(indexed.displacement == 16)
        #expect(indexed.size == 2 && indexed.is_signed == 0)

        let noBase = try CaptureSite.operand(for: Self.spec("4@(,%rbx,4)"))
        #expect(noBase.base == UInt8(TT_NO_REGISTER))
        #expect(noBase.index == UInt8(Self.rbx))
    }

    @Test("operands the program cannot read are refused with the reason: RIP-relative, a bare symbol, an unknown register")
    func unreadableOperands() throws {
        func reason(_ text: String) throws -> String? {
            let spec = try Self.spec(text)
            do throws(CaptureSite.OperandError) {
                _ = try CaptureSite.operand(for: spec)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(try reason("-8@counter(%rip)")?.contains("relative to the instruction pointer") == true)
        #expect(try reason("8@counter")?.contains("symbol counter") == true)
        #expect(try reason("1@%ah")?.contains("register %ah") == true)
    }

    static let segments = [
        ELFFile.Segment(type: 1, flags: 4, offset: 0, address: 0x40_0000, fileSize: 0x800, memorySize: 0x800),
        ELFFile.Segment(type: 1, flags: 5, offset: 0x1000, address: 0x40_1000, fileSize: 0x2000, memorySize: 0x2000),
        ELFFile.Segment(type: 1, flags: 6, offset: 0x2e10, address: 0x40_3e10, fileSize: 0x200, memorySize: 0x400),
        // Not loadable (PT_NOTE): never used for offsets.
        ELFFile.Segment(type: 4, flags: 5, offset: 0x5000, address: 0x40_1000, fileSize: 0x10, memorySize: 0x10),
    ]

    static func site(address: UInt64, base: UInt64 = 0x40_0700, semaphore: UInt64 = 0, arguments: [String] = ["8@%rax"]) throws -> ProbeSite {
        ProbeSite(probe: ProbeName(provider: "p", name: "n"), address: address, base: base, semaphore: semaphore,
                  arguments: try arguments.map(spec))
    }

    @Test("a site's file offset comes from the executable segment that holds its address, its semaphore's from the segment that holds it")
    func fileOffsets() throws {
        let site = try CaptureSite(site: Self.site(address: 0x40_1234, semaphore: 0x40_3f00), probeIndex: 3,
                                   segments: Self.segments, stapsdtBase: 0x40_0700)
        #expect(site.offset == 0x1234)
        #expect(site.semaphoreOffset == 0x2f00)
        #expect(site.probeIndex == 3)
        let plain = try CaptureSite(site: Self.site(address: 0x40_2ff0), probeIndex: 0, segments: Self.segments, stapsdtBase: nil)
        #expect(plain.semaphoreOffset == 0)
        #expect(plain.offset == 0x2ff0)
    }

    @Test("a prelinked binary's moved .stapsdt.base moves the site and its semaphore by as much")
    func prelinkSlide() throws {
        let site = try CaptureSite(site: Self.site(address: 0x40_1234, base: 0x40_0700, semaphore: 0x40_3f00), probeIndex: 0,
                                   segments: Self.segments, stapsdtBase: 0x40_0710)
        #expect(site.offset == 0x1244)
        #expect(site.semaphoreOffset == 0x2f10)
    }

    @Test("a site outside every executable segment, or a semaphore outside the file's bytes, is refused")
    func outsideSegments() throws {
        func reason(_ site: ProbeSite) -> String? {
            do throws(CaptureSiteError) {
                _ = try CaptureSite(site: site, probeIndex: 0, segments: Self.segments, stapsdtBase: nil)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(try reason(Self.site(address: 0x40_0100))?.contains("no executable segment holds address 0x400100") == true)
        #expect(try reason(Self.site(address: 0x40_1000, semaphore: 0x40_4100))?.contains("semaphore at 0x404100") == true,
                "in .bss: past the segment's file size")
        #expect(try reason(Self.site(address: 0x40_1000, arguments: ["-8@counter(%rip)"]))?.hasPrefix("argument 0 (-8@counter(%rip)): ") == true)
    }

    @Test("the site table entry carries the probe index, the layout and the operands, the rest reading as 0")
    func abiEntry() throws {
        let site = try CaptureSite(site: Self.site(address: 0x40_1000, arguments: ["8@%rax", "-4@$7"]), probeIndex: 5,
                                   segments: Self.segments, stapsdtBase: nil)
        let layout = try CaptureLayout(tracepoint: FeeInfo.tracepoint)
        let entry = site.abi(layout: layout)
        #expect(entry.probe == 5)
        #expect(entry.layout.arg_count == 2)
        let operands = withUnsafeBytes(of: entry.operands) { Array($0.bindMemory(to: tt_operand.self)) }
        #expect(operands.count == Int(TT_MAX_ARGS))
        #expect(operands[0].kind == UInt8(TT_OPERAND_REGISTER.rawValue) && operands[0].base == UInt8(Self.rax))
        #expect(operands[1].kind == UInt8(TT_OPERAND_CONSTANT.rawValue) && operands[1].displacement == 7)
        #expect(operands[2...].allSatisfy { $0.kind == UInt8(TT_OPERAND_CONSTANT.rawValue) && $0.displacement == 0 })
    }
}
