import Foundation
import XCTest

@testable import Metrics

/// The labeler against 584 real IU-Xray sentences labelled by hand under CheXpert's rules
/// (Fixtures/chexpert_sentences.json, see Fixtures/README.md): every sentence, all 14 labels.
final class CheXpertSentenceTests: XCTestCase {
    struct Case: Decodable { var sentence: String; var source: String; var labels: [String: Int] }

    func testEveryFixtureSentenceIsLabelledAsByHand() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chexpert_sentences.json")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        XCTAssertGreaterThanOrEqual(cases.count, 300)
        let labeler = try CheXpertLabeler()
        var wrong: [String] = []
        for c in cases {
            let got = labeler.label(c.sentence)
            for o in chexpertObservations where got[o]! != c.labels[o] {
                let (expected, found) = (c.labels[o].map(String.init) ?? "blank", got[o]!.map(String.init) ?? "blank")
                wrong.append("\(c.source) \"\(c.sentence)\": \(o) expected \(expected), got \(found)")
            }
        }
        XCTAssertEqual(wrong, [], "\(wrong.count) labels differ:\n" + wrong.prefix(30).joined(separator: "\n"))
    }

    /// `label --explain`: each mention with the cue that decided it and the words the cue governed.
    func testExplanationNamesTheCueAndItsScope() throws {
        let labeler = try CheXpertLabeler()
        let mentions = labeler.explain(
            "No focal consolidation, suspicious pulmonary opacity, large pleural effusion, or pneumothorax is identified. "
                + "Heart size is mildly enlarged, pulmonary vascularity within normal limits.")
        let pneumothorax = try XCTUnwrap(mentions.first { $0.observation == "Pneumothorax" })
        XCTAssertEqual(pneumothorax.decision.label, 0)
        XCTAssertEqual(pneumothorax.decision.cue, "no focal")
        XCTAssertEqual(
            pneumothorax.decision.scope.map { pneumothorax.words[$0].joined(separator: " ") },
            "no focal consolidation , suspicious pulmonary opacity , large pleural effusion , or pneumothorax")
        let heart = try XCTUnwrap(mentions.first { $0.observation == "Cardiomegaly" })
        XCTAssertEqual([heart.text, String(heart.decision.label)], ["heart size", "1"], "the nearest qualifier, 'enlarged', decides")
        XCTAssertEqual(mentions.first { $0.observation == "Edema" }?.decision.label, 0)
    }

    /// The five sentence patterns the old window-based scope labelled positive for pneumothorax.
    func testANegationGovernsTheWholeCoordinatedList() throws {
        let labeler = try CheXpertLabeler()
        for sentence in [
            "The lungs are normally inflated without evidence of focal airspace disease, pleural effusion, or pneumothorax.",
            "No focal consolidation, suspicious pulmonary opacity, large pleural effusion, or pneumothorax is identified.",
            "No focal consolidation, suspicious pulmonary opacity, pleural effusion, or pneumothorax.",
            "No evidence of focal airspace consolidation large pleural effusion or pneumothorax.",
            "No significant pulmonary edema, focal lung consolidation, pleural effusions or pneumothorax seen."
        ] {
            XCTAssertEqual(labeler.label(sentence)["Pneumothorax"]!, 0, sentence)
        }
        // ... and stops at a contrast or a new clause.
        XCTAssertEqual(labeler.label("No pneumothorax, but there is a small left pleural effusion.")["Pleural Effusion"]!, 1)
        XCTAssertEqual(labeler.label("Pneumothorax is not seen and there is mild cardiomegaly.")["Cardiomegaly"]!, 1)
        XCTAssertEqual(labeler.label("No change in cardiomegaly.")["Cardiomegaly"]!, 1, "a pseudo-negation")
        XCTAssertEqual(labeler.label("Pneumonia cannot be excluded.")["Pneumonia"]!, -1)
        XCTAssertEqual(labeler.label("No focal airspace opacity to suggest pneumonia.")["Pneumonia"]!, 0, "a hedge under a negation")
    }
}
