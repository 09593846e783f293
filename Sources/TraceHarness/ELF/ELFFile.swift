import Foundation

/// A 64-bit little-endian ELF file, read just far enough to find its sections.
///
/// USDT probes live in the `.note.stapsdt` section; their addresses are
/// relative to the `.stapsdt.base` section, which the reader also exposes.
struct ELFFile: Sendable {
    /// One section header.
    struct Section: Sendable {
        var name: String
        var type: UInt32
        /// `sh_flags`; 0x800 (`SHF_COMPRESSED`) marks compressed contents.
        var flags: UInt64
        var address: UInt64
        var offset: UInt64
        var size: UInt64
    }

    /// Where the file's bytes come from: reads `count` bytes at `offset`,
    /// fewer at the end of the file.
    typealias Source = @Sendable (_ offset: UInt64, _ count: Int) -> [UInt8]

    /// One program header: how a part of the file is mapped into memory.
    struct Segment: Sendable {
        /// `PT_LOAD` (1) for the parts mapped when the program runs.
        var type: UInt32
        /// `PF_X` (1), `PF_W` (2), `PF_R` (4).
        var flags: UInt32
        var offset: UInt64
        var address: UInt64
        var fileSize: UInt64
        var memorySize: UInt64

        static let loadable: UInt32 = 1
        static let executable: UInt32 = 1

        /// Whether the segment's memory holds `address`.
        func contains(_ address: UInt64) -> Bool {
            address >= self.address && address - self.address < memorySize
        }
    }

    let path: String
    /// The file's size in bytes; no read goes past it.
    let size: UInt64
    let sections: [Section]
    /// The program headers (none in an object file).
    let segments: [Segment]
    private let source: Source

