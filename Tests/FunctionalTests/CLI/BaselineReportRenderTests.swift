import Foundation
import Testing

/// A headless Chromium that screenshots pages, if one is installed.
enum Chromium {
    /// `$CHROMIUM`, else the first of `chromium`, `chromium-browser` and
    /// `google-chrome` on `PATH` (Debian's package installs `/usr/bin/chromium`).
    static let path: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CHROMIUM"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin"]
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    static let unavailableReason = "no headless Chromium found: install Debian's chromium or set CHROMIUM to its path"

    /// Screenshots the page at `page` into the PNG file `png`, with a window
    /// of `width` × `height` pixels, the way docs/benchmark.md says to look at a
    /// report; bounded by `timeout`.
    static func screenshot(_ page: String, to png: String, width: Int, height: Int,
                           timeout: Duration = .seconds(90)) async throws -> Fixture.Output {
        guard let path else { throw FixtureError(unavailableReason) }
        // A profile of its own, so that runs do not share (or lock) one.
        let profile = URL(fileURLWithPath: png).deletingLastPathComponent().appendingPathComponent("chromium-profile-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        return try await BoundedRun.run(path, [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)",
            "--screenshot=\(png)", "--window-size=\(width),\(height)", URL(fileURLWithPath: page).absoluteString,
        ], timeout: timeout)
    }
}

/// The header of a PNG file: its signature checked, its size read from the IHDR chunk.
struct PNGHeader: Equatable {
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorType: Int

    /// Reads the header of the PNG `data`; throws unless it starts with the
    /// PNG signature followed by a 13-byte IHDR chunk.
    init(_ data: Data) throws {
        let bytes = [UInt8](data.prefix(33))
        guard bytes.count == 33, bytes[0..<8] == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] else {
            throw FixtureError("not a PNG file: it does not start with the PNG signature")
        }
        func uint32(_ offset: Int) -> Int { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        guard uint32(8) == 13, String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else {
            throw FixtureError("not a PNG file: its first chunk is not a 13-byte IHDR")
        }
        width = uint32(16)
        height = uint32(20)
        bitDepth = Int(bytes[24])
        colorType = Int(bytes[25])
    }
}

extension BaselineCommandTests {
    @Test("report --html renders in headless Chromium at 1200 and 800 px wide: PNGs far from blank, their charts drawn",
          .enabled(if: Chromium.path != nil, "\(Chromium.unavailableReason)"),
          .timeLimit(.minutes(5)))
    func reportRenders() async throws {
        let db = try SyntheticDatabase()
        let base = try await db.addRun(build: "release", seed: 1)
        try await db.addRun(build: "release", seed: 2)
        // Four times slower, as a Debug build is: the per-height charts must keep both runs readable.
        let slow = try await db.addRun(build: "debug", seed: 3, factor: 4)
        let report = db.directory + "/report.html"
        let written = try await db.baseline(["report", "--baseline", "\(base)", "--candidate", "\(slow)", "--html", report])
        #expect(written.status == 0, "\(written.standardError)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("baseline: run \(base) (build release"), "the legend names the builds by their label")
        #expect(html.contains("candidate: run \(slow) (build debug"), "the legend names the builds by their label")

        // Two pages to measure the report against: a blank one, and the
        // report with its SVG charts taken out (its text and tables only).
        let blank = db.directory + "/blank.html"
        try Data("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>\n".utf8)
            .write(to: URL(fileURLWithPath: blank))
        let textOnly = db.directory + "/text-only.html"
        let withoutCharts = try Regex("<svg[\\s\\S]*?</svg>")
        let stripped = html.replacing(withoutCharts, with: "")
        #expect(html.count(of: "<svg") == 4 && stripped.count(of: "<svg") == 0, "the report should have four charts")
        try Data(stripped.utf8).write(to: URL(fileURLWithPath: textOnly))

        let samples = ProcessInfo.processInfo.environment["TAPYRUS_TRACE_SAMPLES"].flatMap { $0.isEmpty ? nil : $0 }
        for (width, height) in [(1200, 2600), (800, 2600)] {
            var sizes: [String: Int] = [:]
            for page in [report, blank, textOnly] {
                let png = page.replacingOccurrences(of: ".html", with: "-\(width).png")
                let started = ContinuousClock.now
                let shot = try await Chromium.screenshot(page, to: png, width: width, height: height)
                let elapsed = ContinuousClock.now - started
                #expect(shot.status == 0, "chromium exited \(shot.status) after \(elapsed): \(shot.standardError.suffix(2000))")
                let data = try Data(contentsOf: URL(fileURLWithPath: png))
                let header = try PNGHeader(data)
                #expect(header.width == width && header.height == height, "\(png): \(header)")
                #expect(header.bitDepth == 8, "\(png): \(header)")
                sizes[page] = data.count
                print("screenshot of \((page as NSString).lastPathComponent) at \(width) px: \(data.count) bytes in \(elapsed)")
            }
            let reportSize = try #require(sizes[report]), blankSize = try #require(sizes[blank]), textSize = try #require(sizes[textOnly])
            // A blank 1200×2600 page compresses to about 14 kB; the report to
            // about 200 kB, of which its charts are more than half.
            #expect(reportSize > 5 * blankSize, "\(width) px: report \(reportSize) bytes, blank page \(blankSize) bytes")
            #expect(textSize > 2 * blankSize, "\(width) px: text-only report \(textSize) bytes, blank page \(blankSize) bytes")
            #expect(Double(reportSize) > 1.5 * Double(textSize), "\(width) px: report \(reportSize) bytes, without its charts \(textSize) bytes")
            if let samples {
                // For a look: TAPYRUS_TRACE_SAMPLES=DIR keeps the page and its screenshots.
                try FileManager.default.createDirectory(atPath: samples, withIntermediateDirectories: true)
                for name in ["report.html", "report-\(width).png"] {
                    try? FileManager.default.removeItem(atPath: samples + "/" + name)
                    try FileManager.default.copyItem(atPath: db.directory + "/" + name, toPath: samples + "/" + name)
                }
            }
        }
    }
}

private extension String {
    /// How many times `text` occurs.
    func count(of text: String) -> Int { components(separatedBy: text).count - 1 }
}
