import Foundation
import Testing
@testable import TraceHarness

@Suite("USDT notes read from ELF bytes")
struct ProbeDiscoveryTests {
    static let path = "/opt/tapyrus/bin/tapyrusd"

    /// Four stapsdt notes (two sites of net:inbound_message, one with a
    /// semaphore, one without arguments) and a foreign note in between.
    static var notes: [UInt8] {
        ELFImageBuilder.stapsdtNote(provider: "net", name: "inbound_message", address: 0x1_2340, base: 0x4000,
                                    arguments: "-8@%rbx 8@-3512(%rbp) 4@%r15d 8@24(%r15)")
            + ELFImageBuilder.note(owner: "GNU", type: 1, description: [1, 2, 3, 4, 5])
            + ELFImageBuilder.stapsdtNote(provider: "net", name: "inbound_message", address: 0x5_6780, base: 0x4000,
                                          arguments: "-8@%r12 8@%rsi -4@$-42 8@-8(%rbp,%rax,8)")
            + ELFImageBuilder.stapsdtNote(provider: "validation", name: "block_connected", address: 0x9_abc0, base: 0x4000,
                                          semaphore: 0x20_0010, arguments: "8@(%r15) -4@$5 1@49(%rsp)")
            + ELFImageBuilder.stapsdtNote(provider: "test", name: "no_arguments", address: 0xdef0, base: 0x4000, arguments: "")
    }

