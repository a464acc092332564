import Injection
import Pipeline
import XCTest

/// The report's grounding table: COCO AP of the injected boxes against the corpus's own boxes.
final class GroundingAgreementTests: XCTestCase {
    func testAgreementIsCOCOAPOverTheGivenImages() {
        let nodule = GroundedRegion(phrase: "nodule", score: 1, box: [10, 10, 30, 30])
        let truth = ["a": [nodule], "b": [GroundedRegion(phrase: "mass", score: 1, box: [0, 0, 50, 50])]]
        let perfect = RegionAgreement.coco(truth, truth: truth, images: ["a", "b"])
        XCTAssertEqual(perfect.0, 1, accuracy: 1e-9)
        // The nodule found, the mass missed: the mean over the two categories.
        XCTAssertEqual(RegionAgreement.coco(["a": [nodule]], truth: truth, images: ["a", "b"]).0, 0.5, accuracy: 1e-9)
        // Shifted by 4 px: IoU 320 / 480 = 0.67 passes the thresholds 0.50 ... 0.65 (4 of 10) but not 0.70.
        let shifted = ["a": [GroundedRegion(phrase: "nodule", score: 0.9, box: [14, 10, 34, 30])]]
        let (ap, ap50) = RegionAgreement.coco(shifted, truth: ["a": [nodule]], images: ["a"])
        XCTAssertEqual(ap, 0.4, accuracy: 1e-9)
        XCTAssertEqual(ap50, 1, accuracy: 1e-9)
    }
}
