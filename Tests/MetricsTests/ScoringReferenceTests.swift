import Foundation
import XCTest

@testable import Metrics

/// CE against scikit-learn and VQA scoring against LLaVA-Med's evaluation code, on the fixtures
/// described in Fixtures/README.md.
final class ScoringReferenceTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent(name))) as! [String: Any]
    }

    func labels(_ raw: Any) -> [String: [String: Int?]] {
        (raw as! [String: [String: Any]]).mapValues { row in
            Dictionary(uniqueKeysWithValues: row.map { ($0.key, $0.value as? Int) })
        }
    }

    func testClinicalEfficacyMatchesScikitLearn() throws {
        let f = try json("ce_sklearn.json")
        let refs = labels(f["references"]!), hyps = labels(f["hypotheses"]!)
        for policy in ClinicalEfficacy.UncertainPolicy.allCases {
            let expected = f[policy.rawValue] as! [String: Any]
            let result = ClinicalEfficacy.score(references: refs, hypotheses: hyps, policy: policy)
            func check(_ got: ClinicalEfficacy.PRF, _ key: String) {
                let e = expected[key] as! [String: Double]
                XCTAssertEqual(got.precision, e["P"]!, accuracy: 1e-12, "\(policy) \(key) P")
                XCTAssertEqual(got.recall, e["R"]!, accuracy: 1e-12, "\(policy) \(key) R")
                XCTAssertEqual(got.f1, e["F1"]!, accuracy: 1e-12, "\(policy) \(key) F1")
            }
            check(result.micro, "micro"); check(result.macro, "macro"); check(result.micro5, "micro5"); check(result.macro5, "macro5")
            for (o, _) in expected["per_label"] as! [String: Any] {
                let e = (expected["per_label"] as! [String: [String: Double]])[o]!
                XCTAssertEqual(result.perLabel[o]!.f1, e["F1"]!, accuracy: 1e-12, "\(policy) \(o)")
            }
        }
    }

    func testVQANormalisationAndScoresMatchLLaVAMed() throws {
        let f = try json("llava_med_vqa.json")
        for pair in f["normalize"] as! [[String]] {
            XCTAssertEqual(VQAScoring.normalize(pair[0]), pair[1], "normalize(\(pair[0].debugDescription))")
        }
        let items = (f["items"] as! [[String]]).map {
            VQAScoring.Item(questionID: $0[0], question: $0[1], answer: $0[2], prediction: $0[3], closed: $0[4] == "CLOSED")
        }
        for rule in VQAScoring.ClosedRule.allCases {
            let e = f[rule.rawValue] as! [String: Double]
            let r = VQAScoring.score(items, rule: rule)
            XCTAssertEqual(r.closedAccuracy, e["closed_accuracy"]!, accuracy: 1e-12, "\(rule) closed accuracy")
            XCTAssertEqual(r.openRecall, e["open_recall"]!, accuracy: 1e-12, "\(rule) open recall")
            XCTAssertEqual(r.openExact, e["open_exact"]!, accuracy: 1e-12)
            XCTAssertEqual(r.closedExact, e["closed_exact"]!, accuracy: 1e-12)
            XCTAssertEqual(r.overallExact, e["overall_exact"]!, accuracy: 1e-12)
            XCTAssertEqual([r.nOpen, r.nClosed], [Int(e["n_open"]!), Int(e["n_closed"]!)])
        }
    }
}
