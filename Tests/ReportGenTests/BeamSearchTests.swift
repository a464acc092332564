import Foundation
import XCTest

@testable import ReportGen

/// A decoder whose next-token probabilities are a table keyed by the prefix; tokens: 0 end, 1 A, 2 B.
/// With several tables, rows are split evenly between them in order (input b uses table b).
struct TableDecoder: StepDecoder {
    let tables: [[[Int]: [Float]]]
    var prefixes: [[Int]]
    var tableOfRow: [Int]
    var vocabularySize: Int { 3 }
    private(set) var steps = 0

    init(rows: Int, tables: [[[Int]: [Float]]]) {
        self.tables = tables
        prefixes = Array(repeating: [], count: rows)
        tableOfRow = (0..<rows).map { $0 * tables.count / rows }
    }

    mutating func step(_ tokens: [Int]) -> [Float] {
        if steps > 0 { for i in prefixes.indices { prefixes[i].append(tokens[i]) } }
        steps += 1
        return prefixes.indices.flatMap { r in (tables[tableOfRow[r]][prefixes[r]] ?? [1, 0, 0]).map { Foundation.log(max($0, 1e-30)) } }
    }

    mutating func reorder(_ rows: [Int]) {
        prefixes = rows.map { prefixes[$0] }
        tableOfRow = rows.map { tableOfRow[$0] }
    }
}

final class BeamSearchTests: XCTestCase {
    // Greedy takes A (0.5), then A (0.4), then ends: 0.2. The beam also keeps B (0.4), which ends
    // with 0.9 for 0.36: the better sequence.
    let table: [[Int]: [Float]] = [[]: [0.1, 0.5, 0.4], [1]: [0.3, 0.4, 0.3], [2]: [0.9, 0.05, 0.05], [1, 1]: [1, 0, 0]]

    func testGreedyAndBeamFindTheirKnownSequences() {
        var greedy = TableDecoder(rows: 1, tables: [table])
        XCTAssertEqual(BeamSearch(beamSize: 1, maxLength: 10).run(&greedy, batch: 1), [[1, 1]])
        var beam = TableDecoder(rows: 2, tables: [table])
        XCTAssertEqual(BeamSearch(beamSize: 2, maxLength: 10).run(&beam, batch: 1), [[2]])
    }

    func testBeamsOfDifferentInputsStayApart() {
        // Input 0 uses the table above; input 1's best is B A (0.7 x 0.8 = 0.56).
        let second: [[Int]: [Float]] = [[]: [0.2, 0.1, 0.7], [2]: [0.1, 0.8, 0.1], [2, 1]: [1, 0, 0]]
        var d = TableDecoder(rows: 6, tables: [table, second])
        XCTAssertEqual(BeamSearch(beamSize: 3, maxLength: 10).run(&d, batch: 2), [[2], [2, 1]])
    }

    func testMaxLengthEndsEveryHypothesis() {
        let never: [[Int]: [Float]] = [[]: [0, 1, 0], [1]: [0, 1, 0], [1, 1]: [0, 1, 0]]
        var d = TableDecoder(rows: 3, tables: [never])
        XCTAssertEqual(BeamSearch(beamSize: 3, maxLength: 3).run(&d, batch: 1), [[1, 1, 1]])
    }
}
