/// Why a binary's debug information cannot tell the source lines of its
/// addresses.
public enum DebugInfoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No `.debug_line` section (built without `-g`, or stripped).
    case noLineTable(path: String)
    /// The line table is compressed (`-gz`, `--compress-debug-sections`).
    case compressed(path: String)
    case unsupportedVersion(path: String, version: Int)
    case malformed(path: String, reason: String)
    /// The file itself could not be read as ELF.
    case unreadable(ProbeDiscoveryError)

    public var description: String {
        switch self {
        case .noLineTable(let path): "\(path): has no line table (.debug_line); build it with -g, or do not strip it"
        case .compressed(let path): "\(path): its line table is compressed; build it without -gz or decompress it (objcopy --decompress-debug-sections)"
        case .unsupportedVersion(let path, let version): "\(path): DWARF line table version \(version) is not supported (2 to 5 are)"
        case .malformed(let path, let reason): "\(path): malformed line table: \(reason)"
        case .unreadable(let error): error.description
        }
    }
}

/// The source lines of machine addresses, from a binary's DWARF line table
/// (`.debug_line`, versions 2 to 5).
///
/// This is how a probe site's address becomes a file and line: the USDT
/// note gives the address of the probe's `nop`, the line table the line of
/// the macro call that emitted it, inlined or not.
public enum DebugLineTable {
    /// The source line of each address in `addresses` that the binary at
    /// `path` has a line for. Paths are as the compiler recorded them
    /// (usually absolute).
    public static func locations(of addresses: [UInt64], inBinaryAt path: String) throws(DebugInfoError) -> [UInt64: SourceLine] {
        let file: ELFFile
        do { file = try ELFFile(contentsOf: path) } catch { throw .unreadable(error) }
        return try locations(of: addresses, in: file)
    }

    /// The same for ELF bytes held in memory.
    public static func locations(of addresses: [UInt64], inELF bytes: [UInt8], path: String = "<memory>") throws(DebugInfoError) -> [UInt64: SourceLine] {
        let file: ELFFile
        do { file = try ELFFile(bytes: bytes, path: path) } catch { throw .unreadable(error) }
        return try locations(of: addresses, in: file)
    }

    static func locations(of addresses: [UInt64], in file: ELFFile) throws(DebugInfoError) -> [UInt64: SourceLine] {
        if file.section(named: ".zdebug_line") != nil { throw .compressed(path: file.path) }
        guard let lineSection = file.section(named: ".debug_line") else { throw .noLineTable(path: file.path) }
        let compressedFlag: UInt64 = 0x800
        guard lineSection.flags & compressedFlag == 0 else { throw .compressed(path: file.path) }
        func contents(_ name: String) throws(DebugInfoError) -> [UInt8] {
            guard let section = file.section(named: name) else { return [] }
            guard section.flags & compressedFlag == 0 else { throw .compressed(path: file.path) }
            do { return try file.contents(of: section) } catch { throw .unreadable(error) }
        }
        let lines = try contents(".debug_line")
        let strings = DebugStrings(lineStrings: try contents(".debug_line_str"), strings: try contents(".debug_str"))
        var program = LineProgramReader(path: file.path, targets: Array(Set(addresses)).sorted(), strings: strings)
        try lines.withUnsafeBufferPointer { buffer throws(DebugInfoError) in
            try program.run(buffer)
        }
        return program.found
    }
}

/// The string sections line tables point into.
private struct DebugStrings {
    var lineStrings: [UInt8]
    var strings: [UInt8]

