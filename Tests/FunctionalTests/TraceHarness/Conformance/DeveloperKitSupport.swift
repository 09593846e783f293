import Foundation
import Testing
import TraceHarness

/// The C programs of fixtures/ that the developer's kit tests compile.
enum KitPrograms {
    static let fixtures = Fixture.packageRoot.appendingPathComponent("fixtures")
    static let conformance = fixtures.appendingPathComponent("conformance")
    static let doorSource = conformance.appendingPathComponent("door.c").path
    static let doorDocument = conformance.appendingPathComponent("door-tracing.md").path

    /// Compiles `sources` (paths under fixtures/) with `flags` into the test
    /// process's build folder.
    static func compile(_ sources: [String], flags: [String], name: String) throws -> String {
        let output = Fixture.buildDirectory.appendingPathComponent(name).path
        let result = try Fixture.run("/usr/bin/env", ["cc"] + flags + ["-o", output] + sources)
        guard result.status == 0 else { throw FixtureError("cc \(flags) \(sources) failed: \(result.standardError)") }
        return output
    }

    /// The door program with debug information, built once.
    static let door: Result<String, FixtureError> = {
        do { return .success(try compile([doorSource], flags: ["-g", "-O1"], name: "door")) } catch let error as FixtureError {
            return .failure(error)
        } catch {
            return .failure(FixtureError("cannot run cc: \(error)"))
        }
    }()

    /// Why the declaration tests cannot run here, if they cannot.
    static var declarationsUnavailableReason: String? {
        if case .failure(let error) = Fixture.built { return "the USDT fixture could not be built: \(error)" }
        return unavailableReason
    }

    /// Why these tests cannot run here, if they cannot.
    static var unavailableReason: String? {
        if CLI.path == nil { return "tapyrus-trace executable not built" }
        if case .failure(let error) = door { return "the door program could not be built: \(error)" }
        return nil
    }

    /// The lines of `file` that call a tracing macro for `probe name`, found
    /// with a plain text search (no scanner), as ground truth.
    static func macroLines(in file: String, provider: String) throws -> [String: [Int]] {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var lines: [String: [Int]] = [:]
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("//"),
                  let range = trimmed.range(of: "(\(provider), ") else { continue }
            let name = trimmed[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            lines[String(name), default: []].append(index + 1)
        }
        return lines
    }

    /// The (probe, kind) pairs a text report names, from its `✗ kind:` lines.
    static func disagreements(inText text: String) -> [String] {
        var probe = ""
        var pairs: [String] = []
        for line in text.components(separatedBy: "\n") {
            if let first = line.first, first != " ", let colon = line.range(of: ": ") {
                probe = String(line[..<colon.lowerBound])
            } else if line.hasPrefix("  ✗ "), let colon = line.range(of: ":") {
                pairs.append("\(probe) \(line[line.index(line.startIndex, offsetBy: 4)..<colon.lowerBound])")
            }
        }
        return pairs.sorted()
    }
}
