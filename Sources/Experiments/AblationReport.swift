import Foundation

/// One task's part of the report: the ablation summary, how good the injected boxes were on that
/// task's test images (AP / AP50 per source, when the corpus has boxes to compare with), and
/// example cases.
public struct ReportSection: Sendable {
    public var task: String
    public var summary: AblationSummary
    /// (row name, AP, AP50), e.g. ("grounder on the test images", 0.41, 0.62).
    public var grounding: [(String, Double, Double)]
    /// The grounder's hints on the validation images per score threshold, and the threshold the runs used.
    public var hints: HintTable?
    public var gallery: [GalleryCase]

    public init(
        task: String, summary: AblationSummary, grounding: [(String, Double, Double)] = [], hints: HintTable? = nil, gallery: [GalleryCase] = []
    ) {
        self.task = task; self.summary = summary; self.grounding = grounding; self.hints = hints; self.gallery = gallery
    }
}

/// Precision and recall of a grounder's finding boxes per score threshold, on validation images.
public struct HintTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var threshold: Double, precision: Double, recall: Double
        public init(threshold: Double, precision: Double, recall: Double) {
            self.threshold = threshold; self.precision = precision; self.recall = recall
        }
    }
    public var rows: [Row]
    public var used: Double
    /// How a detection was judged right, for the caption.
    public var rule: String

    public init(rows: [Row], used: Double, rule: String) { self.rows = rows; self.used = used; self.rule = rule }

    public var text: String {
        (["threshold  precision  recall"]
            + rows.map {
                String(format: "%-9.2f  %-9.3f  %.3f", $0.threshold, $0.precision, $0.recall) + (abs($0.threshold - used) < 1e-6 ? "  <- used" : "")
            }).joined(separator: "\n")
    }
}

/// One example for people to look at: an image (path relative to the report) with the injected
/// boxes drawn, and labelled lines (hint, reference, each mode's output).
public struct GalleryCase: Sendable, Equatable {
    public var title: String
    public var image: String
    public var lines: [(label: String, text: String)]

    public init(title: String, image: String, lines: [(label: String, text: String)]) { self.title = title; self.image = image; self.lines = lines }

    public static func == (a: GalleryCase, b: GalleryCase) -> Bool {
        a.title == b.title && a.image == b.image && a.lines.map(\.label) == b.lines.map(\.label) && a.lines.map(\.text) == b.lines.map(\.text)
    }
}

/// `report.html`: per task, a bar chart per metric (mean over seeds, whiskers +- one standard
/// deviation) in the manner of Med-GLIP's Figures 6 and 7, the table as text, the grounding
/// table and a gallery.
public enum AblationReport {
    public static func html(_ sections: [ReportSection], notes: [String] = []) -> String {
        var body = "<h1>MedGLIP: what grounding adds</h1>\n"
        for note in notes { body += "<p>\(escape(note))</p>\n" }
        for section in sections {
            body += "<h2>\(escape(section.task))</h2>\n<div class=\"charts\">\n"
            for metric in section.summary.metrics { body += chart(metric, section.summary) }
            body += "</div>\n<pre>\(escape(section.summary.table(title: section.task)))</pre>\n"
            if !section.grounding.isEmpty {
                body +=
                    "<h3>Injected boxes against the corpus's own boxes (test images, COCO "
                    + "AP)</h3>\n<table><tr><th>source</th><th>AP</th><th>AP50</th></tr>\n"
                for (name, ap, ap50) in section.grounding {
                    body += "<tr><td>\(escape(name))</td><td>\(String(format: "%.3f", ap))</td><td>\(String(format: "%.3f", ap50))</td></tr>\n"
                }
                body += "</table>\n"
            }
            if let hints = section.hints {
                body += "<h3>Hints from the grounder on the validation images (\(escape(hints.rule)))</h3>\n<pre>\(escape(hints.text))</pre>\n"
            }
            if !section.gallery.isEmpty {
                body += "<h3>Gallery (test split, seed 0)</h3>\n<div class=\"gallery\">\n"
                for c in section.gallery {
                    body += "<figure><img src=\"\(escape(c.image))\" width=\"256\"><figcaption><b>\(escape(c.title))</b>"
                    for line in c.lines { body += "<br><i>\(escape(line.label))</i>: \(escape(line.text))" }
                    body += "</figcaption></figure>\n"
                }
                body += "</div>\n"
            }
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>MedGLIP ablation</title>
            <style>body{font-family:sans-serif;margin:2em} .charts{display:flex;flex-wrap:wrap;gap:1em} svg{border:1px solid #ddd}
            .gallery{display:flex;flex-wrap:wrap;gap:1em} figure{width:420px;margin:0} figcaption{font-size:12px} td,th{padding:2px 10px}</style>
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
