import Datasets
import Foundation
import Injection
import Tensor
import XCTest

@testable import VQA

/// The auxiliary localization loss: targets follow the crop, and the loss teaches the vision
/// encoder where a structure is in each image.
final class LocalizationTests: VQATestCase {
    func testTargetsMarkTheCellsABoxOverlapsInTheCrop() {
        // Loaded at 16 px, cropped to 14 from (1, 1): a 2 x 2 grid of 7 px cells.
        let boxes = [
            [
                GroundedRegion(phrase: "cyst", score: 1, box: [0.5, 0.5, 0.75, 0.75]),  // crop 7..11: cell (1, 1) only
                GroundedRegion(phrase: "kidney", score: 1, box: [0.25, 0, 0.5, 0.5]),  // crop x 3..7, y -1..7: cells (0, 0)
                GroundedRegion(phrase: "kidney", score: 1, box: [0.25, 0.5, 0.6, 0.6]),  // x 3..8.6 crosses into column 1, row 1
                GroundedRegion(phrase: "pacemaker", score: 1, box: [0, 0, 1, 1])
            ],  // not a label: ignored
            [GroundedRegion(phrase: "cyst", score: 1, box: [0, 0, 0.05, 0.05])]
        ]  // crop -3..-2.2: outside
        let t = LocalizationHead.targets(boxes, labels: ["cyst", "kidney"], crops: [(x: 1, y: 1), (x: 3, y: 3)], loadSide: 16, cropSide: 14, grid: 2)
        XCTAssertEqual(t.shape, [2, 4, 2])
        // Per patch (row by row): [cyst, kidney].
        XCTAssertEqual(Array(t.data[0..<8]), [0, 1, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(Array(t.data[8..<16]), [Float](repeating: 0, count: 8))
    }

    /// Two images with the bright half on opposite sides, one box each on its bright half.
    func brightHalves(weight: Float = 1) throws -> (VQASystem, VQASet) {
        let items = try brightHalfItems()
        var config = Self.tinyConfig
        config.localization = LocalizationOptions(labels: ["bright"], weight: weight)
        let vocabulary = VQAVocabulary(questions: items.map(\.question), answers: items.map(\.answer), extraText: Self.template.words)
        let run = VQARunConfig(
            model: config, head: .generate, dataset: .slake, dataDir: "", seed: 3, epochs: 1, template: Self.template,
            maxPositions: VQASystem.maxPositions(config, template: Self.template, vocabulary: vocabulary))
        let system = VQASystem(run, vocabulary: vocabulary)
        var loader = system.loader
        loader.log = { _ in }
        loader.boxes = [
            items[0].imageURL.standardizedFileURL.path: [GroundedRegion(phrase: "bright", score: 1, box: [0, 0, 12, 24])],
            items[1].imageURL.standardizedFileURL.path: [GroundedRegion(phrase: "bright", score: 1, box: [12, 0, 24, 24])]
        ]
        return (system, loader.load(items, split: "train"))
    }

    /// Pre-training alone teaches the encoder where each image's box is: afterwards every patch's
    /// probability says whether it lies in that image's box (same position, opposite answers), and
    /// the report counts both images found with no false one.
    func testPretrainingTeachesTheEncoderWhereTheBoxIs() throws {
        let (system, set) = try brightHalves()
        XCTAssertEqual(set.boxes[1], [GroundedRegion(phrase: "bright", score: 1, box: [0.5, 0, 1, 1])], "boxes are kept in [0, 1] image coordinates")
        let config = system.run.model, head = try XCTUnwrap(system.model.localizationHead)
        let probabilities = { () -> [Float] in
            withNoGrad { head.logits(system.model.visionEncoder(set.pixels([0, 1], size: config.imageSize, rng: nil))).sigmoid().data }
        }
        XCTAssertLessThan(probabilities().max()!, 0.5, "logits start near RetinaNet's prior of 0.01")
        var options = VQATrainingOptions()
        options.learningRate = 3e-3; options.weightDecay = 0; options.localizationPretrainEpochs = 300; options.warmupSteps = 0
        try VQATrainer(system, options: options, folder: dir, log: { _ in }).pretrainLocalization(set, validation: set)
        let after = probabilities(), g = config.gridSize
        for image in 0..<2 {
            for patch in 0..<(g * g) {
                let inBox = (patch % g < g / 2) == (image == 0)
                XCTAssertEqual(after[image * g * g + patch] > 0.5, inBox, "image \(image) patch \(patch): p \(after[image * g * g + patch])")
            }
        }
        XCTAssertEqual(
            system.localizationReport(set)?.rows, [LocalizationReport.Row(label: "bright", truePositives: 2, falsePositives: 0, falseNegatives: 0)])
    }

    /// A VQA step's loss is the answer loss plus the weighted localization loss of the same crops.
    func testStepAddsTheWeightedLocalizationLoss() throws {
        let (system, set) = try brightHalves(weight: 0.5)
        let model = system.model, size = system.run.model.imageSize
        let map = model.visionEncoder(set.pixels([0, 1], size: size, rng: nil))
        let answer = model.generativeLoss(
            imageTokens: model.imageTokens(map: map), prompts: set.examples.map(\.prompt), answers: set.examples.map(\.answer)
        ).item
        let crops = set.crops(2, size: size, rng: nil)
        let localization = model.localizationHead!.loss(
            map,
            targets: LocalizationHead.targets(
                set.boxes, labels: ["bright"], crops: crops, loadSide: set.side,
                cropSide: size, grid: map.shape[2])
        ).item
        XCTAssertGreaterThan(localization, 0.1)
        let trainer = VQATrainer(system, options: VQATrainingOptions(), folder: dir, log: { _ in })
        XCTAssertEqual(try trainer.step(set, [0, 1], rng: nil), answer + 0.5 * localization, accuracy: 1e-4)
    }

    func testRunsWithoutTheOptionDecodeAsOff() throws {
        var config = Self.tinyConfig
        config.localization = LocalizationOptions(labels: ["kidney", "renal cyst"], weight: 0.5)
        XCTAssertEqual(try JSONDecoder().decode(VQAConfig.self, from: JSONEncoder().encode(config)), config)
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        json.removeValue(forKey: "localization")
        let old = try JSONDecoder().decode(VQAConfig.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertNil(old.localization)
        XCTAssertNil(VQAModel(old, head: .generate, vocabularySize: 20, outputs: 20, maxPositions: 200, seed: 1).localizationHead)
    }
}
