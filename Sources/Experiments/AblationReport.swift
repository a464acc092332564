import Foundation

/// `report.html`: per task, a bar chart per metric (mean over seeds, whiskers +- one standard
/// deviation) in the manner of Med-GLIP's Figures 6 and 7, and the tables as text.
public enum AblationReport {
    public static func html(_ sections: [(task: String, summary: AblationSummary)], notes: [String] = []) -> String {
        var body = "<h1>MedGLIP: what grounding adds</h1>\n"
        for note in notes { body += "<p>\(escape(note))</p>\n" }
        for (task, summary) in sections {
            body += "<h2>\(escape(task))</h2>\n<div class=\"charts\">\n"
            for metric in summary.metrics { body += chart(metric, summary) }
            body += "</div>\n<pre>\(escape(summary.table(title: task)))</pre>\n"
        }
        return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>MedGLIP ablation</title>
        <style>body{font-family:sans-serif;margin:2em} .charts{display:flex;flex-wrap:wrap;gap:1em} svg{border:1px solid #ddd}</style>
        </head><body>
        \(body)</body></html>

        """
    }

    /// One metric's bars, one per mode.
    static func chart(_ metric: String, _ summary: AblationSummary) -> String {
        let (width, height, margin) = (60 * summary.modes.count + 40, 200, 30)
        let cells = summary.modes.map { summary.cells[metric]?[$0] }
        let top = max(cells.compactMap { $0.map { $0.mean + $0.std } }.max() ?? 1, 1e-9)
        var svg = "<svg width=\"\(width)\" height=\"\(height + 2 * margin)\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"10\" y=\"18\" font-size=\"13\">\(escape(metric))</text>"
        for (i, (mode, cell)) in zip(summary.modes, cells).enumerated() {
            let x = 30 + i * 60
            svg += "<text x=\"\(x)\" y=\"\(height + margin + 18)\" font-size=\"11\">\(escape(mode))</text>"
            guard let cell else { continue }
            let h = Int(Double(height - 10) * cell.mean / top), y = margin + height - h
            let colour = mode == "none" ? "#999" : (mode == "oracle" ? "#6a9" : "#36c")
            svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"40\" height=\"\(h)\" fill=\"\(colour)\"/>"
            let spread = Int(Double(height - 10) * cell.std / top)
            svg += "<line x1=\"\(x + 20)\" y1=\"\(y - spread)\" x2=\"\(x + 20)\" y2=\"\(y + spread)\" stroke=\"#000\"/>"
            svg += "<text x=\"\(x)\" y=\"\(y - spread - 4)\" font-size=\"10\">\(String(format: "%.3f", cell.mean))</text>"
        }
        return svg + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
