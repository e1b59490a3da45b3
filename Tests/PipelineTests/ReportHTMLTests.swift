import XCTest
@testable import Pipeline

final class ReportHTMLTests: XCTestCase {
    static func fullReport(model: String = "resnet") -> ReportData {
        var data = ReportTests.sample()
        data.rows.append(ReportData.Row(subject: "\(model)/last", kind: .base, oofScore: 0.5))
        let epochs = (1...3).map { ReportData.EpochPoint(epoch: $0, trainLoss: 1 / Double($0), validationLoss: 1.2 / Double($0),
                                                         validationScore: 0.5 + 0.1 * Double($0)) }
        data.curves = [ReportData.Curve(model: model, seed: 0, fold: 0, epochs: epochs),
                       ReportData.Curve(model: model, seed: 0, fold: 1, epochs: epochs),
                       ReportData.Curve(model: "other", seed: 1, fold: 0, epochs: epochs)]
        data.blendWeights = [ReportData.BlendWeights(subject: "blend/weights", weights: [.init(set: "\(model)/last", weight: 0.6),
                                                                                         .init(set: "resnet/swa", weight: 0.4)]),
                             ReportData.BlendWeights(subject: "blend/hillclimb", weights: [.init(set: "resnet/swa", weight: 1)])]
        data.confusion = ConfusionMatrix(classNames: ["cat", "dog"], counts: [[3, 1], [0, 4]])
        return data
    }

    func count(_ fragment: String, in text: String) -> Int { text.components(separatedBy: fragment).count - 1 }

    func testOneSVGPerChartAndEverySubjectIsNamed() {
        let data = Self.fullReport()
        let html = ReportHTML.render(data)
        // Scores, three learning curves, two blends, the confusion matrix.
        XCTAssertEqual(count("<svg", in: html), 1 + 3 + 2 + 1)
        XCTAssertEqual(count("</svg>", in: html), 7)
        for row in data.rows { XCTAssertTrue(html.contains("<td>\(row.subject)</td>"), row.subject) }
        XCTAssertTrue(html.contains("8 OOF rows"), html)
        XCTAssertTrue(html.contains("<tr class=\"final\"><td class=\"number\">1</td><td>blend/mean</td>"), html)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.hasSuffix("</html>\n"))
    }

    func testThePageLoadsNothingFromOutside() {
        let html = ReportHTML.render(Self.fullReport()).lowercased()
        for external in ["<script", "http:", "https:", "src=", "url(", "<link", "@import"] {
            XCTAssertFalse(html.contains(external), external)
        }
    }

    func testEveryNameIsEscaped() {
        let hostile = "a<b>&\"c"
        var data = Self.fullReport(model: hostile)
        data.experimentName = "<script>x</script>"
        data.confusion = ConfusionMatrix(classNames: ["<i>", "&"], counts: [[1, 0], [0, 1]])
        let html = ReportHTML.render(data)
        XCTAssertFalse(html.contains(hostile))
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertFalse(html.contains("<i>"))
        XCTAssertTrue(html.contains("a&lt;b&gt;&amp;&quot;c/last"))
        XCTAssertTrue(html.contains("&lt;script&gt;x&lt;/script&gt;"))
        XCTAssertTrue(html.contains(">&lt;i&gt;</text>"))
    }

    func testMissingPartsSayWhatIsMissingAndDrawOnlyTheScores() {
        let html = ReportHTML.render(ReportTests.sample())
        XCTAssertEqual(count("<svg", in: html), 1)
        XCTAssertTrue(html.contains("No epoch metrics are stored."))
        XCTAssertTrue(html.contains("No blend recorded weights."))
        XCTAssertTrue(html.contains("No OOF predictions of blend/mean are stored."))
        let empty = ReportHTML.render(ReportData(experimentName: "x", metricName: "accuracy", higherIsBetter: true, rows: []))
        XCTAssertEqual(count("<svg", in: empty), 0)
        XCTAssertTrue(empty.contains("Nothing is scored yet."))
    }
}
