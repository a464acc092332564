import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Grounding

/// Augmented boxes still cover what they name; the defaults a real dataset gets follow its boxes.
final class AugmentationTests: XCTestCase {
    /// A dark 200 x 100 image with a bright square at (20, 30)-(60, 70) labelled "right nodule".
    func picture() -> (Image, [LabeledBox]) {
        var image = Image(width: 200, height: 100, channels: 3, fill: 0)
        for c in 0..<3 { for y in 30..<70 { for x in 20..<60 { image[c, y, x] = 1 } } }
        return (image, [LabeledBox(label: "right nodule", box: Box(x1: 20, y1: 30, x2: 60, y2: 70))])
    }

    func meanInside(_ image: Image, _ box: Box) -> Float {
        var sum: Float = 0, n: Float = 0
        for y in Int(box.y1.rounded(.up))..<Int(box.y2) { for x in Int(box.x1.rounded(.up))..<Int(box.x2) { sum += image[0, y, x]; n += 1 } }
        return sum / max(n, 1)
    }

    func testFlipsScalesAndShiftsMoveTheBoxWithThePixels() {
        let (image, regions) = picture()
        let augmentation = GroundingAugmentation([.flip, .vflip, .scale])
        var flipped = 0, kept = 0
        for seed in 0..<40 {
            let (out, boxes, labels) = augmentation.apply(
                image, regions: regions, size: 128, phrases: ["right nodule", "left nodule"], rng: RandomGenerator(seed: UInt64(seed)))
            XCTAssertEqual([out.width, out.height], [128, 128])
            guard let box = boxes.first else { continue }
            kept += 1
            if labels[0] == "left nodule" { flipped += 1 }
            // Bilinear edges blur a pixel or so; the interior stays bright and the box is no larger than the square.
            XCTAssertGreaterThan(meanInside(out, Box(x1: box.x1 + 2, y1: box.y1 + 2, x2: box.x2 - 2, y2: box.y2 - 2)), 0.95, "seed \(seed)")
            XCTAssertLessThan(box.width, 40 * 0.64 * 1.25 + 1)
        }
        XCTAssertGreaterThan(kept, 30, "a box is dropped only when cropping leaves under half of it")
        XCTAssertTrue((8...32).contains(flipped), "about half the images are mirrored, and their label says so: \(flipped) of \(kept)")
    }

    func testAnImageWhoseMirroredLabelIsUnknownIsNotFlipped() {
        let (image, regions) = picture()
        for seed in 0..<10 {
            let (_, boxes, labels) = GroundingAugmentation([.flip]).apply(
                image, regions: regions, size: 128, phrases: ["right nodule"], rng: RandomGenerator(seed: UInt64(seed)))
            XCTAssertEqual(labels, ["right nodule"])
            XCTAssertEqual(boxes[0].x1, 20 * 0.64, accuracy: 0.01, "letterboxed, not mirrored")
        }
        XCTAssertEqual(GroundingAugmentation.sidesSwapped(["Right lung", "heart"], known: ["left lung", "heart"]), ["left lung", "heart"])
        XCTAssertNil(GroundingAugmentation.sidesSwapped(["right lung"], known: ["right lung"]))
    }

    func testWithoutAugmentationTrainingInputIsTheLetterbox() {
        let (image, regions) = picture()
        let (out, boxes, _) = GroundingAugmentation([]).apply(image, regions: regions, size: 128, phrases: [], rng: RandomGenerator(seed: 1))
        let (letterboxed, transform) = image.letterboxed(to: 128)
        XCTAssertEqual(out.pixels, letterboxed.pixels)
        XCTAssertEqual(boxes, [transform.apply(regions[0].box)])
    }
}

final class RecipeTests: XCTestCase {
    func sample(_ sides: [(String, Float)], width: Int = 640, height: Int = 480) -> GroundingSample {
        GroundingSample(
            imageID: 0, imageURL: URL(fileURLWithPath: "/x.png"), width: width, height: height,
            regions: sides.map { LabeledBox(label: $0.0, box: Box(x1: 0, y1: 0, x2: $0.1, y2: $0.1 * 2)) })
    }

    func testInputSizeFollowsTheSmallestCategorysSmallBoxes() {
        // Many large cells and a few small platelets: the platelets decide.
        let samples = (0..<20).map { _ in sample([("RBC", 90), ("RBC", 100), ("RBC", 95), ("Platelets", 30)]) }
        let (size, reason) = GroundingRecipe.imageSize(for: samples, finestStride: 8)
        XCTAssertEqual(size, 448, reason)  // 2.5 points x stride 8 x 640 px / 30 px = 427, rounded up to a multiple of 32
        XCTAssertTrue(reason.contains("Platelets"), reason)
        XCTAssertEqual(GroundingRecipe.imageSize(for: [sample([("x", 5)])], finestStride: 8).0, 640, "at most 640")
        XCTAssertEqual(GroundingRecipe.imageSize(for: [sample([("x", 5)], width: 300, height: 200)], finestStride: 8).0, 288, "no upsampling")
        XCTAssertEqual(GroundingRecipe.imageSize(for: [sample([("x", 200)])], finestStride: 8).0, 256, "at least 256")
    }

    func testEpochsFollowTheDatasetSize() {
        XCTAssertEqual(GroundingRecipe.epochs(forTrainingImages: 174).0, 34)
        XCTAssertEqual(GroundingRecipe.epochs(forTrainingImages: 50).0, 60)
        XCTAssertEqual(GroundingRecipe.epochs(forTrainingImages: 5000).0, 12)
    }

    func testPatienceStopsAfterTheBestEpochIsThatOld() {
        func history(_ aps: [Double]) -> [GroundingTrainer.EpochRecord] {
            aps.enumerated().map {
                .init(
                    epoch: $0.offset + 1, loss: 0, classification: 0, regression: 0, centerness: 0, imagesPerSecond: 0, valAP: $0.element,
                    valAP50: $0.element)
            }
        }
        XCTAssertNil(GroundingTrainer.stopReason(history([0.1, 0.3, 0.2, 0.25]), patience: 3))
        let reason = GroundingTrainer.stopReason(history([0.1, 0.3, 0.2, 0.25, 0.3]), patience: 3)
        XCTAssertTrue(reason?.hasSuffix("best 0.3000 at epoch 2 (AP50 0.300)") == true, reason ?? "nil")
        XCTAssertNil(GroundingTrainer.stopReason(history([0.1, 0.3, 0.2, 0.25, 0.3]), patience: nil))
    }
}
