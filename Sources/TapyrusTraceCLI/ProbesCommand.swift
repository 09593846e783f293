import ArgumentParser
import Foundation
import TraceHarness

/// `tapyrus-trace probes`: every USDT probe and site of a binary.
struct ProbesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "List every USDT probe and site of a binary with its argument specs."
    )

    @Argument(help: "The ELF binary to read (e.g. tapyrusd).")
    var binary: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        Output.ignoreBrokenPipe()
        defer { Output.flush() }
        let sites = try ProbeDiscovery.sites(inBinaryAt: binary)
        let catalogue = TracepointCatalogue.tapyrusd
        if json {
            let rows = sites.map { site in
                ProbeSiteJSON(
                    probe: site.probe.description,
                    address: site.address, base: site.base, semaphore: site.semaphore,
                    catalogued: catalogue[site.probe] != nil,
                    arguments: site.arguments.enumerated().map { index, spec in
                        .init(spec: spec.text, size: spec.size, signed: spec.isSigned,
                              operand: Self.describe(spec.operand),
                              field: catalogue[site.probe].flatMap { index < $0.fields.count ? $0.fields[index].name : nil })
                    }
                )
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Output.line(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        let grouped = Dictionary(grouping: sites, by: \.probe)
        Output.line("\(binary): \(grouped.count) probes, \(sites.count) sites")
        for probe in grouped.keys.sorted() {
            let probeSites = grouped[probe] ?? []
            let tracepoint = catalogue[probe]
            let siteWord = probeSites.count == 1 ? "site" : "sites"
            Output.line("\(probe)  (\(probeSites.count) \(siteWord))  \(tracepoint?.summary ?? "not in the catalogue")")
            for site in probeSites {
                let semaphore = site.hasSemaphore ? "0x" + String(site.semaphore, radix: 16) : "none"
                Output.line("  at 0x\(String(site.address, radix: 16))  semaphore \(semaphore)")
                for (index, spec) in site.arguments.enumerated() {
                    let name = tracepoint.flatMap { index < $0.fields.count ? $0.fields[index].name : nil } ?? "arg\(index)"
                    let sign = spec.isSigned ? "signed" : "unsigned"
                    let text = "    \(index) \(name)".padding(toLength: 26, withPad: " ", startingAt: 0)
                    let warning = spec.isInstructionPointerRelative ? " (RIP-relative: the capture program cannot read it, so the probe cannot be attached)" : ""
                    guard Output.line("\(text) \(spec.text.padding(toLength: 20, withPad: " ", startingAt: 0)) \(spec.size)-byte \(sign), \(Self.describe(spec.operand))\(warning)") else { return }
                }
            }
        }
    }

    static func describe(_ operand: ArgumentSpec.Operand) -> String {
        switch operand {
        case .register(let name): return "register \(name)"
        case .constant(let value): return "constant \(value)"
        case .memory(let offset, let symbol, let base, let index, let scale):
            var text = "memory at "
            if let symbol { text += symbol + (offset != 0 ? "\(offset >= 0 ? "+" : "")\(offset)" : "") } else { text += "\(offset)" }
            if let base { text += " from \(base)" }
            if let index { text += " + \(index)*\(scale)" }
            return text
        }
    }
}

private struct ProbeSiteJSON: Encodable {
    struct Argument: Encodable {
        var spec: String
        var size: Int
        var signed: Bool
        var operand: String
        var field: String?
    }

    var probe: String
    var address: UInt64
    var base: UInt64
    var semaphore: UInt64
    var catalogued: Bool
    var arguments: [Argument]
}
