import ArgumentParser
import Foundation
import Metrics

/// `medglip score coco`: COCO bbox AP/AR as pycocotools' COCOeval (iouType 'bbox') reports them, plus
/// per-category AP. Reference: pycocotools/cocoeval.py; see Sources/Metrics/COCOEval.swift.
struct ScoreCOCO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coco",
        abstract: "COCO bbox AP/AR, identical to pycocotools' COCOeval (summarize's 12 numbers and per-category AP).")

    @Option(help: "COCO ground-truth file (images, annotations with bbox/area/iscrowd, categories).")
    var gt: String

    @Option(help: "COCO results file: a list of {image_id, category_id, bbox, score}.")
    var dt: String

    @Flag(help: "Print one JSON object instead of pycocotools' summary lines.")
    var json = false

    @Option(help: "Threads (categories are evaluated in parallel; default: all cores). The result does not depend on it.")
    var threads: Int?

    func run() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        let inputs = try COCOEvalInputs.load(groundTruth: URL(fileURLWithPath: gt), detections: URL(fileURLWithPath: dt))
        for warning in inputs.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let result = COCOEval.evaluate(inputs.groundTruth, inputs.detections, threads: threads)
        print(json ? Self.json(result) : Self.table(result))
    }

    /// Keys AP ... ARl, then per_category and per_category_ap50 mapping name -> AP and AP50 (a name
    /// shared by several ids gets " (id N)").
    static func json(_ result: COCOEvalResult) -> String {
        let counts = Dictionary(result.perCategory.map { ($0.name, 1) }, uniquingKeysWith: +)
        let stats = zip(COCOEvalResult.statNames, result.stats).map { "\"\($0)\": \($1)" }
        func perCategory(_ value: KeyPath<COCOEvalResult.CategoryAP, Double>) -> String {
            "{"
                + result.perCategory.map { c in "\(jsonString(counts[c.name]! > 1 ? "\(c.name) (id \(c.id))" : c.name)): \(c[keyPath: value])" }
                .joined(separator: ", ") + "}"
        }
        return "{" + (stats + ["\"per_category\": " + perCategory(\.ap), "\"per_category_ap50\": " + perCategory(\.ap50)]).joined(separator: ", ")
            + "}"
    }

    /// pycocotools' summary lines (same layout and rounding), then per-category AP and AP50.
    static func table(_ result: COCOEvalResult) -> String {
        let rows: [(ap: Bool, iou: String, area: String, maxDets: Int)] = [
            (true, "0.50:0.95", "all", 100), (true, "0.50", "all", 100), (true, "0.75", "all", 100),
            (true, "0.50:0.95", "small", 100), (true, "0.50:0.95", "medium", 100), (true, "0.50:0.95", "large", 100),
            (false, "0.50:0.95", "all", 1), (false, "0.50:0.95", "all", 10), (false, "0.50:0.95", "all", 100),
            (false, "0.50:0.95", "small", 100), (false, "0.50:0.95", "medium", 100), (false, "0.50:0.95", "large", 100)
        ]
        var lines = zip(rows, result.stats).map { row, value in
            let title = row.ap ? "Average Precision  (AP)" : "Average Recall     (AR)"
            let iou = row.iou.padding(toLength: 9, withPad: " ", startingAt: 0)
            let area = String(repeating: " ", count: max(0, 6 - row.area.count)) + row.area
            return " \(title) @[ IoU=\(iou) | area=\(area) | maxDets=\(String(format: "%3d", row.maxDets)) ] = \(String(format: "%0.3f", value))"
        }
        lines.append("")
        let width = max(8, result.perCategory.map(\.name.count).max() ?? 0)
        lines.append("category".padding(toLength: width, withPad: " ", startingAt: 0) + "       AP     AP50")
        for c in result.perCategory {
            lines.append(c.name.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %7.3f  %7.3f", c.ap, c.ap50))
        }
        return lines.joined(separator: "\n")
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out += u.value < 0x20 ? String(format: "\\u%04x", u.value) : String(u)
            }
        }
        return out + "\""
    }
}
