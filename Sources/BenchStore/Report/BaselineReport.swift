import Foundation

/// A static, self-contained HTML page about the benchmark's baselines.
///
/// Built from plain values, or from a stored comparison with
/// ``init(_:builds:generated:)``. ``html()`` draws every chart
/// as inline SVG with inline CSS: the page has no scripts and refers to
/// nothing on the network, so it can be mailed, archived or opened offline.
///
/// The page holds, in order:
/// 1. the median µs/block of each build over time, with its confidence interval;
/// 2. the per-height duration of the two compared runs (baseline and candidate);
/// 3. the histogram of block durations;
/// 4. the verdict table.
public struct BaselineReport: Sendable, Hashable {
    /// One build's median µs/block with its confidence interval, at the date it was measured.
    public struct BuildPoint: Sendable, Hashable {
        public var label: String
        public var date: Date
        public var medianMicros: Double
        public var ciLowMicros: Double
        public var ciHighMicros: Double

        public init(label: String, date: Date, medianMicros: Double, ciLowMicros: Double, ciHighMicros: Double) {
            self.label = label
            self.date = date
            self.medianMicros = medianMicros
            self.ciLowMicros = ciLowMicros
            self.ciHighMicros = ciHighMicros
        }
    }

    /// The duration of connecting the block at one height.
    public struct HeightDuration: Sendable, Hashable {
        public var height: Int
        public var micros: Double

        public init(height: Int, micros: Double) {
            self.height = height
            self.micros = micros
        }
    }

    /// One bar of the duration histogram: `label` is the bucket (`"100–200 µs"`).
    public struct HistogramBucket: Sendable, Hashable {
        public var label: String
        public var count: Int

        public init(label: String, count: Int) {
            self.label = label
            self.count = count
        }
    }

    /// One row of the verdict table. `baseline` and `candidate` are shown as
    /// given (a build label, perhaps with its median); the effect and its
    /// interval are in percent of the baseline (+10 is 10% slower).
    public struct VerdictRow: Sendable, Hashable {
        public var scenario: String
        public var baseline: String
        public var candidate: String
        public var effectPercent: Double
        public var ciLowPercent: Double
        public var ciHighPercent: Double
        public var pValue: Double
        /// `"regression"`, `"improvement"`, `"no change"` get their own colour; any other text is shown plainly.
        public var verdict: String

        public init(scenario: String, baseline: String, candidate: String, effectPercent: Double,
                    ciLowPercent: Double, ciHighPercent: Double, pValue: Double, verdict: String) {
            self.scenario = scenario
            self.baseline = baseline
            self.candidate = candidate
            self.effectPercent = effectPercent
            self.ciLowPercent = ciLowPercent
            self.ciHighPercent = ciHighPercent
            self.pValue = pValue
            self.verdict = verdict
        }
    }

    public var title: String
    /// A line under the title (chain, machine, ...); omitted when empty.
    public var subtitle: String
    /// When the page was made; shown in the footer when present.
    public var generated: Date?
    public var builds: [BuildPoint]
    public var baselineName: String
    public var candidateName: String
    public var baselineDurations: [HeightDuration]
    public var candidateDurations: [HeightDuration]
    public var histogram: [HistogramBucket]
    public var verdicts: [VerdictRow]
    /// The confidence level of the intervals, for the captions (0.95).
    public var confidenceLevel: Double

    public init(title: String = "tapyrus-trace baseline report", subtitle: String = "", generated: Date? = nil,
                builds: [BuildPoint] = [], baselineName: String = "baseline", candidateName: String = "candidate",
                baselineDurations: [HeightDuration] = [], candidateDurations: [HeightDuration] = [],
                histogram: [HistogramBucket] = [], verdicts: [VerdictRow] = [], confidenceLevel: Double = 0.95) {
        self.title = title
        self.subtitle = subtitle
        self.generated = generated
        self.builds = builds
        self.baselineName = baselineName
        self.candidateName = candidateName
        self.baselineDurations = baselineDurations
        self.candidateDurations = candidateDurations
        self.histogram = histogram
        self.verdicts = verdicts
        self.confidenceLevel = confidenceLevel
    }

