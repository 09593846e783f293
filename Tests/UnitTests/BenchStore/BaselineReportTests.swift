import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import BenchStore

/// Realistic synthetic figures: eight builds over two months, two runs over
/// 600 heights (the candidate ~8% slower with its own noise and a few slow
/// blocks), a histogram of the candidate's durations and three verdicts.
func sampleBaselineReport() -> BaselineReport {
    var rng = SampleRandom(seed: 42)
    let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
    let labels = ["v0.5.0", "v0.5.1", "v0.5.2", "pr-311", "pr-318", "v0.6.0-rc1", "v0.6.0", "main@4f2c9e1"]
    let builds = labels.enumerated().map { i, label in
        let median = 820 + 35 * sin(Double(i)) + (i >= 5 ? 70 : 0)
        let half = 12 + rng.unit() * 18
        return BaselineReport.BuildPoint(
            label: label, date: start.addingTimeInterval(Double(i) * 7.5 * 86_400),
            medianMicros: median, ciLowMicros: median - half * 0.9, ciHighMicros: median + half * 1.1)
    }
    func run(_ factor: Double) -> [BaselineReport.HeightDuration] {
        (1...600).map { h in
            let load = 500 + 400 * (1 + sin(Double(h) / 45)) + Double(h % 50) * 6
            let spike = h % 97 == 0 ? 2.6 : 1
            return .init(height: h, micros: load * factor * spike * (0.9 + 0.2 * rng.unit()))
        }
    }
    let baseline = run(1.0), candidate = run(1.08)
    let edges = stride(from: 0, through: 3000, by: 250).map { $0 }
    let histogram = zip(edges, edges.dropFirst()).map { lo, hi in
        BaselineReport.HistogramBucket(
            label: "\(lo)–\(hi) µs", count: candidate.filter { $0.micros >= Double(lo) && $0.micros < Double(hi) }.count)
    }
    return BaselineReport(
        title: "tapyrus-trace baseline report",
        subtitle: "chain bench-600 (generator 1.2) · machine bench-01, AMD EPYC 7543, 2 cores · Linux 6.8",
        generated: start.addingTimeInterval(60 * 86_400 + 3_600 * 9.5),
        builds: builds, baselineName: "v0.5.2 (run 3f9a)", candidateName: "v0.6.0 (run 81c2)",
        baselineDurations: baseline, candidateDurations: candidate, histogram: histogram,
        verdicts: [
            .init(scenario: "bench-600 / connectblock", baseline: "v0.5.2 · 842 µs", candidate: "v0.6.0 · 909 µs",
                  effectPercent: 7.9, ciLowPercent: 6.4, ciHighPercent: 9.3, pValue: 0.00001, verdict: "regression"),
            .init(scenario: "bench-600 / reindex-chainstate", baseline: "v0.5.2 · 1.21 ms", candidate: "v0.6.0 · 1.19 ms",
                  effectPercent: -1.4, ciLowPercent: -3.0, ciHighPercent: 0.2, pValue: 0.082, verdict: "no change"),
            .init(scenario: "bench-3k / connectblock", baseline: "v0.6.0-rc1 · 1.02 ms", candidate: "v0.6.0 · 0.93 ms",
                  effectPercent: -8.8, ciLowPercent: -10.5, ciHighPercent: -7.0, pValue: 0.0031, verdict: "improvement"),
        ])
}

/// SplitMix64, so the sample is the same on every run.
struct SampleRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}

@Suite struct BaselineReportTests {
    #if canImport(FoundationXML) || os(macOS)
    /// Parses the page as XML: it must be well-formed.
    private func parse(_ html: String) throws -> XMLDocument {
        try XMLDocument(xmlString: html, options: [])
    }

    private func count(_ document: XMLDocument, _ xpath: String) throws -> Int {
        try document.nodes(forXPath: xpath).count
    }

    private func attribute(_ document: XMLDocument, _ xpath: String, _ name: String) throws -> [String] {
        try document.nodes(forXPath: xpath).compactMap { ($0 as? XMLElement)?.attribute(forName: name)?.stringValue }
    }

    @Test func theSamplePageIsWellFormedWithTheExpectedStructure() throws {
        let report = sampleBaselineReport()
        let document = try parse(report.html())
        #expect(document.rootElement()?.name == "html")
        #expect(try count(document, "//section") == 4)
        #expect(try count(document, "//svg") == 3)
        #expect(try count(document, "//h1") == 1)
    }

