import Datasets
import Foundation
import Metrics
import XCTest

@testable import Synthetic

/// The CheXpert-rule labeler, run on the generated reports, must recover the labels the generator
/// meant: the two were written independently (templates vs phrase lists), so agreement checks both.
final class ReportLabelAgreementTests: XCTestCase {
    func testLabelerRecoversGeneratorLabels() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-agree-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try CXRCorpus.generate(to: dir, count: 300, size: 64, seed: 21)
        let ds = try R2Gen.read(dir.appendingPathComponent("annotation.json"))
        let records = try decodeJSON([String: CXRStudyRecord].self, from: dir.appendingPathComponent("labels.json"))
        let labeler = try CheXpertLabeler()
        var agree = 0, total = 0, disagreements: [String] = []
        for s in ds.train + ds.val + ds.test {
            let got = labeler.label(s.report), want = records[s.id]!.labels
            for o in chexpertObservations {
                // Positive / uncertain / not positive: blank and negative both mean "absent" here.
                func state(_ v: Int?) -> Int { v == 1 ? 1 : (v == -1 ? -1 : 0) }
                total += 1
                if state(got[o] ?? nil) == state(want[o] ?? nil) {
                    agree += 1
                } else if disagreements.count < 8 {
                    disagreements.append(
                        "\(o): labeler \(String(describing: got[o] ?? nil)), generator \(String(describing: want[o] ?? nil)) in '\(s.report)'")
                }
            }
        }
        let rate = Double(agree) / Double(total)
        XCTAssertGreaterThan(rate, 0.99, "agreement \(rate); e.g.\n" + disagreements.joined(separator: "\n"))
    }
}
