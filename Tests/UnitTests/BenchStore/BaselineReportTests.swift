import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import BenchStore
import ConnectBlockBench

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
    let histogram = BaselineReport.histogram(ofMicros: candidate.map(\.micros))
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

/// A Debug build four times slower than release over block costs from
/// 40 µs to 80 ms, the shape of a real chain.
func fourTimesSlowerBaselineReport() -> BaselineReport {
    let baseline = (1...300).map { h in
        BaselineReport.HeightDuration(height: h, micros: 40 * pow(2000, Double((h * 37) % 300) / 299))
    }
    let candidate = baseline.map { BaselineReport.HeightDuration(height: $0.height, micros: $0.micros * 4) }
    return BaselineReport(
        builds: [.init(label: "release", date: Date(timeIntervalSince1970: 0), medianMicros: 1_900, ciLowMicros: 1_850, ciHighMicros: 1_950),
                 .init(label: "debug", date: Date(timeIntervalSince1970: 3_600), medianMicros: 7_600, ciLowMicros: 7_400, ciHighMicros: 7_800)],
        baselineName: "run 1 (build release, v0.7.2)", candidateName: "run 2 (build debug, v0.7.2)",
        baselineDurations: baseline, candidateDurations: candidate,
        histogram: BaselineReport.histogram(ofMicros: candidate.map(\.micros)))
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
        #expect(try count(document, "//section") == 5)
        #expect(try count(document, "//svg") == 4)
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
        // The legend names both runs; the ratio chart's key names the median and ×1.
        #expect(try count(document, "//section[@id='heights']//g[@class='legend']/text") == 2)
        #expect(try count(document, "//section[@id='ratios']//g[@class='legend']/text") == 2)

        // Ratios: one point per height both runs measured (12 to 48), one median and one ×1 line.
        #expect(try count(document, "//circle[@class='ratio-point']") == 37)
        #expect(try count(document, "//line[@class='median']") == 1)
        #expect(try count(document, "//line[@class='reference']") == 1)

        // Histogram: one bar per bucket; verdicts: one row per verdict.
        #expect(try count(document, "//rect[@class='bar']") == 9)
        #expect(try count(document, "//table[@class='verdicts']/tbody/tr") == 3)
        #expect(try count(document, "//span[@class='verdict nochange']") == 3)
    }

    @Test func verticesAreInsideThePlotAndOrderedByHeight() throws {
        let report = sampleBaselineReport()
        let document = try parse(report.html())
        let box = try #require(try viewBox(document, "heights"))
        for cls in ["series baseline", "series candidate"] {
            let xy = try vertices(document, "//polyline[@class='\(cls)']")
            #expect(xy.count == 600)
            #expect(xy.allSatisfy { (0...box.width).contains($0.x) && (0...box.height).contains($0.y) })
            #expect(zip(xy, xy.dropFirst()).allSatisfy { $0.x < $1.x })
        }
    }

    /// The width and height of the chart in section `id`.
    private func viewBox(_ document: XMLDocument, _ id: String) throws -> (width: Double, height: Double)? {
        let box = try attribute(document, "//section[@id='\(id)']//svg", "viewBox").first?.split(separator: " ").compactMap { Double($0) }
        guard let box, box.count == 4 else { return nil }
        return (box[2], box[3])
    }

    /// The vertices of the first polyline `xpath` selects.
    private func vertices(_ document: XMLDocument, _ xpath: String) throws -> [(x: Double, y: Double)] {
        let points = try attribute(document, xpath, "points").first ?? ""
        return points.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
            .filter { $0.count == 2 }.map { ($0[0], $0[1]) }
    }

    @Test("a build 4× slower leaves the other readable: on the log axis both runs span the same height, a constant distance apart")
    func aFourTimesSlowerBuildDoesNotFlattenTheOther() throws {
        let document = try parse(fourTimesSlowerBaselineReport().html())
        let base = try vertices(document, "//polyline[@class='series baseline']")
        let cand = try vertices(document, "//polyline[@class='series candidate']")
        #expect(base.count == 300 && cand.count == 300)
        func span(_ points: [(x: Double, y: Double)]) -> Double { points.map(\.y).max()! - points.map(\.y).min()! }
        // Costs span 2000×: a linear axis would squeeze the baseline into a quarter of the candidate's height.
        #expect(span(base) > 150, "baseline spans \(span(base)) px")
        #expect(abs(span(base) - span(cand)) < 1, "baseline \(span(base)) px, candidate \(span(cand)) px")
        let gaps = zip(base, cand).map { $0.y - $1.y }
        #expect(gaps.allSatisfy { $0 > 10 && abs($0 - gaps[0]) < 0.05 }, "\(gaps.prefix(5))")

        // The ratio chart: every point on the median line, labelled ×4 (+300%).
        let median = try #require(try attribute(document, "//line[@class='median']", "y1").first.flatMap(Double.init))
        let ratios = try attribute(document, "//circle[@class='ratio-point']", "cy").compactMap(Double.init)
        #expect(ratios.count == 300)
        #expect(ratios.allSatisfy { abs($0 - median) < 0.02 })
        let key = try document.nodes(forXPath: "//section[@id='ratios']//g[@class='legend']/text").map { $0.stringValue ?? "" }
        #expect(key.first == "median ×4 (+300.0%)")
        // The ×1 line lies below the points, inside the plot.
        let one = try #require(try attribute(document, "//line[@class='reference']", "y1").first.flatMap(Double.init))
        let box = try #require(try viewBox(document, "ratios"))
        #expect(one > median + 50 && one < box.height)

        // The legend names the builds, not just the roles.
        let legend = try document.nodes(forXPath: "//section[@id='heights']//g[@class='legend']/text").map { $0.stringValue ?? "" }
        #expect(legend.contains { $0.hasPrefix("baseline: run 1 (build release, v0.7.2)") })
        #expect(legend.contains { $0.hasPrefix("candidate: run 2 (build debug, v0.7.2)") })
    }

    @Test("durations are written in the unit that reads best: ms and s, never millions of µs")
    func durationsInTheBestUnit() throws {
        let report = BaselineReport(
            builds: [.init(label: "slow", date: Date(timeIntervalSince1970: 0), medianMicros: 2_500_000, ciLowMicros: 2_400_000, ciHighMicros: 2_650_000),
                     .init(label: "fast", date: Date(timeIntervalSince1970: 60), medianMicros: 1_200_000, ciLowMicros: 1_150_000, ciHighMicros: 1_260_000)])
        let document = try parse(report.html())
        let labels = try document.nodes(forXPath: "//section[@id='builds']//g[@class='axis y']/text").compactMap(\.stringValue)
            .filter { !$0.contains("per block") }
        #expect(!labels.isEmpty)
        #expect(labels.allSatisfy { $0.hasSuffix(" s") }, "\(labels)")
        #expect(labels.allSatisfy { Double($0.dropLast(2)).map { (0.5...3.5).contains($0) } ?? false }, "\(labels)")
        let tooltip = try document.nodes(forXPath: "//g[@class='build']/title").compactMap(\.stringValue)
        #expect(tooltip.contains("slow · 1970-01-01 · median 2.50 s (CI 2.40 s – 2.65 s)"), "\(tooltip)")
        #expect(!report.html().contains("000 µs"))
    }


    @Test("histogram labels are never cut: slanted when they do not fit their bar, inside the chart")
    func histogramLabelsAreWhole() throws {
        // 40 µs to 400 ms: thirteen buckets, too narrow for upright labels.
        let micros = (0..<300).map { 40 * pow(10_000, Double($0) / 299) }
        let buckets = BaselineReport.histogram(ofMicros: micros)
        #expect(buckets.count == 13)
        let document = try parse(BaselineReport(histogram: buckets).html())
        let texts = try document.nodes(forXPath: "//text[@class='bucket']").compactMap { $0 as? XMLElement }
        #expect(texts.map { $0.stringValue ?? "" } == buckets.map(\.label))
        #expect(texts.allSatisfy { $0.attribute(forName: "transform")?.stringValue?.contains("rotate(-40") == true })
        let box = try #require(try viewBox(document, "histogram"))
        for text in texts {
            let y = try #require(text.attribute(forName: "y")?.stringValue.flatMap(Double.init))
            let label = text.stringValue ?? ""
            // The slanted label's lowest point, with its text at 0.6 em per character.
            let bottom = y + Double(label.count) * 12 * 0.6 * sin(40 * Double.pi / 180)
            #expect(bottom < box.height - 20, "\(label) reaches \(bottom) of \(box.height)")
        }

        // A few wide buckets stay upright.
        let few = BaselineReport.histogram(ofMicros: [1_200, 3_000, 7_000])
        let upright = try parse(BaselineReport(histogram: few).html())
        let uprightTexts = try upright.nodes(forXPath: "//text[@class='bucket']").compactMap { $0 as? XMLElement }
        #expect(uprightTexts.map { $0.stringValue ?? "" } == ["1–2 ms", "2–5 ms", "5–10 ms"])
        #expect(uprightTexts.allSatisfy { $0.attribute(forName: "transform") == nil })
    }

    @Test func emptyInputsGiveAWellFormedPageThatSaysSo() throws {
        let html = BaselineReport().html()
        let document = try parse(html)
        #expect(try count(document, "//svg") == 0)
        #expect(try count(document, "//p[@class='empty']") == 5)
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

    @Test("the histogram's buckets: edges at 1, 2, 5 × 10ⁿ µs, every duration counted once, labels in the best unit")
    func histogramBuckets() {
        let micros: [Double] = [44, 49.9, 50, 150, 900, 1_000, 1_500, 30_000, 120_000, 199_999]
        let buckets = BaselineReport.histogram(ofMicros: micros)
        #expect(buckets.map(\.label) == [
            "20–50 µs", "50–100 µs", "100–200 µs", "200–500 µs", "0.5–1 ms", "1–2 ms", "2–5 ms", "5–10 ms",
            "10–20 ms", "20–50 ms", "50–100 ms", "100–200 ms",
        ])
        #expect(buckets.map(\.count) == [2, 1, 1, 0, 1, 2, 0, 0, 0, 1, 0, 2])
        #expect(buckets.reduce(0) { $0 + $1.count } == micros.count)
        #expect(BaselineReport.histogram(ofMicros: [0, 0.5, 3]).map(\.label) == ["0–1 µs", "1–2 µs", "2–5 µs"])
        #expect(BaselineReport.histogram(ofMicros: [1_000_000, 2_400_000]).map(\.label) == ["1–2 s", "2–5 s"])
        #expect(BaselineReport.histogram(ofMicros: [.nan]).isEmpty)
        #expect(BaselineReport.histogram(ofMicros: []).isEmpty)
    }

    @Test("a duration reads in its best unit with three significant digits")
    func durationText() {
        #expect(DurationText.duration(44.64) == "44.6 µs")
        #expect(DurationText.duration(999) == "999 µs")
        #expect(DurationText.duration(1_250) == "1.25 ms")
        #expect(DurationText.duration(12_500) == "12.5 ms")
        #expect(DurationText.duration(250_000) == "250 ms")
        #expect(DurationText.duration(2_500_000) == "2.50 s")
        #expect(DurationText.duration(.nan) == "–")
        #expect(DurationText.compact(500) == "500 µs")
        #expect(DurationText.compact(2_500) == "2.5 ms")
        #expect(DurationText.compact(1_000_000) == "1 s")
        #expect(DurationText.range(500, 1_000) == "0.5–1 ms")
        #expect(DurationText.ratio(4) == "×4")
        #expect(DurationText.ratio(1.05) == "×1.05")
        #expect(BaselineReport.keepingUnits("run 1 (build <a>) · 1.5 ms, 2 s, 44 µs") == "run 1 (build &lt;a&gt;) · 1.5\u{00A0}ms, 2\u{00A0}s, 44\u{00A0}µs")
    }

    @Test("axis ticks: linear ones in one unit with the decimals their step needs, log ones at 1, 2, 5 × 10ⁿ")
    func axisTicks() {
        let linear = LinearScale.duration(domain: (0, 12_500), range: (300, 0), includeZero: true)
        #expect(linear.ticks.map(linear.label) == ["0.0 ms", "2.5 ms", "5.0 ms", "7.5 ms", "10.0 ms", "12.5 ms"])
        #expect(linear.map(0) == 300 && linear.map(12_500) == 0)
        let micros = LinearScale.duration(domain: (0, 600), range: (300, 0), includeZero: true)
        #expect(micros.ticks.map(micros.label) == ["0 µs", "100 µs", "200 µs", "300 µs", "400 µs", "500 µs", "600 µs"])

        let log = LogScale.duration(domain: (44, 180_000), range: (300, 0))
        // Four decades give 13 steps of 1, 2, 5: too many, so the axis runs
        // from power of ten to power of ten and is ticked at those.
        #expect(log.lower == 10 && log.upper == 1_000_000)
        #expect(log.map(10) == 300 && log.map(1_000_000) == 0)
        #expect(abs(log.map(1_000) - 180) < 1e-9, "1 ms is two of the five decades up")
        #expect(log.ticks.map(log.label) == ["10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s"])
        let narrow = LogScale.duration(domain: (120, 900), range: (300, 0))
        #expect(narrow.ticks.map(narrow.label) == ["100 µs", "200 µs", "500 µs", "1 ms"])

        let wide = LogScale.ratio(domain: (3.6, 4.5), range: (300, 0))
        #expect(wide.ticks.map(wide.label) == ["×1", "×2", "×4"])
        let huge = LogScale.ratio(domain: (0.016, 2.2), range: (300, 0))
        #expect(huge.ticks.map(huge.label) == ["×0.02", "×0.05", "×0.1", "×0.2", "×0.5", "×1", "×2"])
        let close = LogScale.ratio(domain: (0.97, 1.04), range: (300, 0))
        #expect(close.ticks.contains { abs($0 - 1) < 1e-9 } && close.ticks.count >= 3, "\(close.ticks)")
        #expect(close.map(0.5) == close.map(close.lower), "values below the axis are drawn at its foot")
    }

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
    /// and the four-times-slower one beside it (`-4x` before the extension),
    /// for a look in a browser (see docs/benchmark.md's headless Chromium command).
    @Test func writesTheSamplePageWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["TAPYRUS_TRACE_REPORT_SAMPLE"], !path.isEmpty else { return }
        try sampleBaselineReport().html().write(toFile: path, atomically: true, encoding: .utf8)
        let url = URL(fileURLWithPath: path)
        let slower = url.deletingPathExtension().path + "-4x." + (url.pathExtension.isEmpty ? "html" : url.pathExtension)
        try fourTimesSlowerBaselineReport().html().write(toFile: slower, atomically: true, encoding: .utf8)
    }
}
