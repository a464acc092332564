import Tensor
import XCTest

@testable import Injection

final class RegionTokensTests: XCTestCase {
    func testTokensPerSlotWithEmptySlotsAndGradients() {
        let rng = RandomGenerator(seed: 7)
        let encoder = RegionTokenEncoder(width: 4, phrases: ["nodule", "pleural effusion"], slots: 3, rng: rng)
        let map = Tensor.randn([2, 4, 8, 8], rng: rng, requiresGrad: true)
        let regions: [[GroundedRegion]] = [
            [
                GroundedRegion(phrase: "nodule", score: 0.9, box: [0.1, 0.1, 0.3, 0.3]),
                GroundedRegion(phrase: "unknown thing", score: 0.8, box: [0.5, 0.5, 1.0, 1.0])
            ],
            []
        ]
        let tokens = encoder.forward(map, regions: regions)
        XCTAssertEqual(tokens.shape, [2, 3, 4])
        // Slot 3 of image 0 and every slot of image 1 are the learned "no region" token.
        for slot in [2, 3, 4, 5] { XCTAssertEqual(Array(tokens.data[(slot * 4)..<(slot * 4 + 4)]), encoder.emptyToken.data) }
        XCTAssertNotEqual(Array(tokens.data[0..<4]), Array(tokens.data[4..<8]))
        tokens.sum().backward()
        // Only image 0's features under its boxes receive gradient.
        let grad = map.grad!
        XCTAssertGreaterThan(grad[0..<256].map(abs).reduce(0, +), 0)
        XCTAssertEqual(grad[256..<512].map(abs).reduce(0, +), 0)
        XCTAssertEqual(encoder.emptyToken.grad!, [4, 4, 4, 4])
    }

    func testGeometryFeatures() {
        XCTAssertEqual(RegionTokenEncoder.geometryFeatures([0.25, 0.5, 0.75, 1.0]), [0.25, 0.5, 0.75, 1.0, 0.5, 0.5, 0.25])
    }

    func testSelectionAndHintIDs() {
        var o = InjectionOptions()
        o.topK = 2; o.scoreThreshold = 0.3
        o.hintVocabulary = [".", "effusion", "left", "small"]
        let kept = o.select([
            GroundedRegion(phrase: "a", score: 0.2, box: [0, 0, 1, 1]), GroundedRegion(phrase: "b", score: 0.5, box: [0, 0, 1, 1]),
            GroundedRegion(phrase: "c", score: 0.9, box: [0, 0, 1, 1]), GroundedRegion(phrase: "d", score: 0.4, box: [0, 0, 1, 1])
        ])
        XCTAssertEqual(kept.map(\.phrase), ["c", "b"])
        // ids: 0 pads, 1 unknown, vocabulary from 2.
        XCTAssertEqual(o.hintIDs(["small left effusion", "large"]), [5, 4, 3, 2, 1, 2])
        o.maxHintTokens = 3
        XCTAssertEqual(o.hintIDs(["small left effusion"]), [5, 4, 3])
    }
}
