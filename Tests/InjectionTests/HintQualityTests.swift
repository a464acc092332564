import XCTest
import Injection

final class HintQualityTests: XCTestCase {
    func testCountsPerThresholdWithOneMatchPerTrueBox() {
        let truth = ["a": [GroundedRegion(phrase: "nodule", score: 1, box: [10, 10, 20, 20]),
                           GroundedRegion(phrase: "heart", score: 1, box: [40, 40, 80, 80])],
                     "b": [GroundedRegion(phrase: "pleural effusion", score: 1, box: [0, 50, 40, 90])]]
        let detected = ["a": [GroundedRegion(phrase: "nodule", score: 0.9, box: [11, 11, 21, 21]),    // right
                              GroundedRegion(phrase: "nodule", score: 0.5, box: [10, 10, 20, 20]),    // a second hit on a used box
                              GroundedRegion(phrase: "mass", score: 0.8, box: [10, 10, 20, 20]),      // wrong phrase
                              GroundedRegion(phrase: "heart", score: 0.9, box: [0, 0, 5, 5])],        // anatomy: not counted
                        "b": [GroundedRegion(phrase: "pleural effusion", score: 0.4, box: [30, 80, 60, 100])]] // IoU 0.02
        let rows = HintQuality.measure(detected, truth: truth, images: ["a", "b"], anatomy: ["heart"], thresholds: [0.3, 0.6, 0.95])
        XCTAssertEqual(rows.map(\.truePositives), [1, 1, 0])
        XCTAssertEqual(rows.map(\.falsePositives), [3, 1, 0])
        XCTAssertEqual(rows.map(\.falseNegatives), [1, 1, 2])
        XCTAssertEqual(rows[0].precision, 0.25, accuracy: 1e-12)
        XCTAssertEqual(rows[0].recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(rows[1].f1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(rows[2].precision, 0)
    }
}
