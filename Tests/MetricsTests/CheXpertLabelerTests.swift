import Foundation
import XCTest

@testable import Metrics

final class CheXpertLabelerTests: XCTestCase {
    static let labeler = try! CheXpertLabeler()

    func assertLabels(_ report: String, _ expected: [String: Int?], file: StaticString = #filePath, line: UInt = #line) {
        let labels = Self.labeler.label(report)
        for (o, v) in expected {
            XCTAssertEqual(labels[o]!, v, "\(o) in '\(report)'", file: file, line: line)
        }
    }

    func testPositiveNegatedAndUncertainMentions() {
        assertLabels("There is a small left pleural effusion.", ["Pleural Effusion": 1, "No Finding": nil])
        assertLabels("No pleural effusion or pneumothorax.", ["Pleural Effusion": 0, "Pneumothorax": 0, "No Finding": 1])
        assertLabels(
            "No evidence of focal consolidation, pleural effusion, or pneumothorax.",
            ["Consolidation": 0, "Pleural Effusion": 0, "Pneumothorax": 0])
        assertLabels("Possible early consolidation in the left upper lobe.", ["Consolidation": -1, "No Finding": nil])
        assertLabels("Pneumonia cannot be excluded.", ["Pneumonia": -1])
        assertLabels("The previously seen pneumothorax has resolved.", ["Pneumothorax": 0])
        assertLabels("Cardiomegaly is present. No effusion.", ["Cardiomegaly": 1, "Pleural Effusion": 0])
    }

    func testQualifiedMentionsAndExclusions() {
        assertLabels("The heart size is normal.", ["Cardiomegaly": 0])
        assertLabels("Heart size is within normal limits.", ["Cardiomegaly": 0])
        assertLabels("The heart is not enlarged.", ["Cardiomegaly": 0])
        assertLabels("The cardiac silhouette is mildly enlarged.", ["Cardiomegaly": 1])
        assertLabels("The heart is normal in size. The mediastinum is unremarkable.", ["Cardiomegaly": 0, "Enlarged Cardiomediastinum": 0])
        assertLabels("Calcified granuloma in the right upper lobe.", ["Lung Lesion": nil])
        assertLabels("Small pericardial effusion.", ["Pleural Effusion": nil])
        assertLabels("Right apical pleural line consistent with pneumothorax.", ["Pneumothorax": 1, "Support Devices": nil])
    }

    func testAggregationAndNoFinding() {
        // A positive mention wins over a negated one; uncertain wins over negated.
        assertLabels("No effusion on the right. Small left effusion.", ["Pleural Effusion": 1])
        assertLabels("No right effusion. Possible left effusion.", ["Pleural Effusion": -1])
        // Support devices alone leave No Finding positive.
        assertLabels("Left chest wall pacemaker. Lungs are clear.", ["Support Devices": 1, "No Finding": 1])
        assertLabels("Possible nodule in the left lung.", ["Lung Lesion": -1, "No Finding": nil])
        // Clauses end the scope of a cue.
        assertLabels("No pneumothorax, but there is a small effusion.", ["Pneumothorax": 0, "Pleural Effusion": 1])
    }

    func testRealIUXrayReports() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = repo.deletingLastPathComponent().appendingPathComponent("shared/data/iu-xray/annotation.json")
        guard let data = FileManager.default.contents(atPath: source.path) else {
            throw XCTSkip("../shared/data/iu-xray is absent: labeler not checked on real reports")
        }
        let ann = try JSONSerialization.jsonObject(with: data) as! [String: [[String: Any]]]
        let reports = ann.values.flatMap { $0.map { $0["report"] as! String } }
        let labels = reports.map(Self.labeler.label)
        func share(_ o: String, _ v: Int) -> Double { Double(labels.filter { $0[o]! == v }.count) / Double(labels.count) }
        // IU-Xray is mostly normal studies; these ranges are what a CheXpert-style labeler gives on it.
        XCTAssertEqual(share("No Finding", 1), 0.55, accuracy: 0.2)
        XCTAssertGreaterThan(share("Pleural Effusion", 0), 0.5, "most reports state there is no effusion")
        XCTAssertGreaterThan(share("Pneumothorax", 0), 0.5)
        XCTAssertGreaterThan(share("Cardiomegaly", 1), 0.03)
        XCTAssertLessThan(share("Cardiomegaly", 1), 0.3)
        // Sentences from the real file whose labels are clear-cut.
        assertLabels(
            "The heart is normal in size. The mediastinum is unremarkable. The lungs are clear.",
            ["Cardiomegaly": 0, "Enlarged Cardiomediastinum": 0, "No Finding": 1])
        assertLabels(
            "Heart size and pulmonary vascularity appear within normal limits. No pneumothorax or pleural effusion is seen.",
            ["Cardiomegaly": 0, "Pneumothorax": 0, "Pleural Effusion": 0])
        assertLabels("A large hiatal hernia is noted. Degenerative changes are present in the spine.", ["No Finding": 1])
    }
}
