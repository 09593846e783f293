import ConnectBlockBench
import Foundation

/// A static, self-contained HTML page about the benchmark's baselines.
///
/// Built from plain values, or from a stored comparison with
/// ``init(_:builds:generated:)``. ``html()`` draws every chart
/// as inline SVG with inline CSS: the page has no scripts and refers to
/// nothing on the network, so it can be mailed, archived or opened offline.
///
/// The page holds, in order:
/// 1. the median time per block of each build over time, with its confidence interval;
/// 2. the per-height duration of the two compared runs (baseline and candidate),
///    on a logarithmic scale;
/// 3. the ratio candidate / baseline at each height, with its median;
/// 4. the histogram of block durations;
/// 5. the verdict table.
///
/// Durations are written in the unit that reads best for their size (µs, ms
/// or s); the charts stay legible from a 800 px to a 1200 px wide window.
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
            id: "builds", heading: "Median time per block, per build",
            caption: "Each point is one build’s median time to connect a block; the bars are its \(level)% confidence interval.",
            body: buildsChart())
        out += section(
            id: "heights", heading: "Duration per height",
            caption: "Time to connect each block, \(baselineName) versus \(candidateName), on a logarithmic scale: a build k times slower runs the same distance above the other at every height.",
            body: heightsChart())
        out += section(
            id: "ratios", heading: "Candidate / baseline per height",
            caption: "The candidate’s time divided by the baseline’s at each height both measured, on a logarithmic scale; ×1 is no change, the dashed line is the median ratio.",
            body: ratioChart())
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

    private func section(id: String, heading: String, caption: String, body: String) -> String {
        """
        <section id="\(id)">
        <h2>\(Self.escape(heading))</h2>
        <p class="caption">\(Self.escape(caption))</p>
        \(body)
        </section>

        """
    }

    // MARK: - Charts

    /// The width of every chart's coordinate system. The SVG is scaled to the
    /// page's width: about 1.2× in a 1200 px window, 0.9× in an 800 px one,
    /// so 12-unit text stays between 11 and 15 px.
    static let chartWidth = 800.0
    static let fontSize = 12.0

    /// Where a chart's plot area lies inside its SVG.
    struct Frame {
        var height: Double
        var top: Double
        var bottom: Double
        var left: Double
        var right = 18.0
        var width: Double { BaselineReport.chartWidth }
        var plotLeft: Double { left }
        var plotRight: Double { width - right }
        var plotTop: Double { top }
        var plotBottom: Double { height - bottom }
        var plotWidth: Double { plotRight - plotLeft }

        /// A frame whose left margin holds the y-axis title and the widest of `yLabels`.
        init(height: Double, top: Double = 20, bottom: Double = 52, yLabels: [String]) {
            self.height = height
            self.top = top
            self.bottom = bottom
            left = 30 + (yLabels.map { BaselineReport.textWidth($0) }.max() ?? 20) + 12
        }
    }

    private static func svgOpen(_ frame: Frame, _ label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(fmt(frame.width)) \(fmt(frame.height))\" role=\"img\" aria-label=\"\(escape(label))\">\n"
    }

    private static func empty(_ what: String) -> String {
        "<p class=\"empty\">No \(escape(what)) to show.</p>\n"
    }

    /// The horizontal grid, the y ticks and labels, the axes and the y-axis title.
    private static func yAxis(_ scale: some ChartScale, _ frame: Frame, title: String) -> String {
        var s = "<g class=\"axis y\">\n"
        for tick in scale.ticks {
            let y = scale.map(tick)
            s += "<line class=\"grid\" x1=\"\(fmt(frame.plotLeft))\" y1=\"\(fmt(y))\" x2=\"\(fmt(frame.plotRight))\" y2=\"\(fmt(y))\"/>\n"
            s += "<line class=\"tick\" x1=\"\(fmt(frame.plotLeft - 5))\" y1=\"\(fmt(y))\" x2=\"\(fmt(frame.plotLeft))\" y2=\"\(fmt(y))\"/>\n"
            s += "<text x=\"\(fmt(frame.plotLeft - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(escape(scale.label(tick)))</text>\n"
        }
        let midY = (frame.plotTop + frame.plotBottom) / 2
        s += "<text class=\"axis-title\" transform=\"translate(15 \(fmt(midY))) rotate(-90)\" text-anchor=\"middle\">\(escape(title))</text>\n"
        s += "<line class=\"domain\" x1=\"\(fmt(frame.plotLeft))\" y1=\"\(fmt(frame.plotTop))\" x2=\"\(fmt(frame.plotLeft))\" y2=\"\(fmt(frame.plotBottom))\"/>\n"
        s += "<line class=\"domain\" x1=\"\(fmt(frame.plotLeft))\" y1=\"\(fmt(frame.plotBottom))\" x2=\"\(fmt(frame.plotRight))\" y2=\"\(fmt(frame.plotBottom))\"/>\n"
        return s + "</g>\n"
    }

    private static func xTicks(_ ticks: [(x: Double, label: String)], _ frame: Frame, title: String) -> String {
        var s = "<g class=\"axis x\">\n"
        for tick in ticks {
            s += "<line class=\"tick\" x1=\"\(fmt(tick.x))\" y1=\"\(fmt(frame.plotBottom))\" x2=\"\(fmt(tick.x))\" y2=\"\(fmt(frame.plotBottom + 5))\"/>\n"
            s += "<text x=\"\(fmt(tick.x))\" y=\"\(fmt(frame.plotBottom + 19))\" text-anchor=\"middle\">\(escape(tick.label))</text>\n"
        }
        s += "<text class=\"axis-title\" x=\"\(fmt((frame.plotLeft + frame.plotRight) / 2))\" y=\"\(fmt(frame.height - 10))\" text-anchor=\"middle\">\(escape(title))</text>\n"
        return s + "</g>\n"
    }

    /// The x scale of the per-height charts: block heights, integer ticks.
    private static func heightScale(_ heights: [Int], _ frame: Frame) -> LinearScale {
        LinearScale(domain: (Double(heights.min()!), Double(heights.max()!)), range: (frame.plotLeft, frame.plotRight),
                    includeZero: false, integer: true)
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
        let domain = (max(0, low - pad), high + pad)
        let labels = LinearScale.duration(domain: domain, range: (0, 1), includeZero: false)
        let frame = Frame(height: 300, yLabels: labels.ticks.map(labels.label))
        let y = LinearScale.duration(domain: domain, range: (frame.plotBottom, frame.plotTop), includeZero: false)

        // Builds are spaced evenly in date order (dates are often bunched), and
        // each is labelled with its name and date.
        let inset = 40.0
        let step = points.count > 1 ? (frame.plotWidth - 2 * inset) / Double(points.count - 1) : 0
        func x(_ i: Int) -> Double {
            points.count > 1 ? frame.plotLeft + inset + Double(i) * step : (frame.plotLeft + frame.plotRight) / 2
        }
        let widest = points.map { Self.textWidth(Self.truncate($0.label, 20)) }.max()!
        let every = Self.labelStride(labelWidth: max(widest, Self.textWidth("0000-00-00", size: 11)),
                                     slot: points.count > 1 ? step : .infinity)

        var s = Self.svgOpen(frame, "Median time per block for each build, over time")
        s += Self.yAxis(y, frame, title: "time per block (median)")
        s += "<g class=\"axis x\">\n"
        for (i, p) in points.enumerated() where i % every == 0 {
            let px = Self.fmt(x(i))
            s += "<line class=\"tick\" x1=\"\(px)\" y1=\"\(Self.fmt(frame.plotBottom))\" x2=\"\(px)\" y2=\"\(Self.fmt(frame.plotBottom + 5))\"/>\n"
            s += "<text x=\"\(px)\" y=\"\(Self.fmt(frame.plotBottom + 19))\" text-anchor=\"middle\">\(Self.escape(Self.truncate(p.label, 20)))</text>\n"
            s += "<text class=\"sub\" x=\"\(px)\" y=\"\(Self.fmt(frame.plotBottom + 34))\" text-anchor=\"middle\">\(Self.escape(Self.day(p.date)))</text>\n"
        }
        s += "</g>\n"
        if points.count > 1 {
            let line = points.indices.map { "\(Self.fmt(x($0))),\(Self.fmt(y.map(points[$0].medianMicros)))" }
            s += "<polyline class=\"trend\" points=\"\(line.joined(separator: " "))\"/>\n"
        }
        s += "<g class=\"builds\">\n"
        for (i, p) in points.enumerated() {
            let px = Self.fmt(x(i)), lo = Self.fmt(y.map(p.ciLowMicros)), hi = Self.fmt(y.map(p.ciHighMicros))
            let tooltip = "\(p.label) · \(Self.day(p.date)) · median \(DurationText.duration(p.medianMicros)) (CI \(DurationText.duration(p.ciLowMicros)) – \(DurationText.duration(p.ciHighMicros)))"
            s += "<g class=\"build\"><title>\(Self.escape(tooltip))</title>\n"
            s += "<line class=\"ci\" x1=\"\(px)\" y1=\"\(lo)\" x2=\"\(px)\" y2=\"\(hi)\"/>\n"
            s += "<line class=\"ci-cap\" x1=\"\(Self.fmt(x(i) - 6))\" y1=\"\(lo)\" x2=\"\(Self.fmt(x(i) + 6))\" y2=\"\(lo)\"/>\n"
            s += "<line class=\"ci-cap\" x1=\"\(Self.fmt(x(i) - 6))\" y1=\"\(hi)\" x2=\"\(Self.fmt(x(i) + 6))\" y2=\"\(hi)\"/>\n"
            s += "<circle class=\"point\" cx=\"\(px)\" cy=\"\(Self.fmt(y.map(p.medianMicros)))\" r=\"4.5\"/>\n"
            s += "</g>\n"
        }
        return s + "</g>\n</svg>\n"
    }

    /// One entry of a chart's key: a line in the style of `swatch` at (`x`,
    /// `y`), then `text` (cut at 90 characters, whole in its tooltip).
    private static func legendEntry(swatch: String, x: Double, y: Double, text: String) -> String {
        var s = "<line class=\"swatch \(swatch)\" x1=\"\(fmt(x))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x + 22))\" y2=\"\(fmt(y))\"/>\n"
        s += "<text x=\"\(fmt(x + 30))\" y=\"\(fmt(y + 4))\">"
        s += text.count > 90 ? "<title>\(escape(text))</title>\(escape(truncate(text, 90)))" : escape(text)
        return s + "</text>\n"
    }

    /// Both runs' durations, finite and ordered by height.
    private var heightSeries: [(name: String, cls: String, data: [HeightDuration])] {
        [(baselineName, "baseline", baselineDurations), (candidateName, "candidate", candidateDurations)].map { name, cls, data in
            (name, cls, data.filter(\.micros.isFinite).sorted { $0.height < $1.height })
        }
    }

    private func heightsChart() -> String {
        let series = heightSeries
        let all = series.flatMap(\.data)
        guard !all.isEmpty else { return Self.empty("per-height durations") }
        // Log scale: durations span orders of magnitude along a chain, and a
        // build several times slower must not flatten the other into the axis.
        let positive = all.map(\.micros).filter { $0 > 0 }
        let domain = (positive.min() ?? 1, max(positive.max() ?? 1, positive.min() ?? 1))
        let labels = LogScale.duration(domain: domain, range: (0, 1))
        // The legend sits above the plot, one row per run, so it hides no line.
        let legendRow = 18.0
        let frame = Frame(height: 360, top: 14 + legendRow * Double(series.count) + 10, yLabels: labels.ticks.map(labels.label))
        let y = LogScale.duration(domain: domain, range: (frame.plotBottom, frame.plotTop))
        let x = Self.heightScale(all.map(\.height), frame)

        var s = Self.svgOpen(frame, "Duration per height for \(baselineName) and \(candidateName), logarithmic scale")
        s += Self.yAxis(y, frame, title: "time to connect the block")
        s += Self.xTicks(x.ticks.map { (x.map($0), x.label($0)) }, frame, title: "block height")
        for (_, cls, data) in series where !data.isEmpty {
            let pts = data.map { "\(Self.fmt(x.map(Double($0.height)))),\(Self.fmt(y.map($0.micros)))" }
            s += "<polyline class=\"series \(cls)\" points=\"\(pts.joined(separator: " "))\"/>\n"
        }
        s += "<g class=\"legend\">\n"
        for (row, (name, cls, data)) in series.enumerated() {
            s += Self.legendEntry(swatch: cls, x: frame.plotLeft, y: 19 + legendRow * Double(row),
                                  text: "\(cls): \(name) · \(data.count) blocks")
        }
        return s + "</g>\n</svg>\n"
    }

    /// candidate / baseline at every height both runs measured with a positive duration.
    var ratios: [(height: Int, ratio: Double)] {
        let series = heightSeries
        var baseline: [Int: Double] = [:]
        for point in series[0].data where point.micros > 0 { baseline[point.height] = point.micros }
        return series[1].data.compactMap { point in
            guard point.micros > 0, let base = baseline[point.height] else { return nil }
            return (point.height, point.micros / base)
        }
    }

    private func ratioChart() -> String {
        let ratios = ratios
        guard !ratios.isEmpty else { return Self.empty("heights measured in both runs") }
        let values = ratios.map(\.ratio)
        let sorted = values.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let labels = LogScale.ratio(domain: (sorted.first!, sorted.last!), range: (0, 1))
        // The key sits above the plot, so that it covers no point.
        let frame = Frame(height: 300, top: 40, yLabels: labels.ticks.map(labels.label))
        let y = LogScale.ratio(domain: (sorted.first!, sorted.last!), range: (frame.plotBottom, frame.plotTop))
        let x = Self.heightScale(ratios.map(\.height), frame)

        var s = Self.svgOpen(frame, "Candidate time divided by baseline time at each height, logarithmic scale")
        s += Self.yAxis(y, frame, title: "candidate / baseline")
        s += Self.xTicks(x.ticks.map { (x.map($0), x.label($0)) }, frame, title: "block height")
        let one = Self.fmt(y.map(1)), my = Self.fmt(y.map(median))
        s += "<line class=\"reference\" x1=\"\(Self.fmt(frame.plotLeft))\" y1=\"\(one)\" x2=\"\(Self.fmt(frame.plotRight))\" y2=\"\(one)\"/>\n"
        s += "<g class=\"ratios\">\n"
        for point in ratios {
            s += "<circle class=\"ratio-point\" cx=\"\(Self.fmt(x.map(Double(point.height))))\" cy=\"\(Self.fmt(y.map(point.ratio)))\" r=\"2.2\"/>\n"
        }
        s += "</g>\n"
        s += "<line class=\"median\" x1=\"\(Self.fmt(frame.plotLeft))\" y1=\"\(my)\" x2=\"\(Self.fmt(frame.plotRight))\" y2=\"\(my)\"/>\n"
        let medianText = "median \(DurationText.ratio(median)) (\(Self.percent((median - 1) * 100)))"
        let lx = frame.plotLeft, ly = 19.0
        let second = lx + 30 + Self.textWidth(medianText) + 24
        s += "<g class=\"legend\">\n"
        s += Self.legendEntry(swatch: "median", x: lx, y: ly, text: medianText)
        s += Self.legendEntry(swatch: "reference", x: second, y: ly, text: "×1: no change")
        s += "</g>\n"
        return s + "</svg>\n"
    }

    private func histogramChart() -> String {
        guard !histogram.isEmpty else { return Self.empty("histogram buckets") }
        let maxCount = Double(histogram.map { max(0, $0.count) }.max()!)
        let yLabels = LinearScale(domain: (0, max(1, maxCount)), range: (0, 1), includeZero: true, integer: true)
        var frame = Frame(height: 320, yLabels: yLabels.ticks.map(yLabels.label))
        let slot = frame.plotWidth / Double(histogram.count)
        // Labels are never cut: set upright where they fit their bar's slot,
        // else slanted, with the bottom margin grown to hold the longest.
        let widest = histogram.map { Self.textWidth($0.label) }.max()!
        let slanted = widest + 8 > slot
        let angle = 40.0
        if slanted {
            let drop = widest * sin(angle * .pi / 180) + Self.fontSize * cos(angle * .pi / 180)
            frame.bottom = 14 + drop + 34
            frame.height += frame.bottom - 52
        }
        let every = slanted ? Self.labelStride(labelWidth: Self.fontSize * 1.2, slot: slot) : 1
        let y = LinearScale(domain: (0, max(1, maxCount)), range: (frame.plotBottom, frame.plotTop), includeZero: true, integer: true)
        let barWidth = max(1, slot * 0.82)

        var s = Self.svgOpen(frame, "Histogram of block durations")
        s += Self.yAxis(y, frame, title: "blocks")
        s += "<g class=\"bars\">\n"
        var ticks = "<g class=\"axis x\">\n"
        for (i, bucket) in histogram.enumerated() {
            let cx = frame.plotLeft + slot * (Double(i) + 0.5)
            let top = y.map(Double(max(0, bucket.count)))
            s += "<rect class=\"bar\" x=\"\(Self.fmt(cx - barWidth / 2))\" y=\"\(Self.fmt(top))\" width=\"\(Self.fmt(barWidth))\" height=\"\(Self.fmt(frame.plotBottom - top))\"><title>\(Self.escape("\(bucket.label): \(bucket.count) blocks"))</title></rect>\n"
            if histogram.count <= 24, bucket.count > 0 {
                s += "<text class=\"bar-value\" x=\"\(Self.fmt(cx))\" y=\"\(Self.fmt(top - 5))\" text-anchor=\"middle\">\(bucket.count)</text>\n"
            }
            guard i % every == 0 else { continue }
            ticks += "<line class=\"tick\" x1=\"\(Self.fmt(cx))\" y1=\"\(Self.fmt(frame.plotBottom))\" x2=\"\(Self.fmt(cx))\" y2=\"\(Self.fmt(frame.plotBottom + 5))\"/>\n"
            if slanted {
                let ty = frame.plotBottom + 14
                ticks += "<text class=\"bucket\" x=\"\(Self.fmt(cx + 4))\" y=\"\(Self.fmt(ty))\" text-anchor=\"end\" transform=\"rotate(-\(Self.fmt(angle)) \(Self.fmt(cx + 4)) \(Self.fmt(ty)))\">\(Self.escape(bucket.label))</text>\n"
            } else {
                ticks += "<text class=\"bucket\" x=\"\(Self.fmt(cx))\" y=\"\(Self.fmt(frame.plotBottom + 19))\" text-anchor=\"middle\">\(Self.escape(bucket.label))</text>\n"
            }
        }
        s += "</g>\n"
        ticks += "<text class=\"axis-title\" x=\"\(Self.fmt((frame.plotLeft + frame.plotRight) / 2))\" y=\"\(Self.fmt(frame.height - 10))\" text-anchor=\"middle\">time to connect a block</text>\n"
        s += ticks + "</g>\n"
        return s + "</svg>\n"
    }

    private func verdictTable() -> String {
        guard !verdicts.isEmpty else { return Self.empty("comparisons") }
        var s = """
            <div class="table-wrap">
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
            s += "<tr><td>\(Self.escape(row.scenario))</td><td>\(Self.keepingUnits(row.baseline))</td><td>\(Self.keepingUnits(row.candidate))</td>"
            s += "<td class=\"num\">\(Self.percent(row.effectPercent))</td>"
            s += "<td class=\"num ci\"><span>\(Self.percent(row.ciLowPercent))</span> to <span>\(Self.percent(row.ciHighPercent))</span></td>"
            s += "<td class=\"num\">\(Self.pValue(row.pValue))</td>"
            s += "<td><span class=\"verdict \(cls)\">\(Self.escape(row.verdict))</span></td></tr>\n"
        }
        return s + "</tbody>\n</table>\n</div>\n"
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

    /// `text` escaped, a number and its unit joined by a no-break space, so
    /// that a narrow column never puts `1.5` and `ms` on separate lines.
    static func keepingUnits(_ text: String) -> String {
        escape(text).replacing(#/(\d) (µs|ms|s)\b/#) { "\($0.output.1)\u{00A0}\($0.output.2)" }
    }

    /// A generous estimate of the width of `text` in pixels at `size` px in a sans-serif font.
    static func textWidth(_ text: String, size: Double = fontSize) -> Double {
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
        @media (max-width: 720px) { body { padding: 18px 14px 28px; } }
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
        svg .legend text { fill: var(--ink); }
        svg .swatch { stroke-width: 3; }
        svg .reference { stroke: #52606d; stroke-width: 1.2; }
        svg .ratio-point { fill: var(--cand); fill-opacity: 0.7; }
        svg .median { stroke: var(--cand); stroke-width: 1.4; stroke-dasharray: 6 4; }
        svg .bar { fill: var(--bar); }
        svg .bar-value { fill: var(--muted); font-size: 11px; }
        .table-wrap { overflow-x: auto; }
        table.verdicts { border-collapse: collapse; width: 100%; font-size: 14px; }
        table.verdicts th, table.verdicts td { padding: 7px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
        table.verdicts th { font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--rule); white-space: nowrap; }
        table.verdicts .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        table.verdicts .num.ci span { white-space: nowrap; }
        @media (max-width: 900px) { table.verdicts .num.ci { white-space: normal; } }
        table.verdicts tbody tr:nth-child(even) { background: #f8f9fb; }
        .verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }
        .verdict.regression { background: #fde2e1; color: #a61b1b; }
        .verdict.improvement { background: #dff4e4; color: #1d6b35; }
        .verdict.nochange { background: #eceff3; color: #52606d; }
        .verdict.other { background: #fff4d6; color: #7a5a00; }
        footer { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }

        """
}