    /// The whole page: one HTML5 document that is also well-formed XML. Inline
    /// SVG needs no `xmlns` in HTML, so the page holds no URL at all.
    public func html() -> String {
        let level = Self.number(confidenceLevel * 100, decimals: 0)
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>\(Self.escape(title))</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            <header>
            <h1>\(Self.escape(title))</h1>

            """
        if !subtitle.isEmpty { out += "<p class=\"subtitle\">\(Self.escape(subtitle))</p>\n" }
        out += "</header>\n"

        out += section(
            id: "builds", heading: "Median µs/block per build",
            caption: "Each point is one build’s median time to connect a block; the bars are its \(level)% confidence interval.",
            body: buildsChart())
        out += section(
            id: "heights", heading: "Duration per height",
            caption: "Time to connect each block, \(Self.escape(baselineName)) versus \(Self.escape(candidateName)).",
            escapeCaption: false, body: heightsChart())
        out += section(
            id: "histogram", heading: "Duration histogram",
            caption: "How many blocks took how long to connect.", body: histogramChart())
        out += section(
            id: "verdicts", heading: "Verdicts",
            caption: "Effect: median of the per-height ratios candidate / baseline, with its \(level)% bootstrap confidence interval; p: Wilcoxon signed-rank test.",
            body: verdictTable())

        out += "<footer>tapyrus-trace"
        if let generated { out += " · generated \(Self.escape(Self.dateTime(generated)))" }
        out += "</footer>\n</body>\n</html>\n"
        return out
    }

    private func section(id: String, heading: String, caption: String, escapeCaption: Bool = true, body: String) -> String {
        """
        <section id="\(id)">
        <h2>\(Self.escape(heading))</h2>
        <p class="caption">\(escapeCaption ? Self.escape(caption) : caption)</p>
        \(body)
        </section>

        """
    }

    // MARK: - Charts

    private static let width = 960.0, height = 360.0
    private static let margin = (top: 28.0, right: 24.0, bottom: 56.0, left: 100.0)
    private static var plotLeft: Double { margin.left }
    private static var plotRight: Double { width - margin.right }
    private static var plotTop: Double { margin.top }
    private static var plotBottom: Double { height - margin.bottom }

    private static func svgOpen(_ label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" role=\"img\" aria-label=\"\(escape(label))\">\n"
    }

    private static func empty(_ what: String) -> String {
        "<p class=\"empty\">No \(escape(what)) to show.</p>\n"
    }

    /// The horizontal grid, the y ticks and labels, the axes and the y-axis title.
    private static func yAxis(_ scale: LinearScale, title: String) -> String {
        var s = "<g class=\"axis y\">\n"
        for tick in scale.ticks {
            let y = scale.map(tick)
            s += "<line class=\"grid\" x1=\"\(fmt(plotLeft))\" y1=\"\(fmt(y))\" x2=\"\(fmt(plotRight))\" y2=\"\(fmt(y))\"/>\n"
            s += "<line class=\"tick\" x1=\"\(fmt(plotLeft - 5))\" y1=\"\(fmt(y))\" x2=\"\(fmt(plotLeft))\" y2=\"\(fmt(y))\"/>\n"
            s += "<text x=\"\(fmt(plotLeft - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(escape(scale.label(tick)))</text>\n"
        }
        let midY = (plotTop + plotBottom) / 2
        s += "<text class=\"axis-title\" transform=\"translate(16 \(fmt(midY))) rotate(-90)\" text-anchor=\"middle\">\(escape(title))</text>\n"
        s += "<line class=\"domain\" x1=\"\(fmt(plotLeft))\" y1=\"\(fmt(plotTop))\" x2=\"\(fmt(plotLeft))\" y2=\"\(fmt(plotBottom))\"/>\n"
        s += "<line class=\"domain\" x1=\"\(fmt(plotLeft))\" y1=\"\(fmt(plotBottom))\" x2=\"\(fmt(plotRight))\" y2=\"\(fmt(plotBottom))\"/>\n"
        return s + "</g>\n"
    }

    private static func xTicks(_ ticks: [(x: Double, label: String)], title: String) -> String {
        var s = "<g class=\"axis x\">\n"
        for tick in ticks {
            s += "<line class=\"tick\" x1=\"\(fmt(tick.x))\" y1=\"\(fmt(plotBottom))\" x2=\"\(fmt(tick.x))\" y2=\"\(fmt(plotBottom + 5))\"/>\n"
            s += "<text x=\"\(fmt(tick.x))\" y=\"\(fmt(plotBottom + 20))\" text-anchor=\"middle\">\(escape(tick.label))</text>\n"
        }
        s += "<text class=\"axis-title\" x=\"\(fmt((plotLeft + plotRight) / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">\(escape(title))</text>\n"
        return s + "</g>\n"
    }

    private func buildsChart() -> String {
        let points = builds.filter { [$0.medianMicros, $0.ciLowMicros, $0.ciHighMicros].allSatisfy(\.isFinite) }
            .sorted { $0.date < $1.date }
        guard !points.isEmpty else { return Self.empty("builds") }
        let low = points.map { min($0.ciLowMicros, $0.medianMicros) }.min()!
        let high = points.map { max($0.ciHighMicros, $0.medianMicros) }.max()!
        // Not from zero: the interesting changes are a few percent. Padded so
        // that the error bars do not touch the frame.
        let pad = max((high - low) * 0.15, abs(high) * 0.02, 1)
        let y = LinearScale(domain: (max(0, low - pad), high + pad), range: (Self.plotBottom, Self.plotTop), includeZero: false)
            .withUnit(" µs")

        // Builds are spaced evenly in date order (dates are often bunched), and
        // each is labelled with its name and date.
        let inset = 40.0
        let step = points.count > 1 ? (Self.plotRight - Self.plotLeft - 2 * inset) / Double(points.count - 1) : 0
        func x(_ i: Int) -> Double {
            points.count > 1 ? Self.plotLeft + inset + Double(i) * step : (Self.plotLeft + Self.plotRight) / 2
        }
        let widest = points.map { Self.textWidth(Self.truncate($0.label, 16)) }.max()!
        let every = Self.labelStride(labelWidth: max(widest, Self.textWidth("0000-00-00", size: 11)),
                                     slot: points.count > 1 ? step : .infinity)

        var s = Self.svgOpen("Median microseconds per block for each build, over time")
        s += Self.yAxis(y, title: "µs per block (median)")
        s += "<g class=\"axis x\">\n"
        for (i, p) in points.enumerated() where i % every == 0 {
            let px = Self.fmt(x(i))
            s += "<line class=\"tick\" x1=\"\(px)\" y1=\"\(Self.fmt(Self.plotBottom))\" x2=\"\(px)\" y2=\"\(Self.fmt(Self.plotBottom + 5))\"/>\n"
            s += "<text x=\"\(px)\" y=\"\(Self.fmt(Self.plotBottom + 19))\" text-anchor=\"middle\">\(Self.escape(Self.truncate(p.label, 16)))</text>\n"
            s += "<text class=\"sub\" x=\"\(px)\" y=\"\(Self.fmt(Self.plotBottom + 33))\" text-anchor=\"middle\">\(Self.escape(Self.day(p.date)))</text>\n"
        }
        s += "</g>\n"
        if points.count > 1 {
            let line = points.indices.map { "\(Self.fmt(x($0))),\(Self.fmt(y.map(points[$0].medianMicros)))" }
            s += "<polyline class=\"trend\" points=\"\(line.joined(separator: " "))\"/>\n"
        }
        s += "<g class=\"builds\">\n"
        for (i, p) in points.enumerated() {
            let px = Self.fmt(x(i)), lo = Self.fmt(y.map(p.ciLowMicros)), hi = Self.fmt(y.map(p.ciHighMicros))
            let tooltip = "\(p.label) · \(Self.day(p.date)) · median \(Self.micros(p.medianMicros)) (CI \(Self.micros(p.ciLowMicros)) – \(Self.micros(p.ciHighMicros)))"
            s += "<g class=\"build\"><title>\(Self.escape(tooltip))</title>\n"
            s += "<line class=\"ci\" x1=\"\(px)\" y1=\"\(lo)\" x2=\"\(px)\" y2=\"\(hi)\"/>\n"
            s += "<line class=\"ci-cap\" x1=\"\(Self.fmt(x(i) - 6))\" y1=\"\(lo)\" x2=\"\(Self.fmt(x(i) + 6))\" y2=\"\(lo)\"/>\n"
            s += "<line class=\"ci-cap\" x1=\"\(Self.fmt(x(i) - 6))\" y1=\"\(hi)\" x2=\"\(Self.fmt(x(i) + 6))\" y2=\"\(hi)\"/>\n"
            s += "<circle class=\"point\" cx=\"\(px)\" cy=\"\(Self.fmt(y.map(p.medianMicros)))\" r=\"4.5\"/>\n"
            s += "</g>\n"
        }
        return s + "</g>\n</svg>\n"
    }

    private func heightsChart() -> String {
        let series = [
            (name: baselineName, cls: "baseline", data: baselineDurations),
            (name: candidateName, cls: "candidate", data: candidateDurations),
        ].map { s in (s.name, s.cls, s.data.filter(\.micros.isFinite).sorted { $0.height < $1.height }) }
        let all = series.flatMap(\.2)
        guard !all.isEmpty else { return Self.empty("per-height durations") }
        let heights = all.map { Double($0.height) }
        let x = LinearScale(domain: (heights.min()!, heights.max()!), range: (Self.plotLeft, Self.plotRight),
                            includeZero: false, integer: true)
        let y = LinearScale(domain: (0, all.map(\.micros).max()!), range: (Self.plotBottom, Self.plotTop), includeZero: true)
            .withUnit(" µs")

        var s = Self.svgOpen("Duration per height for \(baselineName) and \(candidateName)")
        s += Self.yAxis(y, title: "µs to connect the block")
        s += Self.xTicks(x.ticks.map { (x.map($0), x.label($0)) }, title: "block height")
        for (_, cls, data) in series where !data.isEmpty {
            let pts = data.map { "\(Self.fmt(x.map(Double($0.height)))),\(Self.fmt(y.map($0.micros)))" }
            s += "<polyline class=\"series \(cls)\" points=\"\(pts.joined(separator: " "))\"/>\n"
        }
        // The legend, top right inside the plot.
        let lx = Self.plotRight - 230
        var ly = Self.plotTop + 10.0
        s += "<g class=\"legend\">\n"
        s += "<rect class=\"legend-box\" x=\"\(Self.fmt(lx - 10))\" y=\"\(Self.fmt(ly - 4))\" width=\"230\" height=\"46\" rx=\"4\"/>\n"
        // Roles, not names: the caption above names the runs, and names would be cut.
        for (_, cls, data) in series {
            ly += 8
            s += "<line class=\"swatch \(cls)\" x1=\"\(Self.fmt(lx))\" y1=\"\(Self.fmt(ly))\" x2=\"\(Self.fmt(lx + 22))\" y2=\"\(Self.fmt(ly))\"/>\n"
            s += "<text x=\"\(Self.fmt(lx + 30))\" y=\"\(Self.fmt(ly + 4))\">\(cls) (\(data.count) blocks)</text>\n"
            ly += 12
        }
        return s + "</g>\n</svg>\n"
    }

    private func histogramChart() -> String {
        guard !histogram.isEmpty else { return Self.empty("histogram buckets") }
        let maxCount = Double(histogram.map { max(0, $0.count) }.max()!)
        let y = LinearScale(domain: (0, max(1, maxCount)), range: (Self.plotBottom, Self.plotTop),
                            includeZero: true, integer: true)
        let slot = (Self.plotRight - Self.plotLeft) / Double(histogram.count)
        let barWidth = max(1, slot * 0.82)
        let every = Self.labelStride(
            labelWidth: histogram.map { Self.textWidth(Self.truncate($0.label, 14)) }.max()!, slot: slot)

        var s = Self.svgOpen("Histogram of block durations")
        s += Self.yAxis(y, title: "blocks")
        var ticks: [(x: Double, label: String)] = []
        s += "<g class=\"bars\">\n"
        for (i, bucket) in histogram.enumerated() {
            let cx = Self.plotLeft + slot * (Double(i) + 0.5)
            let top = y.map(Double(max(0, bucket.count)))
            s += "<rect class=\"bar\" x=\"\(Self.fmt(cx - barWidth / 2))\" y=\"\(Self.fmt(top))\" width=\"\(Self.fmt(barWidth))\" height=\"\(Self.fmt(Self.plotBottom - top))\"><title>\(Self.escape("\(bucket.label): \(bucket.count) blocks"))</title></rect>\n"
            if histogram.count <= 24, bucket.count > 0 {
                s += "<text class=\"bar-value\" x=\"\(Self.fmt(cx))\" y=\"\(Self.fmt(top - 5))\" text-anchor=\"middle\">\(bucket.count)</text>\n"
            }
            if i % every == 0 { ticks.append((cx, Self.truncate(bucket.label, 14))) }
        }
        s += "</g>\n"
        s += Self.xTicks(ticks, title: "time to connect a block")
        return s + "</svg>\n"
    }

    private func verdictTable() -> String {
        guard !verdicts.isEmpty else { return Self.empty("comparisons") }
        var s = """
            <table class="verdicts">
            <thead><tr><th>Scenario</th><th>Baseline</th><th>Candidate</th><th class="num">Effect</th><th class="num">\(Self.number(confidenceLevel * 100, decimals: 0))% CI</th><th class="num">p</th><th>Verdict</th></tr></thead>
            <tbody>

            """
        for row in verdicts {
            let cls: String
            switch row.verdict.lowercased() {
            case "regression": cls = "regression"
            case "improvement": cls = "improvement"
            case "no change", "nochange": cls = "nochange"
            default: cls = "other"
            }
            s += "<tr><td>\(Self.escape(row.scenario))</td><td>\(Self.escape(row.baseline))</td><td>\(Self.escape(row.candidate))</td>"
            s += "<td class=\"num\">\(Self.percent(row.effectPercent))</td>"
            s += "<td class=\"num\">\(Self.percent(row.ciLowPercent)) to \(Self.percent(row.ciHighPercent))</td>"
            s += "<td class=\"num\">\(Self.pValue(row.pValue))</td>"
            s += "<td><span class=\"verdict \(cls)\">\(Self.escape(row.verdict))</span></td></tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    // MARK: - Text

    /// Escapes text for HTML element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters are not allowed in HTML (nor XML) text.
            case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += "\u{FFFD}"
            case _ where scalar.value == 0x7F: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A generous estimate of the width of `text` in pixels at `size` px in a sans-serif font.
    static func textWidth(_ text: String, size: Double = 12) -> Double {
        Double(text.count) * size * 0.6
    }

    /// Label every n-th slot so that labels of `labelWidth` do not overlap.
    static func labelStride(labelWidth: Double, slot: Double) -> Int {
        guard slot.isFinite, slot > 0 else { return 1 }
        return max(1, Int(((labelWidth + 10) / slot).rounded(.up)))
    }

    static func truncate(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    /// A coordinate: two decimals at most, no exponent, `0` for anything not finite.
    static func fmt(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }

    static func number(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "–" }
        return String(format: "%.\(decimals)f", value)
    }

    static func micros(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if abs(value) >= 10_000 { return String(format: "%.1f ms", value / 1000) }
        return String(format: abs(value) >= 100 ? "%.0f µs" : "%.1f µs", value)
    }

    static func percent(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return String(format: "%+.1f%%", value).replacingOccurrences(of: "-", with: "−")
    }

    static func pValue(_ p: Double) -> String {
        guard p.isFinite else { return "–" }
        if p < 0.0001 { return "&lt; 0.0001" }
        return String(format: p < 0.01 ? "%.4f" : "%.3f", p)
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func day(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    static func dateTime(_ date: Date) -> String {
        let c = utc.dateComponents([.hour, .minute], from: date)
        return day(date) + String(format: " %02d:%02d UTC", c.hour ?? 0, c.minute ?? 0)
    }

    // MARK: - Style

    private static let css = """

        :root { --ink: #1f2933; --muted: #616e7c; --rule: #e4e7eb; --base: #3b6fd4; --cand: #e0692b; --bar: #4c8c7a; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1040px; padding: 28px 32px 40px; color: var(--ink); background: #fff;
          font: 15px/1.5 -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
        header { border-bottom: 2px solid var(--rule); margin-bottom: 8px; }
        h1 { font-size: 26px; margin: 0 0 4px; font-weight: 650; }
        .subtitle { color: var(--muted); margin: 0 0 14px; }
        section { margin: 26px 0 10px; }
        h2 { font-size: 18px; margin: 0 0 2px; font-weight: 600; }
        .caption { color: var(--muted); margin: 0 0 8px; font-size: 13.5px; }
        .empty { color: var(--muted); font-style: italic; padding: 18px; border: 1px dashed var(--rule); border-radius: 6px; }
        svg.chart { width: 100%; height: auto; display: block; font-size: 12px; fill: var(--ink); }
        svg .grid { stroke: var(--rule); stroke-width: 1; }
        svg .domain, svg .tick { stroke: #9aa5b1; stroke-width: 1; }
        svg .axis text { fill: var(--muted); }
        svg .axis text.sub { font-size: 11px; fill: #9aa5b1; }
        svg .axis-title { fill: var(--ink); font-size: 12.5px; font-weight: 600; }
        svg .trend { fill: none; stroke: var(--base); stroke-width: 1.5; stroke-opacity: 0.35; }
        svg .ci, svg .ci-cap { stroke: var(--base); stroke-width: 1.6; }
        svg .point { fill: #fff; stroke: var(--base); stroke-width: 2.2; }
        svg .series { fill: none; stroke-width: 1.3; stroke-linejoin: round; }
        svg .baseline { stroke: var(--base); }
        svg .candidate { stroke: var(--cand); }
        svg .series.candidate { stroke-opacity: 0.85; }
        svg .legend-box { fill: #fff; fill-opacity: 0.92; stroke: var(--rule); }
        svg .swatch { stroke-width: 3; }
        svg .bar { fill: var(--bar); }
        svg .bar-value { fill: var(--muted); font-size: 11px; }
        table.verdicts { border-collapse: collapse; width: 100%; font-size: 14px; }
        table.verdicts th, table.verdicts td { padding: 7px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
        table.verdicts th { font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--rule); white-space: nowrap; }
        table.verdicts .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        table.verdicts tbody tr:nth-child(even) { background: #f8f9fb; }
        .verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }
        .verdict.regression { background: #fde2e1; color: #a61b1b; }
        .verdict.improvement { background: #dff4e4; color: #1d6b35; }
        .verdict.nochange { background: #eceff3; color: #52606d; }
        .verdict.other { background: #fff4d6; color: #7a5a00; }
        footer { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }

        """
}

/// A linear map from data to pixels with "nice" ticks (1, 2, 5 × 10ⁿ).
struct LinearScale {
    var lower: Double
    var upper: Double
    var range: (Double, Double)
    var ticks: [Double]
    var unit = ""
    var step: Double

    init(domain: (Double, Double), range: (Double, Double), includeZero: Bool, integer: Bool = false, count: Int = 6) {
        var lo = domain.0, hi = domain.1
        if includeZero { lo = min(lo, 0) }
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi <= lo { hi = lo + max(1, abs(lo) * 0.1) }
        var step = Self.niceStep((hi - lo) / Double(count))
        if integer { step = max(1, step.rounded()) }
        let first = (lo / step).rounded(.down) * step, last = (hi / step).rounded(.up) * step
        self.lower = first
        self.upper = last
        self.range = range
        self.step = step
        var ticks: [Double] = []
        var t = first
        while t <= last + step / 2, ticks.count < 50 {
            ticks.append(abs(t) < step / 1e6 ? 0 : t)
            t += step
        }
        self.ticks = ticks
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    func withUnit(_ unit: String) -> LinearScale {
        var copy = self
        copy.unit = unit
        return copy
    }

    func map(_ value: Double) -> Double {
        guard upper > lower else { return range.0 }
        return range.0 + (value - lower) / (upper - lower) * (range.1 - range.0)
    }

    func label(_ value: Double) -> String {
        let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
        var text = String(format: "%.\(decimals)f", value)
        if decimals == 0, abs(value) >= 10_000 {
            // Thousands separated by a thin space: 12 500.
            let digits = String(Int(abs(value)))
            var grouped = ""
            for (i, ch) in digits.enumerated() {
                if i > 0, (digits.count - i) % 3 == 0 { grouped += "\u{2009}" }
                grouped.append(ch)
            }
            text = (value < 0 ? "−" : "") + grouped
        }
        return text + unit
    }
}
