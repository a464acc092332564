import Foundation
import XCTest
@testable import Injection

final class SpatialHintsTests: XCTestCase {
    var hints: SpatialHints!

    override func setUpWithError() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Prompts/hints/chest.json")
        hints = SpatialHints(try JSONDecoder().decode(HintTemplates.self, from: Data(contentsOf: url)))
    }

    func region(_ phrase: String, _ box: [Float]) -> GroundedRegion { GroundedRegion(phrase: phrase, score: 0.9, box: box) }

    func testHandPlacedBoxesOnTheWholeImage() {
        // 200x200 image, no lung boxes: the field is the image. Image left = patient's right.
        let out = hints.sentences(for: [
            region("nodule", [40, 20, 52, 32]),          // 144 px^2 = 0.36%: small, right, upper
            region("pleural effusion", [120, 140, 180, 190]), // 3000 px^2 = 7.5%: moderate, left
            region("consolidation", [20, 70, 100, 130]),      // 4800 px^2 = 12%: large, right, mid (cy 100)
            region("opacity", [30, 60, 170, 160]),            // spans the midline widely: bilateral
        ], imageWidth: 200, imageHeight: 200)
        XCTAssertEqual(out, ["small nodule in the right upper zone", "moderate left pleural effusion",
                             "large consolidation in the right mid zone", "large opacity in the bilateral mid zone"])
    }

    func testLungBoxesDefineTheFieldAndGetNoHint() {
        // Lungs occupy x 50...150, y 50...150; a nodule at y 130 is in the field's lower third.
        let out = hints.sentences(for: [
            region("right lung", [50, 50, 98, 150]), region("left lung", [102, 50, 150, 150]), region("heart", [90, 100, 130, 140]),
            region("nodule", [110, 125, 118, 133]),
        ], imageWidth: 400, imageHeight: 400)
        XCTAssertEqual(out, ["small nodule in the left lower zone"])
    }

    func testPhraseTemplatesOverrideTheDefault() {
        let out = hints.sentences(for: [region("cardiomegaly", [60, 100, 160, 170]), region("pacemaker", [150, 20, 170, 40]), region("edema", [20, 40, 180, 180])],
                                  imageWidth: 200, imageHeight: 200)
        XCTAssertEqual(out, ["enlarged cardiac silhouette", "pacemaker over the left chest", "bilateral pulmonary edema"])
    }
}
