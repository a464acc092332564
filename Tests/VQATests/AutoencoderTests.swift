import Datasets
import Foundation
import Tensor
import XCTest

@testable import VQA

/// Denoising auto-encoder pre-training (MEVF's CDAE) of the vision encoder.
final class AutoencoderTests: VQATestCase {
    func testPatchesFollowTheEncodersTokenOrder() {
        let image = Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init))
        let patches = PatchDecoder.patches(image, side: 2)
        XCTAssertEqual(patches.shape, [1, 4, 4])
        XCTAssertEqual(patches.data, [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15])
    }

    func testLossIsTheMeanSquaredErrorOfTheLinearReconstruction() {
        let decoder = PatchDecoder(width: 1, patchSide: 1, rng: RandomGenerator(seed: 1))
        decoder.linear.weight.data = [2]; decoder.linear.bias!.data = [1]
        // A 1 x 1 map with channel value 3 reconstructs 2 * 3 + 1 = 7; against 5 the error is 4.
        let loss = decoder.loss(Tensor(shape: [1, 1, 1, 1], data: [3]), clean: Tensor(shape: [1, 1, 1, 1], data: [5]))
        XCTAssertEqual(loss.item, 4, accuracy: 1e-6)
    }

    /// Pre-training learns to redraw the images (the epoch loss falls far below its start), trains
    /// the vision encoder and leaves the language model as it was.
    func testPretrainingLearnsToRedrawTheImagesAndTouchesOnlyTheEncoder() throws {
        let items = try brightHalfItems()
        let system = Self.tinySystem(head: .generate, questions: items.map(\.question), answers: items.map(\.answer))
        var loader = system.loader
        loader.log = { _ in }
        let set = loader.load(items, split: "train")
        let words = system.model.tokenEmbedding.weight.data, stem = system.model.visionEncoder.parameters()[0].data
        var options = VQATrainingOptions()
        options.learningRate = 3e-3; options.weightDecay = 0; options.autoencoderPretrainEpochs = 150; options.warmupSteps = 0
        var lines: [String] = []
        try VQATrainer(system, options: options, folder: dir, log: { lines.append($0) }).pretrainAutoencoder(set)
        let losses = lines.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        XCTAssertEqual(losses.count, 150, lines.joined(separator: "\n"))
        let late = losses.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(late, 0.25 * losses.first!, "first epoch \(losses.first!), last ten \(late) on average")
        XCTAssertEqual(system.model.tokenEmbedding.weight.data, words, "the language model waits")
        XCTAssertNotEqual(system.model.visionEncoder.parameters()[0].data, stem)
    }
}