    /// Opens the ELF file at `path` and reads its section headers; section
    /// contents are read on demand, so a 150 MB binary costs a few pages.
    init(contentsOf path: String) throws(ProbeDiscoveryError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw .notAFile(path: path) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(path: path) }
        let file = FileDescriptorBox(descriptor)
        var status = stat()
        let size = fstat(descriptor, &status) == 0 ? UInt64(status.st_size) : 0
        try self.init(path: path, size: size) { offset, count in file.read(at: offset, count: count) }
    }

    /// Parses ELF bytes held in memory; `path` only names the file in errors.
    init(bytes: [UInt8], path: String) throws(ProbeDiscoveryError) {
        try self.init(path: path, size: UInt64(bytes.count)) { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            let start = Int(offset)
            return Array(bytes[start..<min(bytes.count, start + count)])
        }
    }

    private init(path: String, size: UInt64, source: @escaping Source) throws(ProbeDiscoveryError) {
        self.path = path
        self.size = size
        self.source = source
        let header = ELFBytes(bytes: source(0, 64))
        guard header.bytes.count >= 64, header.bytes[0...3] == [0x7f, 0x45, 0x4c, 0x46] else {
            throw .notELF(path: path)
        }
        guard header.bytes[4] == 2, header.bytes[5] == 1 else {
            throw .unsupportedELF(path: path, reason: "only 64-bit little-endian ELF files are supported")
        }
        guard
            let tableOffset = header.uint64(at: 0x28),
            let entrySize = header.uint16(at: 0x3a).map(Int.init),
            let count = header.uint16(at: 0x3c).map(Int.init),
            let namesIndex = header.uint16(at: 0x3e).map(Int.init),
            entrySize >= 0x28,
            let programTableOffset = header.uint64(at: 0x20),
            let programEntrySize = header.uint16(at: 0x36).map(Int.init),
            let programCount = header.uint16(at: 0x38).map(Int.init)
        else { throw .malformed(path: path, reason: "truncated ELF header") }
        self.segments = try Self.programHeaders(
            source: source, path: path, size: size, offset: programTableOffset, entrySize: programEntrySize, count: programCount)

        guard Self.fits(offset: tableOffset, length: UInt64(entrySize * count), size: size) else {
            throw .malformed(path: path, reason: "section header table lies outside the file")
        }
        let table = ELFBytes(bytes: source(tableOffset, entrySize * count))
        guard table.bytes.count == entrySize * count else {
            throw .malformed(path: path, reason: "section header table lies outside the file")
        }
        var raw: [(nameOffset: UInt32, section: Section)] = []
        for index in 0..<count {
            let base = index * entrySize
            guard
                let nameOffset = table.uint32(at: base),
                let type = table.uint32(at: base + 4),
                let flags = table.uint64(at: base + 8),
                let address = table.uint64(at: base + 0x10),
                let offset = table.uint64(at: base + 0x18),
                let size = table.uint64(at: base + 0x20)
            else { throw .malformed(path: path, reason: "section header \(index) is truncated") }
            raw.append((nameOffset, Section(name: "", type: type, flags: flags, address: address, offset: offset, size: size)))
        }
        guard namesIndex < raw.count else {
            throw .malformed(path: path, reason: "section name table index out of range")
        }
        let nameTable = raw[namesIndex].section
        guard Self.fits(offset: nameTable.offset, length: nameTable.size, size: size) else {
            throw .malformed(path: path, reason: "section name table lies outside the file")
        }
        let names = ELFBytes(bytes: source(nameTable.offset, Int(clamping: nameTable.size)))
        self.sections = try raw.map { entry throws(ProbeDiscoveryError) in
            guard let name = names.cString(at: Int(entry.nameOffset)) else {
                throw .malformed(path: path, reason: "a section name lies outside the name table")
            }
            var section = entry.section
            section.name = name
            return section
        }
    }

    private static func programHeaders(
        source: Source, path: String, size: UInt64, offset: UInt64, entrySize: Int, count: Int
    ) throws(ProbeDiscoveryError) -> [Segment] {
        guard count > 0 else { return [] }
        guard entrySize >= 0x38, fits(offset: offset, length: UInt64(entrySize * count), size: size) else {
            throw .malformed(path: path, reason: "program header table lies outside the file")
        }
        let table = ELFBytes(bytes: source(offset, entrySize * count))
        return try (0..<count).map { index throws(ProbeDiscoveryError) in
            let base = index * entrySize
            guard
                let type = table.uint32(at: base),
                let flags = table.uint32(at: base + 4),
                let offset = table.uint64(at: base + 8),
                let address = table.uint64(at: base + 0x10),
                let fileSize = table.uint64(at: base + 0x20),
                let memorySize = table.uint64(at: base + 0x28)
            else { throw .malformed(path: path, reason: "program header \(index) is truncated") }
            return Segment(type: type, flags: flags, offset: offset, address: address, fileSize: fileSize, memorySize: memorySize)
        }
    }

    /// Whether `length` bytes at `offset` lie inside the file (no overflow).
    private func fits(offset: UInt64, length: UInt64) -> Bool {
        Self.fits(offset: offset, length: length, size: size)
    }

    private static func fits(offset: UInt64, length: UInt64, size: UInt64) -> Bool {
        offset <= size && length <= size - offset
    }

    /// The first section with the given name.
    func section(named name: String) -> Section? {
        sections.first { $0.name == name }
    }

    /// The bytes of a section (none for sections that occupy no file space).
    func contents(of section: Section) throws(ProbeDiscoveryError) -> [UInt8] {
        let noBits: UInt32 = 8
        guard section.type != noBits else { return [] }
        guard fits(offset: section.offset, length: section.size) else {
            throw .malformed(path: path, reason: "section \(section.name) lies outside the file")
        }
        let bytes = source(section.offset, Int(clamping: section.size))
        guard bytes.count == Int(clamping: section.size) else {
            throw .malformed(path: path, reason: "section \(section.name) lies outside the file")
        }
        return bytes
    }
}

/// Owns a file descriptor and closes it when the last reference goes away.
private final class FileDescriptorBox: Sendable {
    let descriptor: Int32
    init(_ descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    func read(at offset: UInt64, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { break }
            filled += got
        }
        return Array(buffer.prefix(filled))
    }
}

/// Reads little-endian integers and C strings at offsets of an ELF image, with bounds checks.
struct ELFBytes {
    var bytes: [UInt8]

    func uint16(at offset: Int) -> UInt16? { integer(at: offset, as: UInt16.self) }
    func uint32(at offset: Int) -> UInt32? { integer(at: offset, as: UInt32.self) }
    func uint64(at offset: Int) -> UInt64? { integer(at: offset, as: UInt64.self) }

    func integer<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= bytes.count else { return nil }
        var value: T = 0
        for index in 0..<size {
            value |= T(bytes[offset + index]) << (8 * index)
        }
        return value
    }

    /// The NUL-terminated string at `offset`, or nil if it runs off the end.
    func cString(at offset: Int, limit: Int? = nil) -> String? {
        let end = min(bytes.count, limit ?? bytes.count)
        guard offset >= 0, offset <= end else { return nil }
        guard let terminator = bytes[offset..<end].firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[offset..<terminator], as: UTF8.self)
    }
}
