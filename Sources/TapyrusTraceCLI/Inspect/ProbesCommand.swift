import ArgumentParser
import Foundation
import TraceHarness

/// `tapyrus-trace probes`: every USDT probe and site of a binary.
struct ProbesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "List every USDT probe and site of a binary with its argument specs.",
        discussion: "With --declaration provider:name, print instead the Swift catalogue declaration of that probe, ready to paste."
    )

    @OptionGroup var options: BinaryOptions

    @Option(help: ArgumentHelp("Print the Swift catalogue declaration of this probe.", valueName: "provider:name"))
    var declaration: String?

    @Option(help: ArgumentHelp("With --declaration: C++ sources whose call of the probe names and types the fields.", valueName: "dir"))
    var source: String?

    func run() throws {
        Output.ignoreBrokenPipe()
        defer { Output.flush() }
        let binary = options.binary
        if let declaration {
            try ProbeDeclarationOutput(binary: binary, probe: declaration, source: source).lines().forEach { Output.line($0) }
            return
        }
        if source != nil { throw CommandFailure("--source goes with --declaration") }
        let sites = try options.sites()
        let catalogue = TracepointCatalogue.tapyrusd
        if options.json {
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
            try Output.json(rows)
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