    @Test("every stapsdt note becomes a site, in note order, with provider, name, address, base and semaphore")
    func sites() throws {
        let sites = try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: Self.notes), path: Self.path)
        try #require(sites.count == 4)
        #expect(sites.map(\.probe) == [
            ProbeName(provider: "net", name: "inbound_message"),
            ProbeName(provider: "net", name: "inbound_message"),
            ProbeName(provider: "validation", name: "block_connected"),
            ProbeName(provider: "test", name: "no_arguments"),
        ])
        #expect(sites.map(\.address) == [0x1_2340, 0x5_6780, 0x9_abc0, 0xdef0])
        #expect(sites.allSatisfy { $0.base == 0x4000 })
        #expect(sites.map(\.semaphore) == [0, 0, 0x20_0010, 0])
        #expect(sites.map(\.hasSemaphore) == [false, false, true, false])
    }

    @Test("the two sites of one probe keep their own arguments")
    func twoSitesOfOneProbe() throws {
        let sites = try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: Self.notes), path: Self.path)
        try #require(sites.count == 4)
        #expect(sites[0].arguments.map(\.text) == ["-8@%rbx", "8@-3512(%rbp)", "4@%r15d", "8@24(%r15)"])
        #expect(sites[0].arguments.map(\.operand) == [
            .register("rbx"),
            .memory(offset: -3512, symbol: nil, base: "rbp", index: nil, scale: 1),
            .register("r15d"),
            .memory(offset: 24, symbol: nil, base: "r15", index: nil, scale: 1),
        ])
        #expect(sites[1].arguments.map(\.text) == ["-8@%r12", "8@%rsi", "-4@$-42", "8@-8(%rbp,%rax,8)"])
        #expect(sites[1].arguments[2].operand == .constant(-42))
        #expect(sites[1].arguments[3].operand == .memory(offset: -8, symbol: nil, base: "rbp", index: "rax", scale: 8))
        #expect(sites[0].arguments.map(\.size) == [8, 8, 4, 8])
        #expect(sites[1].arguments.map(\.isSigned) == [true, false, true, false])
    }

    @Test("a site with a semaphore and byte-sized arguments, and a site with no arguments")
    func semaphoreAndNoArguments() throws {
        let sites = try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: Self.notes), path: Self.path)
        try #require(sites.count == 4)
        let block = sites[2]
        #expect(block.arguments.map(\.size) == [8, 4, 1])
        #expect(block.arguments.map(\.isSigned) == [false, true, false])
        #expect(block.arguments[0].operand == .memory(offset: 0, symbol: nil, base: "r15", index: nil, scale: 1))
        #expect(block.arguments[1].operand == .constant(5))
        #expect(block.arguments[2].operand == .memory(offset: 49, symbol: nil, base: "rsp", index: nil, scale: 1))
        #expect(sites[3].arguments.isEmpty)
    }

    @Test("reading the same image from a file gives the same sites")
    func fromFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tt-unit-\(UUID().uuidString).elf")
        try Data(ELFImageBuilder.image(notes: Self.notes)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fromFile = try ProbeDiscovery.sites(inBinaryAt: url.path)
        let fromMemory = try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: Self.notes))
        #expect(fromFile == fromMemory)
    }

    @Test("a missing file and a directory are reported as such")
    func fileErrors() {
        let missing = "/nonexistent/tt-\(UUID().uuidString)"
        #expect(throws: ProbeDiscoveryError.fileNotFound(path: missing)) { try ProbeDiscovery.sites(inBinaryAt: missing) }
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: ProbeDiscoveryError.notAFile(path: directory)) { try ProbeDiscovery.sites(inBinaryAt: directory) }
    }

    @Test("bytes that are not ELF, long or short, throw notELF")
    func notELF() {
        let text = Array("#!/bin/sh\necho this is a shell script, not an ELF binary at all\n".utf8)
        #expect(text.count >= 64)
        #expect(throws: ProbeDiscoveryError.notELF(path: Self.path)) { try ProbeDiscovery.sites(inELF: text, path: Self.path) }
        #expect(throws: ProbeDiscoveryError.notELF(path: Self.path)) { try ProbeDiscovery.sites(inELF: [0x7f, 0x45, 0x4c, 0x46, 2, 1], path: Self.path) }
        #expect(throws: ProbeDiscoveryError.notELF(path: Self.path)) { try ProbeDiscovery.sites(inELF: [], path: Self.path) }
    }

    @Test("a 32-bit ELF and a big-endian ELF throw unsupportedELF")
    func unsupportedELF() {
        var builder = ELFImageBuilder()
        builder.add(".note.stapsdt", type: ELFImageBuilder.note, bytes: Self.notes)
        builder.elfClass = 1
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: builder.build(), path: Self.path) }
        guard case .unsupportedELF(let path, let reason) = error else {
            Issue.record("expected unsupportedELF, got \(String(describing: error))")
            return
        }
        #expect(path == Self.path)
        #expect(reason.contains("64-bit"))

        builder.elfClass = 2
        builder.dataEncoding = 2
        let bigEndian = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: builder.build(), path: Self.path) }
        #expect(bigEndian == .unsupportedELF(path: Self.path, reason: reason))
    }

    @Test("an ELF without .note.stapsdt, or with only foreign notes in it, throws noProbes")
    func noProbes() {
        var builder = ELFImageBuilder()
        builder.add(".text", bytes: [0xc3])
        builder.add(".note.gnu.build-id", type: ELFImageBuilder.note, bytes: ELFImageBuilder.note(owner: "GNU", type: 3, description: [1, 2, 3, 4]))
        #expect(throws: ProbeDiscoveryError.noProbes(path: Self.path)) { try ProbeDiscovery.sites(inELF: builder.build(), path: Self.path) }

        let foreignOnly = ELFImageBuilder.image(notes: ELFImageBuilder.note(owner: "GNU", type: 3, description: [9, 9, 9, 9]))
        #expect(throws: ProbeDiscoveryError.noProbes(path: Self.path)) { try ProbeDiscovery.sites(inELF: foreignOnly, path: Self.path) }
    }

    @Test("a note that runs past the end of its section throws malformed")
    func noteRunsPastEnd() {
        let good = ELFImageBuilder.stapsdtNote(provider: "net", name: "inbound_message", address: 1, base: 2, arguments: "8@%rax")
        let cut = Array(good.dropLast(8))
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: good + cut), path: Self.path) }
        #expect(error == .malformed(path: Self.path, reason: "a USDT note runs past the end of .note.stapsdt"))
    }

    @Test("a stapsdt note too short for its addresses, or without a probe name, throws malformed")
    func truncatedDescription() {
        let short = ELFImageBuilder.note(owner: "stapsdt", type: 3, description: [UInt8](repeating: 0, count: 16))
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: short), path: Self.path) }
        #expect(error == .malformed(path: Self.path, reason: "a USDT note is truncated"))

        // The provider's NUL ends the description: no probe name follows.
        let nameless = ELFImageBuilder.note(owner: "stapsdt", type: 3, description: [UInt8](repeating: 0, count: 24) + Array("net".utf8) + [0])
        let namelessError = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: nameless), path: Self.path) }
        #expect(namelessError == .malformed(path: Self.path, reason: "USDT note of provider net has no probe name"))
    }

    @Test("an unparsable argument spec in a note throws malformed naming the probe and the spec")
    func badArgumentInNote() {
        let note = ELFImageBuilder.stapsdtNote(provider: "net", name: "outbound_message", address: 1, base: 2, arguments: "8@%rax 3@%rbx")
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: ELFImageBuilder.image(notes: note), path: Self.path) }
        guard case .malformed(_, let reason) = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("net:outbound_message"))
        #expect(reason.contains("3@%rbx"))
    }

    @Test("a section header table outside the file throws malformed")
    func tableOutsideFile() {
        var image = ELFImageBuilder.image(notes: Self.notes)
        ELFImageBuilder.put(UInt64(image.count + 4096), into: &image, at: 0x28)
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: image, path: Self.path) }
        #expect(error == .malformed(path: Self.path, reason: "section header table lies outside the file"))
    }

    @Test("a .note.stapsdt section claiming more bytes than the file holds throws malformed")
    func sectionOutsideFile() {
        var builder = ELFImageBuilder()
        builder.add(".note.stapsdt", type: ELFImageBuilder.note, bytes: Self.notes, declaredSize: 1 << 20)
        let error = #expect(throws: ProbeDiscoveryError.self) { try ProbeDiscovery.sites(inELF: builder.build(), path: Self.path) }
        #expect(error == .malformed(path: Self.path, reason: "section .note.stapsdt lies outside the file"))
    }

    @Test("every discovery error's description is one line that names the path")
    func errorDescriptions() {
        let errors: [ProbeDiscoveryError] = [
            .fileNotFound(path: Self.path),
            .notAFile(path: Self.path),
            .unreadable(path: Self.path),
            .notELF(path: Self.path),
            .unsupportedELF(path: Self.path, reason: "only 64-bit little-endian ELF files are supported"),
            .malformed(path: Self.path, reason: "a USDT note is truncated"),
            .noProbes(path: Self.path),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"), "\(error)")
            #expect(error.description.hasPrefix(Self.path + ": "), "\(error)")
        }
        #expect(ProbeDiscoveryError.noProbes(path: Self.path).description.contains(".note.stapsdt"))
        #expect(ProbeDiscoveryError.malformed(path: Self.path, reason: "xyz").description.hasSuffix("xyz"))
    }
}