    @Test func theChartsHoldExactlyOneMarkPerInput() throws {
        let builds = (0..<5).map {
            BaselineReport.BuildPoint(label: "b\($0)", date: Date(timeIntervalSince1970: Double($0) * 86_400),
                                      medianMicros: 100 + Double($0), ciLowMicros: 95, ciHighMicros: 110)
        }
        let baseline = (10..<50).map { BaselineReport.HeightDuration(height: $0, micros: Double($0 * 3)) }
        let candidate = (12..<49).map { BaselineReport.HeightDuration(height: $0, micros: Double($0 * 4)) }
        let histogram = (0..<9).map { BaselineReport.HistogramBucket(label: "bucket \($0)", count: $0 * 2) }
        let verdicts = (0..<3).map {
            BaselineReport.VerdictRow(scenario: "s\($0)", baseline: "a", candidate: "b", effectPercent: 1,
                                      ciLowPercent: 0, ciHighPercent: 2, pValue: 0.5, verdict: "no change")
        }
        let report = BaselineReport(builds: builds, baselineDurations: baseline, candidateDurations: candidate,
                                    histogram: histogram, verdicts: verdicts)
        let document = try parse(report.html())

        // Builds: one point, one CI bar and two caps each; one trend line through all of them.
        #expect(try count(document, "//circle[@class='point']") == 5)
        #expect(try count(document, "//line[@class='ci']") == 5)
        #expect(try count(document, "//line[@class='ci-cap']") == 10)
        let trend = try attribute(document, "//polyline[@class='trend']", "points")
        #expect(trend.count == 1)
        #expect(trend.first?.split(separator: " ").count == 5)

        // Per height: one polyline per run, one vertex per height, and a legend entry each.
        let base = try attribute(document, "//polyline[@class='series baseline']", "points")
        let cand = try attribute(document, "//polyline[@class='series candidate']", "points")
        #expect(base.first?.split(separator: " ").count == 40)
        #expect(cand.first?.split(separator: " ").count == 37)
        #expect(try count(document, "//g[@class='legend']/text") == 2)

        // Histogram: one bar per bucket; verdicts: one row per verdict.
        #expect(try count(document, "//rect[@class='bar']") == 9)
        #expect(try count(document, "//table[@class='verdicts']/tbody/tr") == 3)
        #expect(try count(document, "//span[@class='verdict nochange']") == 3)
    }

    @Test func verticesAreInsideThePlotAndOrderedByHeight() throws {
        let report = sampleBaselineReport()
        let document = try parse(report.html())
        for cls in ["series baseline", "series candidate"] {
            let points = try attribute(document, "//polyline[@class='\(cls)']", "points").first ?? ""
            let xy = points.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
            #expect(xy.count == 600)
            #expect(xy.allSatisfy { $0.count == 2 && (0...960).contains($0[0]) && (0...360).contains($0[1]) })
            #expect(zip(xy, xy.dropFirst()).allSatisfy { $0[0] < $1[0] })
        }
    }

    @Test func emptyInputsGiveAWellFormedPageThatSaysSo() throws {
        let html = BaselineReport().html()
        let document = try parse(html)
        #expect(try count(document, "//svg") == 0)
        #expect(try count(document, "//p[@class='empty']") == 4)
    }

    @Test func hostileTextIsEscaped() throws {
        let evil = "<script>alert('x')</script>\" onload=\"alert(1)&amp;"
        let report = BaselineReport(
            title: evil, subtitle: evil,
            builds: [.init(label: evil, date: Date(), medianMicros: 1, ciLowMicros: 0.5, ciHighMicros: 2)],
            baselineName: evil, candidateName: evil,
            baselineDurations: [.init(height: 1, micros: 3)], candidateDurations: [.init(height: 1, micros: 4)],
            histogram: [.init(label: evil, count: 1)],
            verdicts: [.init(scenario: evil, baseline: evil, candidate: evil, effectPercent: 0, ciLowPercent: 0,
                             ciHighPercent: 0, pValue: 1, verdict: evil)])
        let html = report.html()
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("onload=\""))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onload=&quot;alert(1)&amp;amp;"))
        let document = try parse(html)
        #expect(try count(document, "//script") == 0)
        #expect(try count(document, "//*[@onload]") == 0)
        // The text survives as text.
        #expect(try document.nodes(forXPath: "//h1").first?.stringValue == evil)
    }
    #endif

    @Test func thePageIsSelfContained() {
        let html = sampleBaselineReport().html()
        let lower = html.lowercased()
        #expect(!lower.contains("http://"))
        #expect(!lower.contains("https://"))
        #expect(!lower.contains("<script"))
        #expect(!lower.contains("<link"))
        #expect(!lower.contains("<img"))
        #expect(!lower.contains("url("))
        #expect(!lower.contains("@import"))
        #expect(lower.hasPrefix("<!doctype html>"))
    }

    @Test func notFiniteFiguresNeverReachTheMarkup() {
        let report = BaselineReport(
            builds: [.init(label: "x", date: Date(), medianMicros: .nan, ciLowMicros: 1, ciHighMicros: 2),
                     .init(label: "y", date: Date(), medianMicros: 5, ciLowMicros: 4, ciHighMicros: 6)],
            baselineDurations: [.init(height: 1, micros: .infinity), .init(height: 2, micros: 3)],
            candidateDurations: [.init(height: 1, micros: 3)],
            verdicts: [.init(scenario: "s", baseline: "a", candidate: "b", effectPercent: .nan, ciLowPercent: .infinity,
                             ciHighPercent: -.infinity, pValue: .nan, verdict: "no change")])
        let html = report.html().lowercased()
        #expect(!html.contains("nan"))
        #expect(!html.contains("inf"))
    }

    /// Writes the sample page to `$TAPYRUS_TRACE_REPORT_SAMPLE` when it is set,
    /// for a look in a browser (see the README's headless Chromium command).
    @Test func writesTheSamplePageWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["TAPYRUS_TRACE_REPORT_SAMPLE"], !path.isEmpty else { return }
        try sampleBaselineReport().html().write(toFile: path, atomically: true, encoding: .utf8)
    }
}
