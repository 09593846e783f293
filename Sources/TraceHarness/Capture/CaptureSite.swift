import CBPFShim

/// One probe site as the kernel and the capture program see it: the file
/// offsets where the uprobe and the semaphore go, and where each argument is
/// when the probe fires.
///
/// The harness reads arguments itself, from the operands of the site's ELF
/// note (``ArgumentSpec``), instead of through libbpf's USDT support: the
/// same site table serves a multi-uprobe link and one uprobe per site.
struct CaptureSite: Sendable {
    var site: ProbeSite
    /// The index of the site's probe in the capture.
    var probeIndex: Int
    /// The file offset of the probe's instruction.
    var offset: UInt64
    /// The file offset of the probe's semaphore, or 0 if it has none.
    var semaphoreOffset: UInt64
    var operands: [tt_operand]

    init(site: ProbeSite, probeIndex: Int, segments: [ELFFile.Segment], stapsdtBase: UInt64?) throws(CaptureSiteError) {
        self.site = site
        self.probeIndex = probeIndex
        // A prelinked binary moved its sections after the note was written;
        // `.stapsdt.base` tells by how much.
        let slide = stapsdtBase.map { $0 &- site.base } ?? 0
        let address = site.address &+ slide
        guard let text = segments.first(where: {
            $0.type == ELFFile.Segment.loadable && $0.flags & ELFFile.Segment.executable != 0 && $0.contains(address)
        }) else {
            throw CaptureSiteError(site: site, reason: "no executable segment holds address 0x\(String(address, radix: 16))")
        }
        offset = address - text.address + text.offset
        if site.hasSemaphore {
            let semaphore = site.semaphore &+ slide
            guard let data = segments.first(where: { $0.type == ELFFile.Segment.loadable && $0.contains(semaphore) }),
                  semaphore - data.address < data.fileSize
            else {
                throw CaptureSiteError(site: site, reason: "no segment of the file holds its semaphore at 0x\(String(semaphore, radix: 16))")
            }
            semaphoreOffset = semaphore - data.address + data.offset
        } else {
            semaphoreOffset = 0
        }
        operands = try site.arguments.enumerated().map { index, spec throws(CaptureSiteError) in
            do throws(OperandError) {
                return try Self.operand(for: spec)
            } catch {
                throw CaptureSiteError(site: site, reason: "argument \(index) (\(spec)): \(error.reason)")
            }
        }
        guard operands.count <= Int(TT_MAX_ARGS) else {
            throw CaptureSiteError(site: site, reason: "more than \(TT_MAX_ARGS) arguments")
        }
    }

    /// The entry of the program's `sites` map for this site.
    func abi(layout: CaptureLayout) -> tt_site {
        var entry = tt_site()
        entry.probe = UInt32(probeIndex)
        entry.layout = layout.abi
        withUnsafeMutableBytes(of: &entry.operands) { raw in
            let slots = raw.bindMemory(to: tt_operand.self)
            for index in 0..<slots.count {
                slots[index] = index < operands.count ? operands[index] : Self.zero
            }
        }
        return entry
    }

    /// A missing argument reads as the constant 0.
    private static let zero = tt_operand(
        displacement: 0, kind: UInt8(TT_OPERAND_CONSTANT.rawValue), base: UInt8(TT_NO_REGISTER),
        index: UInt8(TT_NO_REGISTER), scale: 1, size: 8, is_signed: 0, reserved: (0, 0))

    struct OperandError: Error {
        var reason: String
    }

    /// How the program finds the value of an argument described by `spec`.
    static func operand(for spec: ArgumentSpec) throws(OperandError) -> tt_operand {
        var operand = zero
        operand.size = UInt8(spec.size)
        operand.is_signed = spec.isSigned ? 1 : 0
        switch spec.operand {
        case .constant(let value):
            operand.displacement = UInt64(bitPattern: value)
        case .register(let name):
            operand.kind = UInt8(TT_OPERAND_REGISTER.rawValue)
            operand.base = try registerWord(name)
        case .memory(let offset, let symbol, let base, let index, let scale):
            if spec.isInstructionPointerRelative {
                throw OperandError(reason: "addressed relative to the instruction pointer (a global variable), which the capture program cannot read")
            }
            if let symbol {
                throw OperandError(reason: "names the symbol \(symbol), which the capture program cannot resolve")
            }
            operand.kind = UInt8(TT_OPERAND_MEMORY.rawValue)
            operand.displacement = UInt64(bitPattern: offset)
            operand.base = try base.map(registerWord) ?? UInt8(TT_NO_REGISTER)
            operand.index = try index.map(registerWord) ?? UInt8(TT_NO_REGISTER)
            operand.scale = UInt8(scale)
        }
        return operand
    }

    /// The word index in the registers' `struct pt_regs` of a register, by
    /// any of its names (`rax`, `eax`, `ax`, `al`; `r8` … `r8b`).
    static func registerWord(_ name: String) throws(OperandError) -> UInt8 {
        guard let word = registerWords[name] else {
            throw OperandError(reason: "register %\(name) cannot be read on this architecture")
        }
        return word
    }

    #if arch(x86_64)
    static let registerWords: [String: UInt8] = {
        func word(_ path: KeyPath<pt_regs, UInt>) -> UInt8 { UInt8(MemoryLayout<pt_regs>.offset(of: path)! / 8) }
        let registers: [([String], KeyPath<pt_regs, UInt>)] = [
            (["rax", "eax", "ax", "al"], \.rax), (["rbx", "ebx", "bx", "bl"], \.rbx),
            (["rcx", "ecx", "cx", "cl"], \.rcx), (["rdx", "edx", "dx", "dl"], \.rdx),
            (["rsi", "esi", "si", "sil"], \.rsi), (["rdi", "edi", "di", "dil"], \.rdi),
            (["rbp", "ebp", "bp", "bpl"], \.rbp), (["rsp", "esp", "sp", "spl"], \.rsp),
            (["rip", "eip"], \.rip),
            (["r8", "r8d", "r8w", "r8b"], \.r8), (["r9", "r9d", "r9w", "r9b"], \.r9),
            (["r10", "r10d", "r10w", "r10b"], \.r10), (["r11", "r11d", "r11w", "r11b"], \.r11),
            (["r12", "r12d", "r12w", "r12b"], \.r12), (["r13", "r13d", "r13w", "r13b"], \.r13),
            (["r14", "r14d", "r14w", "r14b"], \.r14), (["r15", "r15d", "r15w", "r15b"], \.r15),
        ]
        var table: [String: UInt8] = [:]
        for (names, path) in registers {
            for name in names { table[name] = word(path) }
        }
        return table
    }()
    #else
    // ArgumentSpec parses the AT&T operands of x86-64 notes only.
    static let registerWords: [String: UInt8] = [:]
    #endif
}

/// A probe site the capture program cannot attach to or read.
struct CaptureSiteError: Error, Sendable {
    var site: ProbeSite
    var reason: String
}
