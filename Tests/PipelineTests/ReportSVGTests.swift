import XCTest
@testable import Pipeline

final class ReportSVGTests: XCTestCase {
    func testEscapeReplacesTheFiveSpecialCharacters() {
        XCTAssertEqual(HTMLText.escape(#"<a href="x">Tom & 'Jerry'</a>"#),
                       "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
        XCTAssertEqual(HTMLText.escape("plain ✓"), "plain ✓")
    }

    func testCanvasEscapesTextAndTitlesAndWritesOneSVGElement() {
        var canvas = SVGCanvas(width: 100, height: 50)
        canvas.text("a<b", x: 1, y: 2.25)
        canvas.rect(x: 0, y: 0, width: 10, height: 5, fill: "#fff", title: "x&y")
        canvas.polyline([(0, 0)], stroke: "#000")
        canvas.polyline([(0, 0), (1.04, 2)], stroke: "#000")
        let svg = canvas.svg(label: "\"chart\"")
        XCTAssertEqual(svg.components(separatedBy: "<svg").count - 1, 1)
        XCTAssertTrue(svg.contains(">a&lt;b</text>"), svg)
        XCTAssertTrue(svg.contains("<title>x&amp;y</title>"), svg)
        XCTAssertTrue(svg.contains("aria-label=\"&quot;chart&quot;\""), svg)
        XCTAssertTrue(svg.contains("y=\"2.2\"") || svg.contains("y=\"2.3\""), svg)
        // A one-point polyline draws nothing; the two-point one is there once.
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 1)
        XCTAssertTrue(svg.contains("points=\"0.0,0.0 1.0,2.0\""), svg)
    }
}
