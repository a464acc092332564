import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Grounding

final class RepeatFactorSamplingTests: XCTestCase {
    func sample(_ id: Int, _ modality: String, _ labels: [String]) -> GroundingSample {
        GroundingSample(
            imageID: id, imageURL: URL(fileURLWithPath: "/nonexistent/\(id).png"), width: 64, height: 64, modality: modality,
            regions: labels.map { LabeledBox(label: $0, box: Box(x1: 1, y1: 1, x2: 9, y2: 9)) })
    }

    /// Ten radiographs (fracture in 1, nodule in 5, heart in all) and two CTs (cyst in 1). At t = 0.4
    /// the fracture image repeats sqrt(0.4 / 0.1) = 2 times; a nodule (f = 0.5) or the heart stays at 1;
    /// the cyst is in half of the CTs, so it is not rare there, although it is in 1 of 12 images overall.
    func testFactorsFollowLVISPerModality() {
        var samples = (0..<10).map { i in sample(i, "X-ray", ["heart"] + (i < 5 ? ["nodule"] : []) + (i == 0 ? ["fracture"] : [])) }
        samples += [sample(10, "CT", ["liver", "cyst"]), sample(11, "CT", ["liver"])]
        let rfs = RepeatFactorSampling(samples, threshold: 0.4)
        XCTAssertEqual(rfs.factors[0], 2, accuracy: 1e-12, "the rarest category of the image decides")
        XCTAssertEqual(Array(rfs.factors[1...]), [Double](repeating: 1, count: 11))
        XCTAssertEqual(rfs.expectedCount, 13)
        let none = RepeatFactorSampling([sample(0, "X-ray", [])], threshold: 0.4)
        XCTAssertEqual(none.factors, [1], "an image without regions is shown once")
    }

    /// A factor of 1.5 shows the image once or twice, twice in about half of the epochs.
    func testEpochsRoundStochasticallyToTheFactor() {
        let samples = [sample(0, "X-ray", ["fracture"])] + (1..<10).map { sample($0, "X-ray", ["heart"]) }
        let rfs = RepeatFactorSampling(samples, threshold: 0.225)  // fracture: sqrt(0.225 / 0.1) = 1.5
        XCTAssertEqual(rfs.factors[0], 1.5, accuracy: 1e-12)
        let rng = RandomGenerator(seed: 7)
        var copies: [Int] = []
        for _ in 0..<2000 {
            let epoch = rfs.epoch(samples, rng: rng)
            XCTAssertEqual(epoch.filter { $0.imageID != 0 }.count, 9, "others appear exactly once")
            copies.append(epoch.filter { $0.imageID == 0 }.count)
        }
        XCTAssertEqual(Set(copies), [1, 2])
        XCTAssertEqual(Double(copies.reduce(0, +)) / 2000, 1.5, accuracy: 0.04)
    }
}
