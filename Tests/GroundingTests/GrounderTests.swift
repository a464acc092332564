import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Grounding

final class GrounderTests: XCTestCase {
    func split(_ dir: URL) throws -> GroundingSplit {
        var samples: [GroundingSample] = []
        for i in 0..<3 {
            var img = Image(width: 80, height: 60, channels: 1)
            for y in 20..<40 { for x in (10 + 10 * i)..<(30 + 10 * i) { img[0, y, x] = 1 } }
            let url = dir.appendingPathComponent("img\(i).png")
            try ImageIO.writePNG(img, to: url)
            samples.append(
                GroundingSample(
                    imageID: i + 1, imageURL: url, width: 80, height: 60, modality: i == 2 ? "MRI" : "CT",
                    regions: [
                        LabeledBox(label: i == 2 ? "tumor" : "lesion", box: Box(x1: Float(10 + 10 * i), y1: 20, x2: Float(30 + 10 * i), y2: 40))
                    ]))
        }
        return GroundingSplit(samples: samples, categories: [Datasets.Category(id: 1, name: "lesion"), Datasets.Category(id: 2, name: "tumor")])
    }

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-grounder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func tinyConfig() -> GroundingConfig {
        var config = GroundingConfig()
        config.dModel = 16; config.heads = 2; config.channels = [8, 8, 16, 16, 16]; config.textLayers = 1
        return config
    }

    func testRunFolderRoundTripAndClearErrors() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try split(dir)
        let config = tinyConfig()
        let g = try Grounder(for: data, config: config, imageSize: 64, seed: 4)
        XCTAssertEqual(g.run.model.modalities, ["CT", "MRI"])
        XCTAssertEqual(g.run.prompts["MRI"], ["tumor"])
        let before = try g.detect(data.samples)
        XCTAssertEqual(before.count, 3)
        let run = dir.appendingPathComponent("run")
        try g.save(to: run)
        let loaded = try Grounder(runFolder: run)
        XCTAssertEqual(try loaded.detect(data.samples), before, "a saved run detects exactly as before")
        // The same weights at another input size: a finer point grid, boxes still in image pixels.
        let larger = try Grounder(runFolder: run, imageSize: 96)
        XCTAssertEqual(larger.run.imageSize, 96)
        XCTAssertEqual(larger.grid.count, g.grid.count * 9 / 4)
        XCTAssertTrue(try larger.detect(data.samples).allSatisfy { $0.allSatisfy { $0.box.x2 <= 80.5 && $0.box.y2 <= 60.5 } })
        let (overall, perModality, detections) = try loaded.evaluate(data.samples, categories: data.categories)
        XCTAssertEqual(detections, before, "evaluation returns the detections it scored")
        XCTAssertEqual(Set(perModality.keys), ["CT", "MRI"])
        XCTAssertTrue((-1...1).contains(overall[stat: "AP"]!))
        // Weights from a model with another vocabulary are refused, naming what does not fit.
        var other = config
        other.dModel = 24
        let wrong = try Grounder(GroundingRunConfig(model: other, imageSize: 64, prompts: g.run.prompts, tokenizer: g.run.tokenizer), seed: 0)
        XCTAssertThrowsError(try wrong.model.load(from: run.appendingPathComponent("model.safetensors"))) {
            XCTAssertTrue("\($0)".contains("mis-shaped"), "\($0)")
        }
        XCTAssertThrowsError(try loaded.predict(image: Image(width: 8, height: 8, channels: 1), prompt: " . ", modality: "CT")) {
            XCTAssertEqual("\($0)", "prompt: no phrases to ground")
        }
        XCTAssertThrowsError(try loaded.predict(image: Image(width: 8, height: 8, channels: 1), prompt: "tumor", modality: "X-ray")) {
            XCTAssertTrue("\($0)".contains("modality 'X-ray' has no image encoder"), "\($0)")
        }
    }

    /// Fine-tuning from a run on data with labels its prompts lack would drop those boxes from the
    /// targets; the check names each modality's missing labels instead.
    func testPromptCoverageNamesMissingLabels() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try split(dir)
        let g = try Grounder(for: data, config: tinyConfig(), imageSize: 64, seed: 4)
        XCTAssertNoThrow(try g.checkPromptsCover(data.samples))
        var extra = data.samples
        extra[0].regions.append(LabeledBox(label: "cyst", box: Box(x1: 1, y1: 1, x2: 5, y2: 5)))
        extra[2].modality = "X-ray"
        XCTAssertThrowsError(try g.checkPromptsCover(extra)) {
            XCTAssertEqual("\($0)", "prompt: the model's prompts lack labels of the data (CT: cyst; X-ray: tumor)")
        }
    }

    func testTrainerCheckpointsAndResumes() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try split(dir)
        let config = tinyConfig()
        let run = dir.appendingPathComponent("run")
        var options = GroundingTrainingOptions()
        options.epochs = 2; options.batchSize = 2
        let first = try Grounder(for: data, config: config, imageSize: 64, seed: 4)
        try GroundingTrainer(first, options: options, folder: run, log: { _ in }).train(
            data.samples, validation: data.samples, categories: data.categories)
        for file in ["config.json", "model.safetensors", "last.safetensors", "optimizer.safetensors", "history.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), file)
        }
        // A killed run continues from its last checkpoint: two more epochs make four in the history.
        options.epochs = 4
        let resumed = try Grounder(runFolder: run, weights: "last.safetensors")
        let trainer = GroundingTrainer(resumed, options: options, folder: run, log: { _ in })
        try trainer.resume()
        XCTAssertEqual(trainer.history.count, 2)
        try trainer.train(data.samples, validation: data.samples, categories: data.categories)
        XCTAssertEqual(trainer.history.map(\.epoch), [1, 2, 3, 4])
        XCTAssertTrue(trainer.history.allSatisfy { $0.loss.isFinite })
    }

    /// With repeat-factor sampling on, MRI's lone image is no rarer than CT's two (frequencies are
    /// per modality), so the epoch and the schedule keep three images; training still converges to finite losses.
    func testTrainerWithRepeatFactorSampling() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try split(dir)
        var options = GroundingTrainingOptions()
        options.epochs = 1; options.batchSize = 2; options.repeatThreshold = 0.9
        var lines: [String] = []
        let trainer = GroundingTrainer(
            try Grounder(for: data, config: tinyConfig(), imageSize: 64, seed: 4), options: options,
            folder: dir.appendingPathComponent("run"), log: { lines.append($0) })
        try trainer.train(data.samples, validation: data.samples, categories: data.categories)
        XCTAssertEqual(lines.first, "repeat-factor sampling at 0.9: about 3 images per epoch from 3")
        XCTAssertTrue(trainer.history.allSatisfy { $0.loss.isFinite })
    }
}
