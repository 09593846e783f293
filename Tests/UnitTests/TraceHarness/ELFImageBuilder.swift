/// Builds minimal 64-bit ELF images in memory, enough for the note reader:
/// an ELF header, the sections' contents and a section header table whose
/// first entry is the null section and whose last names the sections.
struct ELFImageBuilder {
    struct Section {
        var name: String
        var type: UInt32
        var address: UInt64
        var bytes: [UInt8]
        /// `sh_flags` (0x800 marks a compressed section).
        var flags: UInt64 = 0
        /// Overrides the size written in the header (to describe sections
        /// that claim more bytes than the file holds).
        var declaredSize: UInt64?
    }

    static let progbits: UInt32 = 1
    static let strtab: UInt32 = 3
    static let note: UInt32 = 7

    var sections: [Section] = []
    /// EI_CLASS: 2 for 64-bit, 1 for 32-bit.
    var elfClass: UInt8 = 2
    /// EI_DATA: 1 for little-endian, 2 for big-endian.
    var dataEncoding: UInt8 = 1

    mutating func add(_ name: String, type: UInt32 = ELFImageBuilder.progbits, address: UInt64 = 0, bytes: [UInt8],
                      declaredSize: UInt64? = nil, flags: UInt64 = 0) {
        sections.append(Section(name: name, type: type, address: address, bytes: bytes, flags: flags, declaredSize: declaredSize))
    }

    /// The whole image.
    func build() -> [UInt8] {
        // Section name table: "\0" then every name, then ".shstrtab".
        var names: [UInt8] = [0]
        var nameOffsets: [Int] = []
        for section in sections {
            nameOffsets.append(names.count)
            names += Array(section.name.utf8) + [0]
        }
        let shstrtabNameOffset = names.count
        names += Array(".shstrtab".utf8) + [0]

        var image = [UInt8](repeating: 0, count: 64)
        var contentOffsets: [Int] = []
        for section in sections {
            while image.count % 8 != 0 { image.append(0) }
            contentOffsets.append(image.count)
            image += section.bytes
        }
        while image.count % 8 != 0 { image.append(0) }
        let namesOffset = image.count
        image += names
        while image.count % 8 != 0 { image.append(0) }
        let tableOffset = image.count

        // Null section, the sections, then .shstrtab.
        image += [UInt8](repeating: 0, count: 64)
        for (index, section) in sections.enumerated() {
            image += Self.sectionHeader(
                name: UInt32(nameOffsets[index]), type: section.type, address: section.address,
                offset: UInt64(contentOffsets[index]), size: section.declaredSize ?? UInt64(section.bytes.count), flags: section.flags)
        }
        image += Self.sectionHeader(name: UInt32(shstrtabNameOffset), type: Self.strtab, address: 0,
                                    offset: UInt64(namesOffset), size: UInt64(names.count))

        // ELF header.
        image.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        image[4] = elfClass
        image[5] = dataEncoding
        image[6] = 1 // EV_CURRENT
        Self.put(UInt16(3), into: &image, at: 0x10) // ET_DYN
        Self.put(UInt16(0x3e), into: &image, at: 0x12) // x86-64
        Self.put(UInt32(1), into: &image, at: 0x14)
        Self.put(UInt64(tableOffset), into: &image, at: 0x28)
        Self.put(UInt16(64), into: &image, at: 0x34)
        Self.put(UInt16(64), into: &image, at: 0x3a)
        Self.put(UInt16(sections.count + 2), into: &image, at: 0x3c)
        Self.put(UInt16(sections.count + 1), into: &image, at: 0x3e)
        return image
    }

    static func sectionHeader(name: UInt32, type: UInt32, address: UInt64, offset: UInt64, size: UInt64, flags: UInt64 = 0) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        put(name, into: &header, at: 0)
        put(type, into: &header, at: 4)
        put(flags, into: &header, at: 8)
        put(address, into: &header, at: 0x10)
        put(offset, into: &header, at: 0x18)
        put(size, into: &header, at: 0x20)
        put(UInt64(1), into: &header, at: 0x30)
        return header
    }

    static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<MemoryLayout<T>.size {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
        }
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
        put(value, into: &bytes, at: 0)
        return bytes
    }

    static func pad4(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// One ELF note: header, owner name and description, each padded to 4.
    static func note(owner: String, type: UInt32, description: [UInt8], descriptionSize: UInt32? = nil) -> [UInt8] {
        let ownerBytes = Array(owner.utf8) + [0]
        return littleEndian(UInt32(ownerBytes.count))
            + littleEndian(descriptionSize ?? UInt32(description.count))
            + littleEndian(type)
            + pad4(ownerBytes)
            + pad4(description)
    }

    /// A `stapsdt` note (type 3) as the SDT macros emit it.
    static func stapsdtNote(provider: String, name: String, address: UInt64, base: UInt64, semaphore: UInt64 = 0, arguments: String) -> [UInt8] {
        let description = littleEndian(address) + littleEndian(base) + littleEndian(semaphore)
            + Array(provider.utf8) + [0] + Array(name.utf8) + [0] + Array(arguments.utf8) + [0]
        return note(owner: "stapsdt", type: 3, description: description)
    }

    /// An image with a `.stapsdt.base` and a `.note.stapsdt` holding `notes`.
    static func image(notes: [UInt8], base: UInt64 = 0x4000) -> [UInt8] {
        var builder = ELFImageBuilder()
        builder.add(".text", address: 0x1000, bytes: [0x90, 0x90, 0x90, 0xc3])
        builder.add(".stapsdt.base", address: base, bytes: [0])
        builder.add(".note.stapsdt", type: note, bytes: notes)
        return builder.build()
    }
}
