import Foundation
import Imaging
import XCTest

@testable import Injection

/// A region's box is a `Box` in code and `[x1, y1, x2, y2]` on disk, as detection caches have always stored it.
final class GroundedRegionCodingTests: XCTestCase {
    func testTheBoxIsStoredAsCornerCoordinates() throws {
        let region = GroundedRegion(phrase: "nodule", score: 0.5, box: Box(x1: 1, y1: 2, x2: 30, y2: 40))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(region)) as? [String: Any])
        XCTAssertEqual(json["box"] as? [Double], [1, 2, 30, 40])
        XCTAssertEqual(try JSONDecoder().decode(GroundedRegion.self, from: Data(#"{"phrase":"nodule","score":0.5,"box":[1,2,30,40]}"#.utf8)), region)
        XCTAssertThrowsError(try JSONDecoder().decode(GroundedRegion.self, from: Data(#"{"phrase":"x","score":1,"box":[1,2,3]}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("a box is [x1, y1, x2, y2], got 3 numbers"), "\(error)")
        }
        XCTAssertEqual(region.normalized(width: 100, height: 200).box, Box(x1: 0.01, y1: 0.01, x2: 0.3, y2: 0.2))
    }
}

final class SpatialHintsTests: XCTestCase {
    var hints: SpatialHints!

    override func setUpWithError() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Prompts/hints/chest.json")
        hints = SpatialHints(try JSONDecoder().decode(HintTemplates.self, from: Data(contentsOf: url)))
    }

    func region(_ phrase: String, _ box: Box) -> GroundedRegion { GroundedRegion(phrase: phrase, score: 0.9, box: box) }

    func testHandPlacedBoxesOnTheWholeImage() {
        // 200x200 image, no lung boxes: the field is the image. Image left = patient's right.
        let out = hints.sentences(
            for: [
                region("nodule", [40, 20, 52, 32]),  // 144 px^2 = 0.36%: small, right, upper
                region("pleural effusion", [120, 140, 180, 190]),  // 3000 px^2 = 7.5%: moderate, left
                region("consolidation", [20, 70, 100, 130]),  // 4800 px^2 = 12%: large, right, mid (cy 100)
                region("opacity", [30, 60, 170, 160])  // spans the midline widely: bilateral
            ], imageWidth: 200, imageHeight: 200)
        XCTAssertEqual(
            out,
            [
                "small nodule in the right upper zone", "moderate left pleural effusion",
                "large consolidation in the right mid zone", "large opacity in the bilateral mid zone"
            ])
    }

    func testLungBoxesDefineTheFieldAndGetNoHint() {
        // Lungs occupy x 50...150, y 50...150; a nodule at y 130 is in the field's lower third.
        let out = hints.sentences(
            for: [
                region("right lung", [50, 50, 98, 150]), region("left lung", [102, 50, 150, 150]), region("heart", [90, 100, 130, 140]),
                region("nodule", [110, 125, 118, 133])
            ], imageWidth: 400, imageHeight: 400)
        XCTAssertEqual(out, ["small nodule in the left lower zone"])
    }

    func testPhraseTemplatesOverrideTheDefault() {
        let out = hints.sentences(
            for: [region("cardiomegaly", [60, 100, 160, 170]), region("pacemaker", [150, 20, 170, 40]), region("edema", [20, 40, 180, 180])],
            imageWidth: 200, imageHeight: 200)
        XCTAssertEqual(out, ["enlarged cardiac silhouette", "pacemaker over the left chest", "bilateral pulmonary edema"])
    }

    func testDetectionsBelowTheHedgeScoreAreCalledPossible() {
        let faint = GroundedRegion(phrase: "nodule", score: 0.4, box: [40, 20, 52, 32])
        let sure = GroundedRegion(phrase: "pneumothorax", score: 0.8, box: [120, 10, 140, 30])
        XCTAssertEqual(
            hints.sentences(for: [faint, sure], imageWidth: 200, imageHeight: 200, hedgeBelow: 0.5),
            ["possible small nodule in the right upper zone", "small left pneumothorax"])
        XCTAssertEqual(hints.sentences(for: [faint], imageWidth: 200, imageHeight: 200), ["small nodule in the right upper zone"])
        XCTAssertTrue(hints.vocabulary(phrases: ["nodule"], hedged: true).contains("possible"))
        XCTAssertFalse(hints.vocabulary(phrases: ["nodule"]).contains("possible"))
    }
}

/// The CT and MRI templates, and the choice of templates by modality name.
final class ModalityHintsTests: XCTestCase {
    var hints: ModalityHints!

    override func setUpWithError() throws {
        let prompts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Prompts")
        setenv("MEDGLIP_PROMPTS", prompts.path, 1)
        defer { unsetenv("MEDGLIP_PROMPTS") }
        hints = try ModalityHints.load()
    }

    func region(_ phrase: String, _ box: Box) -> GroundedRegion { GroundedRegion(phrase: phrase, score: 0.9, box: box) }

    func testAbdominalCTMeasuresInTheAbdomenBox() throws {
        let ct = try XCTUnwrap(hints["CT"])
        // Abdomen x 0...200, y 50...150 (area 20000): midline x 100, thirds at y 83 and 117.
        let out = ct.sentences(
            for: [
                region("abdomen", [0, 50, 200, 150]), region("liver", [20, 60, 90, 120]), region("kidney", [130, 110, 160, 140]),
                region("renal cyst", [140, 120, 148, 128]),  // 64 px^2 = 0.32%: small, image right = patient's left
                region("liver lesion", [30, 60, 50, 80])  // 400 px^2 = 2%: large, patient's right, anterior third (cy 70)
            ], imageWidth: 256, imageHeight: 256)
        XCTAssertEqual(out, ["small left renal cyst", "large liver lesion in the right anterior abdomen"])
    }

    func testBrainMRIWithoutABrainBoxUsesTheImage() throws {
        let mri = try XCTUnwrap(hints["MRI"])
        // No brain box: the 200x200 image is the field. Tumour 30x30 = 2.25%: moderate; cy 45: frontal third.
        let out = mri.sentences(for: [region("tumor", [20, 30, 50, 60]), region("ventricle", [90, 90, 110, 110])], imageWidth: 200, imageHeight: 200)
        XCTAssertEqual(out, ["moderate right frontal tumor"])
    }

    func testModalityNamesMatchWithoutCase() throws {
        // SLAKE writes "X-Ray"; the grounding corpus "X-ray".
        let chest = try XCTUnwrap(hints["X-Ray"])
        XCTAssertEqual(
            chest.sentences(for: [region("pneumothorax", [10, 10, 30, 30])], imageWidth: 200, imageHeight: 200), ["small right pneumothorax"])
        XCTAssertNil(hints["Dermoscopy"])
        XCTAssertNil(hints[nil])
        let words = hints.vocabulary(phrases: ["renal cyst", "tumor"])
        XCTAssertTrue(words.contains("renal") && words.contains("frontal") && words.contains("pneumothorax"), "\(words)")
    }
}
