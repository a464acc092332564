import Foundation
import XCTest

@testable import Metrics

/// LLaVA-Med's run_eval.py (with PR #35) on its own file formats; expected values from the script
/// itself (Fixtures/README.md).
final class LLaVAMedEvalTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/llava-med")

    func expected(_ name: String) throws -> [String: Double] {
        try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    func testEveryScoreEqualsRunEvalPy() throws {
        let questions = try LLaVAMedFiles.read(
            gt: Self.fixtures.appendingPathComponent("gt.json"),
            pred: Self.fixtures.appendingPathComponent("answers.jsonl"))
        let candidates = try LLaVAMedFiles.readCandidates(Self.fixtures.appendingPathComponent("candidate.json"))
        let result = LLaVAMedEval.evaluate(questions, candidates: candidates)
        let e = try expected("expected.json")
        XCTAssertEqual(result.scores.map(\.name), LLaVAMedEval.names)
        for name in LLaVAMedEval.names {
            XCTAssertEqual(try XCTUnwrap(result[name]), e[name]!, accuracy: 1e-9 * max(1, e[name]!), name)
        }
        XCTAssertEqual([result.closedCount, result.openCount], [Int(e["num_closed"]!), Int(e["num_open"]!)])
        // The pre-fix script left wrong yes/no answers out of the count and said 70.0.
        XCTAssertNotEqual(result["yes/no accuracy"]!, try expected("expected_pre_pr35.json")["yes/no accuracy"]!)
        // Without a candidate list there is no open accuracy; the other scores stand.
        let plain = LLaVAMedEval.evaluate(questions, candidates: nil)
        XCTAssertNil(plain["open accuracy"])
        XCTAssertEqual(plain["f1 score"], result["f1 score"])
    }

    func testNLTKSentenceBLEUEdgeCases() {
        XCTAssertEqual(NLTKSentenceBLEU.score(reference: ["a", "b"], hypothesis: ["c"]), 0, "no unigram match")
        XCTAssertEqual(NLTKSentenceBLEU.score(reference: ["a"], hypothesis: [], weights: [1, 0, 0, 0]), 0)
        // One matching word of a two-word reference: brevity exp(1 - 2) and p1 = 1.
        XCTAssertEqual(NLTKSentenceBLEU.score(reference: ["a", "b"], hypothesis: ["a"], weights: [1, 0, 0, 0]), exp(-1), accuracy: 1e-15)
        // A missing bigram becomes the smallest normal double, not an error: nltk 3.10.4 returns exp(log(min)) = 2.2250738585072626e-308.
        XCTAssertEqual(NLTKSentenceBLEU.score(reference: ["a", "b"], hypothesis: ["b", "a"], weights: [0, 1, 0, 0]), 2.2250738585072626e-308)
    }

    func testFilesAreCheckedAndOurOwnFilesRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llava-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let gt = dir.appendingPathComponent("gt.json"), pred = dir.appendingPathComponent("answers.jsonl")
        try LLaVAMedFiles.groundTruth([("7", "a.jpg", "Is it normal?", "yes", "CLOSED"), ("8", "a.jpg", "Where?", "left lung", "OPEN")]).write(to: gt)
        try LLaVAMedFiles.answers([("7", "Is it normal?", "yes"), ("8", "Where?", "the left lung")], model: "m").write(to: pred)
        let questions = try LLaVAMedFiles.read(gt: gt, pred: pred)
        XCTAssertEqual(questions.map(\.prediction), ["yes", "the left lung"])
        XCTAssertEqual(LLaVAMedEval.evaluate(questions, candidates: nil)["yes/no accuracy"], 100)
        try LLaVAMedFiles.answers([("7", "q", "yes")], model: "m").write(to: pred)
        XCTAssertThrowsError(try LLaVAMedFiles.read(gt: gt, pred: pred)) { e in
            XCTAssertTrue("\(e)".contains("answers.jsonl: no answer for 1 question id(s) of gt.json, e.g. 8"), "\(e)")
        }
        try Data("{\"question_id\": 7}\n".utf8).write(to: pred)
        XCTAssertThrowsError(try LLaVAMedFiles.read(gt: gt, pred: pred)) { e in
            XCTAssertTrue("\(e)".contains("line 1: needs 'question_id' and 'text'"), "\(e)")
        }
    }
}
