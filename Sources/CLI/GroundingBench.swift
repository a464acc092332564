import ArgumentParser
import Foundation
import Grounding
import Imaging
import Tensor

/// `medglip bench grounding`: inference latency for one 256x256 image and training throughput of
/// the default Med-GLIP configuration (untrained weights: speed does not depend on them).
struct GroundingBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grounding", abstract: "Time grounding inference and training.")

    @Option(help: "Input size in pixels.") var imageSize = 256
    @Option(help: "Images per training batch.") var batchSize = 8
    @Option(help: "Seconds per measurement (median of repeated runs).") var seconds: Double = 3
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try GroundTrain.validateImageSize(imageSize)
        try Check.atLeast(batchSize, 1, "--batch-size")
        try Check.positive(seconds, "--seconds")
    }

    func run() throws {
        try threadOptions.apply()
        let phrases = ["nodule", "mass", "pleural effusion", "pneumothorax", "consolidation", "heart", "right lung", "left lung"]
        var config = GroundingConfig()
        config.modalities = ["X-ray"]
        let run = GroundingRunConfig(
            model: config, imageSize: imageSize, prompts: ["X-ray": phrases],
            tokenizer: SubwordTokenizer(learningFrom: phrases + phrases))
        let grounder = try Grounder(run, seed: 0)
        let rng = RandomGenerator(seed: 1)
        let image = Image(width: imageSize, height: imageSize, channels: 1, pixels: (0..<(imageSize * imageSize)).map { _ in rng.uniform() })
        let prompt = phrases.joined(separator: ". ") + "."
        let inference = medianSeconds(seconds) { _ = try? grounder.predict(image: image, prompt: prompt, modality: "X-ray") }
        let step = try grounder.trainingStepTimer(batchSize: batchSize, rng: rng)
        let training = medianSeconds(seconds) { step() }
        let rows: [(String, Double, String)] = [
            ("inference_ms", inference * 1e3, "ms per \(imageSize)x\(imageSize) image, \(phrases.count)-phrase prompt"),
            ("train_images_per_s", Double(batchSize) / training, "images/s, forward + backward + AdamW step, batch \(batchSize)"),
            ("parameters", Double(grounder.model.parameterCount), "parameters (one expert)"),
            ("threads", Double(Threads.count), "threads")
        ]
        if json {
            print("{" + rows.map { "\"\($0.0)\": \(String(format: "%.3f", $0.1))" }.joined(separator: ", ") + "}")
        } else {
            for (n, v, w) in rows { print(n.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%12.2f  ", v) + w) }
        }
    }
}
