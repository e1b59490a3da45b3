import Foundation

/// The CV report as one self-contained HTML page: inline CSS and inline SVG,
/// no script, web font or image, so it opens anywhere and can be mailed as is.
/// Charts: OOF score per subject, learning curves per (model, seed, fold),
/// each blend's weights, and the final ensemble's confusion matrix.
public enum ReportHTML {
    public static func render(_ data: ReportData) -> String {
        let title = "Foldwise report: \(data.experimentName)"
        let sections = [summary(data), leaderboard(data), learningCurves(data), blendWeights(data), confusion(data)]
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escape(title))</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>\(HTMLText.escape(title))</h1>
            \(sections.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
        h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
        table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .8em;border-bottom:1px solid #eee;text-align:left}
        td.number,th.number{text-align:right;font-variant-numeric:tabular-nums}tr.final td{font-weight:bold;background:#fff4e6}
        .grid{display:flex;flex-wrap:wrap;gap:.5em}.grid svg{border:1px solid #eee}svg text{font-family:inherit}
        .legend span{display:inline-block;margin-right:1.2em}.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
        .note{color:#666}
        """

    static func summary(_ data: ReportData) -> String {
        let direction = data.higherIsBetter ? "higher is better" : "lower is better"
        var text = "Metric: OOF \(data.metricName) (\(direction))."
        if let final = data.finalSubject {
            let score = data.rows.first { $0.subject == final }.map { " with OOF \(ReportData.format($0.oofScore))" } ?? ""
            let source = data.finalChoice == nil ? "best by OOF score" : "the submission's choice"
            text += " Final ensemble: \(final)\(score) (\(source))."
        }
        return "<p>\(HTMLText.escape(text))</p>"
    }

    static func leaderboard(_ data: ReportData) -> String {
        let rows = data.leaderboard
        guard !rows.isEmpty else { return "<h2>Leaderboard</h2>\n<p class=\"note\">Nothing is scored yet.</p>" }
        let metric = HTMLText.escape(data.metricName)
        let (foldMeans, inSample) = (data.showsFoldMeans, data.showsInSample)
        let number = { (value: Double?) in "<td class=\"number\">\(value.map(ReportData.format) ?? "–")</td>" }
        var lines = ["<h2>Leaderboard</h2>", "<table>",
                     "<tr><th class=\"number\">#</th><th>subject</th><th>kind</th><th class=\"number\">OOF \(metric)</th>"
                     + (foldMeans ? "<th class=\"number\">mean per fold</th>" : "")
                     + (inSample ? "<th class=\"number\">in-sample</th>" : "")
                     + "<th class=\"number\">test \(metric)</th></tr>"]
        for (index, row) in rows.enumerated() {
            let rowClass = row.subject == data.finalSubject ? " class=\"final\"" : ""
            lines.append("<tr\(rowClass)><td class=\"number\">\(index + 1)</td><td>\(HTMLText.escape(row.subject))</td>"
                         + "<td>\(row.kind.name)</td>" + number(row.oofScore)
                         + (foldMeans ? number(row.foldMeanScore) : "") + (inSample ? number(row.inSampleScore) : "")
                         + number(row.testScore) + "</tr>")
        }
        lines.append("</table>")
        if inSample {
            lines.append("<p class=\"note\">OOF scores of fitted blends and stackers are nested (fitted on the other folds); "
                         + "in-sample scores fit and score the same rows, are optimistic and never choose the submission.</p>")
        }
        lines.append(ReportCharts.scoreBars(rows, metricName: data.metricName, higherIsBetter: data.higherIsBetter))
        return lines.joined(separator: "\n")
    }

    static func learningCurves(_ data: ReportData) -> String {
        guard !data.curves.isEmpty else { return "<h2>Learning curves</h2>\n<p class=\"note\">No epoch metrics are stored.</p>" }
        let legend = [("train loss", ReportCharts.trainLossColor), ("validation loss", ReportCharts.validationLossColor),
                      ("validation \(data.metricName)", ReportCharts.validationScoreColor)]
            .map { "<span><span class=\"swatch\" style=\"background:\($0.1)\"></span>\(HTMLText.escape($0.0))</span>" }
            .joined()
        var lines = ["<h2>Learning curves</h2>", "<p class=\"legend\">\(legend)</p>"]
        var models: [String] = []
        for curve in data.curves where !models.contains(curve.model) { models.append(curve.model) }
        for model in models {
            lines.append("<h3>\(HTMLText.escape(model))</h3>")
            lines.append("<div class=\"grid\">")
            lines += data.curves.filter { $0.model == model }.map { ReportCharts.learningCurve($0, metricName: data.metricName) }
            lines.append("</div>")
        }
        return lines.joined(separator: "\n")
    }

    static func blendWeights(_ data: ReportData) -> String {
        guard !data.blendWeights.isEmpty else { return "<h2>Blend weights</h2>\n<p class=\"note\">No blend recorded weights.</p>" }
        var lines = ["<h2>Blend weights</h2>"]
        for blend in data.blendWeights {
            let score = data.rows.first { $0.subject == blend.subject }.map { " — OOF \(ReportData.format($0.oofScore))" } ?? ""
            lines.append("<h3>\(HTMLText.escape(blend.subject + score))</h3>")
            lines.append(ReportCharts.weightBars(blend))
        }
        return lines.joined(separator: "\n")
    }

    static func confusion(_ data: ReportData) -> String {
        let heading = "<h2>Confusion matrix of the final ensemble</h2>"
        guard let matrix = data.confusion else {
            let subject = data.finalSubject.map { " of \($0)" } ?? ""
            return heading + "\n<p class=\"note\">\(HTMLText.escape("No OOF predictions\(subject) are stored."))</p>"
        }
        let caption = "\(data.finalSubject ?? "the final ensemble") over \(matrix.total) OOF rows; rows are the true class, "
            + "columns the predicted class, shading the share of the true class's rows."
        return [heading, "<p>\(HTMLText.escape(caption))</p>", ReportCharts.confusionHeatMap(matrix)].joined(separator: "\n")
    }
}
