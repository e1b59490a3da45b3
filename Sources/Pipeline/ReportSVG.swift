import Foundation

/// Collects SVG elements in drawing order; every text and attribute value
/// goes through `HTMLText.escape`, so a model or class name cannot break the page.
struct SVGCanvas {
    let width: Double
    let height: Double
    private(set) var elements: [String] = []

    init(width: Double, height: Double) { (self.width, self.height) = (width, height) }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil, title: String? = nil) {
        let strokeAttribute = stroke.map { " stroke=\"\(HTMLText.escape($0))\"" } ?? ""
        let opening = "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(width))\" height=\"\(number(height))\" "
            + "fill=\"\(HTMLText.escape(fill))\"\(strokeAttribute)"
        elements.append(title.map { opening + "><title>\(HTMLText.escape($0))</title></rect>" } ?? opening + "/>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String) {
        elements.append("<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" "
                        + "stroke=\"\(HTMLText.escape(stroke))\"/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String) {
        guard points.count > 1 else { return }
        let coordinates = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(HTMLText.escape(stroke))\" stroke-width=\"1.5\"/>")
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String) {
        elements.append("<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"\(number(radius))\" fill=\"\(HTMLText.escape(fill))\"/>")
    }

    mutating func text(_ content: String, x: Double, y: Double, anchor: String = "start", size: Double = 12,
                       fill: String = "#222", bold: Bool = false) {
        elements.append("<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" font-size=\"\(number(size))\" "
                        + "fill=\"\(HTMLText.escape(fill))\"\(bold ? " font-weight=\"bold\"" : "")>\(HTMLText.escape(content))</text>")
    }

    /// The finished element; `label` is read by screen readers.
    func svg(label: String) -> String {
        "<svg viewBox=\"0 0 \(number(width)) \(number(height))\" width=\"\(number(width))\" height=\"\(number(height))\" "
            + "role=\"img\" aria-label=\"\(HTMLText.escape(label))\">\n" + elements.joined(separator: "\n") + "\n</svg>"
    }

    /// Coordinates to a tenth of a pixel, with a point whatever the locale.
    private func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : "0"
    }
}

enum HTMLText {
    /// Escapes the five characters that are special in HTML text and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
