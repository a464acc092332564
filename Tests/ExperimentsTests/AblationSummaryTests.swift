import XCTest

@testable import Experiments

final class AblationSummaryTests: XCTestCase {
    let results = [
        AblationResult(mode: "none", seed: 0, metrics: ["BLEU_4": 0.10, "CE": 0.2]),
        AblationResult(mode: "none", seed: 1, metrics: ["BLEU_4": 0.20, "CE": 0.4]),
        AblationResult(mode: "both", seed: 0, metrics: ["BLEU_4": 0.30, "CE": 0.5]),
        AblationResult(mode: "both", seed: 1, metrics: ["BLEU_4": 0.40])
    ]

    func testMeansSampleStdAndDeltas() {
        let s = AblationSummary(results, modes: ["none", "both"], metrics: ["BLEU_4", "CE"])
        XCTAssertEqual(s.cells["BLEU_4"]!["none"]!.mean, 0.15, accuracy: 1e-12)
        // Sample standard deviation of 0.1 and 0.2: sqrt(0.005).
        XCTAssertEqual(s.cells["BLEU_4"]!["none"]!.std, 0.0707106781, accuracy: 1e-9)
        XCTAssertEqual(s.delta("BLEU_4", "both")!, 0.2, accuracy: 1e-12)
        XCTAssertEqual(s.cells["CE"]!["both"]!, AblationSummary.Cell(mean: 0.5, std: 0, seeds: 1))
        XCTAssertEqual(s.delta("CE", "both")!, 0.2, accuracy: 1e-12)
        let table = s.table(title: "t")
        XCTAssertTrue(table.contains("0.3500 +- 0.0707 (+0.2000)"), table)
        // Columns stay apart when a cell with a delta (26 characters) has another column after it.
        let wide = AblationSummary(
            results + [AblationResult(mode: "oracle", seed: 0, metrics: ["BLEU_4": 0.5])], modes: ["none", "both", "oracle"], metrics: ["BLEU_4"])
        let row = wide.table(title: "t").split(separator: "\n").first { $0.hasPrefix("BLEU_4") }!
        XCTAssertEqual(row.split(separator: " ", omittingEmptySubsequences: true).count, 1 + 3 + 4 + 4, String(row))
    }

    func testReportHasOneChartPerMetricAndEscapes() {
        let s = AblationSummary(results, modes: ["none", "both"], metrics: ["BLEU_4", "CE"])
        let html = AblationReport.html([ReportSection(task: "R2Gen <test>", summary: s)])
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2)
        XCTAssertTrue(html.contains("R2Gen &lt;test&gt;"))
        XCTAssertTrue(html.contains(">0.350<"), "mean label of the 'both' bar")
    }

    func testHintTableMarksTheThresholdUsed() {
        let table = HintTable(
            rows: [.init(threshold: 0.3, precision: 0.31, recall: 0.72), .init(threshold: 0.45, precision: 0.81, recall: 0.62)],
            used: 0.45, rule: "same phrase")
        let lines = table.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertFalse(lines[1].contains("used"))
        XCTAssertTrue(lines[2].hasPrefix("0.45") && lines[2].contains("0.810") && lines[2].hasSuffix("<- used"), lines[2])
        let html = AblationReport.html([
            ReportSection(task: "R2Gen", summary: AblationSummary(results, modes: ["none"], metrics: ["CE"]), hints: table)
        ])
        XCTAssertTrue(html.contains("Hints from the grounder") && html.contains("0.620  &lt;- used"))
    }
}
