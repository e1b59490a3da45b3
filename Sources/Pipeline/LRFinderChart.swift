import Foundation

/// The learning-rate range test's curve as a self-contained SVG: smoothed loss
/// against log10(lr), with the suggested learning rate marked.
public enum LRFinderChart {
    /// `points` are (lr, smoothed loss) in sweep order.
    public static func svg(points: [(lr: Double, loss: Double)], suggestion: Double?, title: String) -> String {
        var canvas = SVGCanvas(width: 560, height: 340)
        canvas.text(title, x: 280, y: 18, anchor: "middle", size: 13, bold: true)
        let frame = Frame(x: 60, y: 44, width: 470, height: 240)
        let xs = points.map { log10($0.lr) }
        let xDomain = (lower: xs.min() ?? -7, upper: xs.max() ?? 1)
        canvas.linePanel(frame: frame, xDomain: xDomain, title: "smoothed training loss",
                         series: [Series(color: ReportCharts.validationLossColor, points: zip(xs, points).map { ($0, $1.loss) })])
        if let suggestion {
            let x = LinearScale(domain: xDomain, range: (frame.x, frame.x + frame.width))(log10(suggestion))
            canvas.line(x1: x, y1: frame.y, x2: x, y2: frame.y + frame.height, stroke: ReportCharts.highlightColor)
            canvas.text("suggested lr " + ReportCharts.format(suggestion), x: x + 4, y: frame.y + 12, size: 11,
                        fill: ReportCharts.highlightColor)
        }
        canvas.text("log10(learning rate)", x: frame.x + frame.width / 2, y: frame.y + frame.height + 30, anchor: "middle",
                    size: 11, fill: "#555")
        return canvas.svg(label: title)
    }
}
