import Foundation

/// The report's charts as inline SVG strings, drawn from plain values: no
/// script, font file or image, so the page stays one self-contained file.
enum ReportCharts {
    static let barColor = "#7aa6c2"
    static let highlightColor = "#d95f02"
    static let trainLossColor = "#e6873c"
    static let validationLossColor = "#3b6fb6"
    static let validationScoreColor = "#2f9e44"

    /// One horizontal bar per leaderboard row (best first), the best one highlighted.
    static func scoreBars(_ rows: [ReportData.Row], metricName: String, higherIsBetter: Bool) -> String {
        let labelWidth = Double(min(rows.map(\.subject.count).max() ?? 0, 40)) * 7 + 16
        let barWidth = 360.0, rowHeight = 22.0, top = 24.0
        var canvas = SVGCanvas(width: labelWidth + barWidth + 70, height: top + rowHeight * Double(rows.count) + 24)
        let scale = LinearScale(domain: scoreDomain(rows.map(\.oofScore)), range: (0, barWidth))
        canvas.text("OOF \(metricName) (\(higherIsBetter ? "higher" : "lower") is better; the axis starts at \(format(scale.domain.lower)))",
                    x: labelWidth, y: 14, size: 11, fill: "#555")
        for (index, row) in rows.enumerated() {
            let y = top + rowHeight * Double(index)
            let length = row.oofScore.isFinite ? max(scale(row.oofScore), 1) : 0
            let isBest = index == 0 && row.oofScore.isFinite
            canvas.text(row.subject, x: labelWidth - 8, y: y + 15, anchor: "end", size: 12, bold: isBest)
            canvas.rect(x: labelWidth, y: y + 3, width: length, height: rowHeight - 6,
                        fill: isBest ? highlightColor : barColor, title: "\(row.subject): \(ReportData.format(row.oofScore))")
            canvas.text(ReportData.format(row.oofScore) + (isBest ? " best" : ""), x: labelWidth + length + 6, y: y + 15, size: 11)
        }
        canvas.line(x1: labelWidth, y1: top, x2: labelWidth, y2: top + rowHeight * Double(rows.count), stroke: "#333")
        return canvas.svg(label: "OOF \(metricName) per prediction set, blend and stacker")
    }

    /// A small multiple for one task: losses per epoch above, validation score below.
    static func learningCurve(_ curve: ReportData.Curve, metricName: String) -> String {
        var canvas = SVGCanvas(width: 300, height: 250)
        canvas.text("\(curve.model) · seed \(curve.seed) · fold \(curve.fold)", x: 150, y: 14, anchor: "middle", size: 12, bold: true)
        let epochs = curve.epochs.map { Double($0.epoch) }
        let xDomain = (lower: epochs.min() ?? 0, upper: epochs.max() ?? 1)
        canvas.linePanel(frame: Frame(x: 44, y: 28, width: 240, height: 88), xDomain: xDomain, title: "loss", series: [
            Series(color: trainLossColor, points: curve.epochs.map { (Double($0.epoch), $0.trainLoss) }),
            Series(color: validationLossColor, points: curve.epochs.map { (Double($0.epoch), $0.validationLoss) }),
        ])
        canvas.linePanel(frame: Frame(x: 44, y: 140, width: 240, height: 88), xDomain: xDomain, title: "validation \(metricName)", series: [
            Series(color: validationScoreColor, points: curve.epochs.map { (Double($0.epoch), $0.validationScore) }),
        ])
        canvas.text("epoch", x: 164, y: 246, anchor: "middle", size: 10, fill: "#555")
        return canvas.svg(label: "learning curve of \(curve.model) seed \(curve.seed) fold \(curve.fold)")
    }

    /// One bar per base set a blend uses, on a 0…1 axis (or up to the largest weight).
    static func weightBars(_ blend: ReportData.BlendWeights) -> String {
        let labelWidth = Double(min(blend.weights.map(\.set.count).max() ?? 0, 40)) * 7 + 16
        let barWidth = 260.0, rowHeight = 20.0, top = 8.0
        var canvas = SVGCanvas(width: labelWidth + barWidth + 60, height: top + rowHeight * Double(blend.weights.count) + 8)
        let scale = LinearScale(domain: (0, max(1, blend.weights.map(\.weight).max() ?? 1)), range: (0, barWidth))
        for (index, entry) in blend.weights.enumerated() {
            let y = top + rowHeight * Double(index)
            let length = entry.weight.isFinite ? max(scale(entry.weight), 0) : 0
            canvas.text(entry.set, x: labelWidth - 8, y: y + 14, anchor: "end", size: 12)
            canvas.rect(x: labelWidth, y: y + 3, width: length, height: rowHeight - 6, fill: barColor,
                        title: "\(entry.set): \(String(format: "%.3f", entry.weight))")
            canvas.text(String(format: "%.3f", entry.weight), x: labelWidth + length + 6, y: y + 14, size: 11)
        }
        return canvas.svg(label: "weights of \(blend.subject)")
    }