    static func string(in bytes: [UInt8], at offset: UInt64) -> String? {
        guard offset < UInt64(bytes.count) else { return nil }
        let start = Int(offset)
        let end = bytes[start...].firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Reads little-endian DWARF values from a buffer, with bounds checks.
private struct DWARFCursor {
    let buffer: UnsafeBufferPointer<UInt8>
    var offset: Int
    let end: Int

    var atEnd: Bool { offset >= end }

    mutating func byte() throws(DWARFCursorError) -> UInt8 {
        guard offset < end else { throw DWARFCursorError() }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func integer(bytes count: Int) throws(DWARFCursorError) -> UInt64 {
        guard count <= 8, offset + count <= end else { throw DWARFCursorError() }
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(buffer[offset + index]) << (8 * index) }
        offset += count
        return value
    }

    mutating func skip(_ count: Int) throws(DWARFCursorError) {
        guard count >= 0, offset + count <= end else { throw DWARFCursorError() }
        offset += count
    }

    mutating func uleb() throws(DWARFCursorError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.byte()
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }

    mutating func sleb() throws(DWARFCursorError) -> Int64 {
        var value: Int64 = 0
        var shift: Int64 = 0
        var byte: UInt8
        repeat {
            byte = try self.byte()
            if shift < 64 { value |= Int64(byte & 0x7f) << shift }
            shift += 7
        } while byte & 0x80 != 0
        if shift < 64, byte & 0x40 != 0 { value |= -(Int64(1) << shift) }
        return value
    }

    mutating func cString() throws(DWARFCursorError) -> String {
        let start = offset
        while try byte() != 0 {}
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<(offset - 1)]), as: UTF8.self)
    }
}

private struct DWARFCursorError: Error {}

/// Runs every line program of `.debug_line` and keeps, for each target
/// address, the row that covers it.
private struct LineProgramReader {
    let path: String
    /// Sorted, without duplicates.
    let targets: [UInt64]
    let strings: DebugStrings
    var found: [UInt64: SourceLine] = [:]

    init(path: String, targets: [UInt64], strings: DebugStrings) {
        self.path = path
        self.targets = targets
        self.strings = strings
    }

    mutating func run(_ buffer: UnsafeBufferPointer<UInt8>) throws(DebugInfoError) {
        guard !targets.isEmpty else { return }
        var offset = 0
        while offset + 4 <= buffer.count {
            var cursor = DWARFCursor(buffer: buffer, offset: offset, end: buffer.count)
            do {
                var length = try cursor.integer(bytes: 4)
                var offsetSize = 4
                if length == 0xffff_ffff {
                    length = try cursor.integer(bytes: 8)
                    offsetSize = 8
                }
                guard length <= UInt64(buffer.count - cursor.offset) else {
                    throw DebugInfoError.malformed(path: path, reason: "a unit at offset \(offset) runs past the section")
                }
                let unitEnd = cursor.offset + Int(length)
                cursor = DWARFCursor(buffer: buffer, offset: cursor.offset, end: unitEnd)
                try unit(&cursor, offsetSize: offsetSize, at: offset)
                offset = unitEnd
            } catch let error as DebugInfoError {
                throw error
            } catch {
                throw .malformed(path: path, reason: "the unit at offset \(offset) is truncated")
            }
        }
    }

    /// One unit: its header, file table and line program.
    private mutating func unit(_ cursor: inout DWARFCursor, offsetSize: Int, at unitOffset: Int) throws -> Void {
        let version = Int(try cursor.integer(bytes: 2))
        guard (2...5).contains(version) else { throw DebugInfoError.unsupportedVersion(path: path, version: version) }
        if version >= 5 {
            _ = try cursor.byte() // address size (set_address says its own)
            _ = try cursor.byte() // segment selector size
        }
        let headerLength = try cursor.integer(bytes: offsetSize)
        let programStart = cursor.offset + Int(clamping: headerLength)
        guard programStart <= cursor.end else { throw DWARFCursorError() }
        let minimumInstructionLength = UInt64(try cursor.byte())
        if version >= 4 { _ = try cursor.byte() } // maximum operations per instruction
        _ = try cursor.byte() // default is_stmt
        let lineBase = Int64(Int8(bitPattern: try cursor.byte()))
        let lineRange = UInt64(try cursor.byte())
        let opcodeBase = try cursor.byte()
        guard lineRange > 0, opcodeBase > 0 else { throw DebugInfoError.malformed(path: path, reason: "unit at offset \(unitOffset) has line range 0") }
        var standardLengths: [UInt8] = []
        for _ in 1..<opcodeBase { standardLengths.append(try cursor.byte()) }

        let files = version >= 5
            ? try filesVersion5(&cursor, offsetSize: offsetSize)
            : try filesVersion2to4(&cursor)
        cursor.offset = programStart
        try program(&cursor, files: files, minimumInstructionLength: minimumInstructionLength,
                    lineBase: lineBase, lineRange: lineRange, opcodeBase: opcodeBase, standardLengths: standardLengths)
    }