@Suite("Probe names")
struct ProbeNameTests {
    @Test("provider:name parses; a missing part or an extra colon does not")
    func parsing() {
        #expect(ProbeName("net:inbound_message") == ProbeName(provider: "net", name: "inbound_message"))
        for text in ["net", "net:", ":inbound_message", "a:b:c", ""] {
            #expect(ProbeName(text) == nil, "\(text)")
        }
        #expect(ProbeName(provider: "net", name: "x").description == "net:x")
    }

    @Test("probe names order by provider, then name")
    func ordering() {
        let names = ["validation:block_connected", "net:outbound_message", "net:inbound_message", "mempool:added"].compactMap(ProbeName.init)
        #expect(names.sorted().map(\.description) == ["mempool:added", "net:inbound_message", "net:outbound_message", "validation:block_connected"])
    }

    @Test("probe names encode as a provider:name JSON string and decode back; other strings are refused")
    func codable() throws {
        let name = ProbeName(provider: "mempool", name: "added")
        let data = try JSONEncoder().encode([name])
        #expect(String(decoding: data, as: UTF8.self) == "[\"mempool:added\"]")
        #expect(try JSONDecoder().decode([ProbeName].self, from: data) == [name])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ProbeName].self, from: Data("[\"mempool\"]".utf8)) }
    }
}