    /// Cells shaded by the share of the true class's rows, each with its count.
    static func confusionHeatMap(_ matrix: ConfusionMatrix) -> String {
        let K = matrix.classNames.count
        let cell = max(16, min(40, 480 / Double(max(K, 1))))
        let labelWidth = Double(min(matrix.classNames.map(\.count).max() ?? 0, 24)) * 7 + 14
        let left = labelWidth + 16, top = 40.0
        var canvas = SVGCanvas(width: left + cell * Double(K) + 10, height: top + cell * Double(K) + 10)
        canvas.text("predicted class →", x: left + cell * Double(K) / 2, y: 12, anchor: "middle", size: 11, fill: "#555")
        canvas.text("true ↓", x: 4, y: top - 6, size: 11, fill: "#555")
        for (k, name) in matrix.classNames.enumerated() {
            canvas.text(name, x: left + cell * (Double(k) + 0.5), y: top - 6, anchor: "middle", size: 11)
            canvas.text(name, x: left - 6, y: top + cell * (Double(k) + 0.5) + 4, anchor: "end", size: 11)
        }
        for (truth, counts) in matrix.counts.enumerated() {
            let rowTotal = max(counts.reduce(0, +), 1)
            for (predicted, count) in counts.enumerated() {
                let share = Double(count) / Double(rowTotal)
                let x = left + cell * Double(predicted), y = top + cell * Double(truth)
                canvas.rect(x: x, y: y, width: cell, height: cell, fill: heatColor(share), stroke: "#fff",
                            title: "true \(matrix.classNames[truth]), predicted \(matrix.classNames[predicted]): \(count)")
                canvas.text(String(count), x: x + cell / 2, y: y + cell / 2 + 4, anchor: "middle", size: min(12, cell * 0.4),
                            fill: share > 0.5 ? "#fff" : "#222")
            }
        }
        return canvas.svg(label: "confusion matrix")
    }

    /// From near-white to dark blue as `share` goes from 0 to 1.
    static func heatColor(_ share: Double) -> String {
        let t = min(max(share, 0), 1)
        let channel = { (from: Double, to: Double) in Int((from + (to - from) * t).rounded()) }
        return "rgb(\(channel(247, 8)),\(channel(251, 48)),\(channel(255, 107)))"
    }

    /// A bar axis that starts a little below the worst finite score (at zero
    /// when that would cross it, or when every score is the same), so close
    /// scores still differ visibly.
    static func scoreDomain(_ values: [Double]) -> (lower: Double, upper: Double) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return (0, 1) }
        if low == high && low > 0 { return (0, high) }
        let padding = max((high - low) * 0.25, abs(high) * 0.02, 1e-6)
        let lower = low >= 0 && low - padding < 0 ? 0 : low - padding
        return (lower, high)
    }

    static func format(_ value: Double) -> String { String(format: "%.4g", value) }
}

struct Frame {
    var x, y, width, height: Double
}

/// One line of a panel; nil and non-finite values are left out.
struct Series {
    var color: String
    var points: [(x: Double, y: Double?)]
}

/// Maps a domain linearly onto a range; an empty domain maps to the range's middle.
struct LinearScale {
    var domain: (lower: Double, upper: Double)
    var range: (start: Double, end: Double)

    func callAsFunction(_ value: Double) -> Double {
        let span = domain.upper - domain.lower
        guard span > 0 else { return (range.start + range.end) / 2 }
        return range.start + (value - domain.lower) / span * (range.end - range.start)
    }
}

extension SVGCanvas {
    /// Axes, the lowest and highest value at their heights, the first and last epoch below, and each series as a line with dots.
    mutating func linePanel(frame: Frame, xDomain: (lower: Double, upper: Double), title: String, series: [Series]) {
        let values = series.flatMap { $0.points.compactMap(\.y) }.filter(\.isFinite)
        let low = values.min() ?? 0, high = values.max() ?? 1
        let padding = high > low ? (high - low) * 0.08 : max(abs(high) * 0.05, 1e-3)
        let y = LinearScale(domain: (low - padding, high + padding), range: (frame.y + frame.height, frame.y))
        let x = LinearScale(domain: xDomain, range: (frame.x, frame.x + frame.width))
        text(title, x: frame.x, y: frame.y - 3, size: 10, fill: "#555")
        line(x1: frame.x, y1: frame.y, x2: frame.x, y2: frame.y + frame.height, stroke: "#999")
        line(x1: frame.x, y1: frame.y + frame.height, x2: frame.x + frame.width, y2: frame.y + frame.height, stroke: "#999")
        if !values.isEmpty {
            text(ReportCharts.format(high), x: frame.x - 4, y: y(high) + 3, anchor: "end", size: 9, fill: "#555")
            if low < high {
                text(ReportCharts.format(low), x: frame.x - 4, y: y(low) + 3, anchor: "end", size: 9, fill: "#555")
            }
        } else {
            text("no values", x: frame.x + frame.width / 2, y: frame.y + frame.height / 2, anchor: "middle", size: 10, fill: "#999")
        }
        text(ReportCharts.format(xDomain.lower), x: frame.x, y: frame.y + frame.height + 12, anchor: "middle", size: 9, fill: "#555")
        if xDomain.upper > xDomain.lower {
            text(ReportCharts.format(xDomain.upper), x: frame.x + frame.width, y: frame.y + frame.height + 12,
                 anchor: "middle", size: 9, fill: "#555")
        }
        for line in series {
            let points = line.points.compactMap { point in point.y.flatMap { $0.isFinite ? (x(point.x), y($0)) : nil } }
            polyline(points, stroke: line.color)
            for point in points { circle(x: point.0, y: point.1, radius: 2.5, fill: line.color) }
        }
    }
}