    /// Files by index (1-based, index 0 unused) with their directories.
    private func filesVersion2to4(_ cursor: inout DWARFCursor) throws -> [String] {
        var directories = [""]
        while true {
            let directory = try cursor.cString()
            if directory.isEmpty { break }
            directories.append(directory)
        }
        var files = [""]
        while true {
            let name = try cursor.cString()
            if name.isEmpty { break }
            let directory = Int(clamping: try cursor.uleb())
            _ = try cursor.uleb() // modification time
            _ = try cursor.uleb() // length
            files.append(Self.join(directory < directories.count ? directories[directory] : "", name))
        }
        return files
    }

    /// Files by index (0-based) with their directories, read through the
    /// entry formats DWARF 5 declares.
    private func filesVersion5(_ cursor: inout DWARFCursor, offsetSize: Int) throws -> [String] {
        func entries(_ cursor: inout DWARFCursor) throws -> [(path: String, directory: Int)] {
            let formatCount = Int(try cursor.byte())
            var formats: [(content: UInt64, form: UInt64)] = []
            for _ in 0..<formatCount { formats.append((try cursor.uleb(), try cursor.uleb())) }
            let count = try cursor.uleb()
            guard count < 1_000_000 else { throw DWARFCursorError() }
            var result: [(String, Int)] = []
            for _ in 0..<count {
                var path = "", directory = 0
                for format in formats {
                    let value = try formValue(&cursor, form: format.form, offsetSize: offsetSize)
                    switch format.content {
                    case 1: path = value.string ?? "?" // DW_LNCT_path
                    case 2: directory = Int(clamping: value.number ?? 0) // DW_LNCT_directory_index
                    default: break
                    }
                }
                result.append((path, directory))
            }
            return result
        }
        let directories = try entries(&cursor).map(\.path)
        let compilationDirectory = directories.first ?? ""
        return try entries(&cursor).map { entry in
            var directory = entry.directory < directories.count ? directories[entry.directory] : ""
            if !directory.hasPrefix("/"), entry.directory != 0 { directory = Self.join(compilationDirectory, directory) }
            return Self.join(directory, entry.path)
        }
    }

    private struct FormValue {
        var string: String?
        var number: UInt64?
    }

    private func formValue(_ cursor: inout DWARFCursor, form: UInt64, offsetSize: Int) throws -> FormValue {
        switch form {
        case 0x08: return FormValue(string: try cursor.cString()) // DW_FORM_string
        case 0x1f: // DW_FORM_line_strp
            let offset = try cursor.integer(bytes: offsetSize)
            return FormValue(string: DebugStrings.string(in: strings.lineStrings, at: offset))
        case 0x0e: // DW_FORM_strp
            let offset = try cursor.integer(bytes: offsetSize)
            return FormValue(string: DebugStrings.string(in: strings.strings, at: offset))
        case 0x0f: return FormValue(number: try cursor.uleb()) // DW_FORM_udata
        case 0x0b: return FormValue(number: try cursor.integer(bytes: 1))
        case 0x05: return FormValue(number: try cursor.integer(bytes: 2))
        case 0x06: return FormValue(number: try cursor.integer(bytes: 4))
        case 0x07: return FormValue(number: try cursor.integer(bytes: 8))
        case 0x1e: try cursor.skip(16); return FormValue() // DW_FORM_data16 (MD5)
        case 0x09: try cursor.skip(Int(clamping: try cursor.uleb())); return FormValue() // DW_FORM_block
        case 0x0d: _ = try cursor.sleb(); return FormValue()
        case 0x1a: _ = try cursor.uleb(); return FormValue() // DW_FORM_strx: needs .debug_str_offsets
        case 0x25: try cursor.skip(1); return FormValue()
        case 0x26: try cursor.skip(2); return FormValue()
        case 0x27: try cursor.skip(3); return FormValue()
        case 0x28: try cursor.skip(4); return FormValue()
        default: throw DebugInfoError.malformed(path: path, reason: "file entry form 0x\(String(form, radix: 16)) is not supported")
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") || directory.isEmpty { return SourceLine.normalised(name) }
        return SourceLine.normalised(directory + "/" + name)
    }

    /// The line-number state machine. Each row covers the addresses from its
    /// own up to the next row's; a target in that range gets the row's line.
    private mutating func program(_ cursor: inout DWARFCursor, files: [String], minimumInstructionLength: UInt64,
                                  lineBase: Int64, lineRange: UInt64, opcodeBase: UInt8, standardLengths: [UInt8]) throws {
        var address: UInt64 = 0
        var file: UInt64 = 1
        var line: Int64 = 1
        var previous: (address: UInt64, file: UInt64, line: Int64)?
        var sequenceStart: UInt64?

        func emit() {
            if let previous, let start = sequenceStart, start != 0, previous.address < address {
                // Sequences at address 0 are functions the linker discarded.
                cover(from: previous.address, to: address, file: previous.file, line: previous.line, files: files)
            }
            if sequenceStart == nil { sequenceStart = address }
            previous = (address, file, line)
        }
        func reset() {
            address = 0
            file = 1
            line = 1
            previous = nil
            sequenceStart = nil
        }

        while !cursor.atEnd {
            let opcode = try cursor.byte()
            if opcode >= opcodeBase {
                let adjusted = UInt64(opcode - opcodeBase)
                address &+= (adjusted / lineRange) &* minimumInstructionLength
                line += lineBase + Int64(adjusted % lineRange)
                emit()
                continue
            }
            switch opcode {
            case 0: // extended
                let length = Int(clamping: try cursor.uleb())
                guard length > 0 else { continue }
                let next = cursor.offset + length
                let sub = try cursor.byte()
                switch sub {
                case 1: // DW_LNE_end_sequence
                    emit()
                    reset()
                case 2: // DW_LNE_set_address
                    address = try cursor.integer(bytes: min(8, max(1, length - 1)))
                default:
                    break
                }
                guard next <= cursor.end else { throw DWARFCursorError() }
                cursor.offset = next
            case 1: emit() // DW_LNS_copy
            case 2: address &+= try cursor.uleb() &* minimumInstructionLength // DW_LNS_advance_pc
            case 3: line += try cursor.sleb() // DW_LNS_advance_line
            case 4: file = try cursor.uleb() // DW_LNS_set_file
            case 8: address &+= ((255 - UInt64(opcodeBase)) / lineRange) &* minimumInstructionLength // DW_LNS_const_add_pc
            case 9: address &+= try cursor.integer(bytes: 2) // DW_LNS_fixed_advance_pc
            default:
                // DW_LNS_set_column, set_isa and unknown opcodes: skip their operands.
                let operands = Int(opcode) - 1 < standardLengths.count ? standardLengths[Int(opcode) - 1] : 0
                for _ in 0..<operands { _ = try cursor.uleb() }
            }
        }
    }

    private mutating func cover(from start: UInt64, to end: UInt64, file: UInt64, line: Int64, files: [String]) {
        // The first target at or after `start`.
        var low = 0, high = targets.count
        while low < high {
            let middle = (low + high) / 2
            if targets[middle] < start { low = middle + 1 } else { high = middle }
        }
        var index = low
        while index < targets.count, targets[index] < end {
            let name = Int(clamping: file) < files.count ? files[Int(clamping: file)] : "?"
            if found[targets[index]] == nil, line > 0 {
                found[targets[index]] = SourceLine(file: name, line: Int(line))
            }
            index += 1
        }
    }
}
