import Datasets
import Foundation
import Imaging
import Metrics
import Tensor
import XCTest

@testable import ReportGen

final class ReportTrainingTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mrg-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    static let reports = [
        "The heart is normal. The lungs are clear.", "Small left pleural effusion.", "Large right effusion. Heart is enlarged.",
        "Right upper lobe nodule.", "No acute disease.", "Cardiomegaly. No effusion.", "Left lower lobe consolidation.",
        "Pneumothorax on the right."
    ]

    /// Eight studies whose two views are distinct random textures.
    static func examples(_ generator: ReportGenerator) -> [ReportExample] {
        let l = generator.loader.loadSize
        return Self.reports.enumerated().map { i, report in
            let rng = RandomGenerator(seed: UInt64(100 + i))
            return ReportExample(
                id: "S\(i)", report: report,
                sequence: generator.tokenizer.encode(report, maxLength: 60),
                pixels: (0..<(2 * l * l)).map { _ in rng.uniform() },
                labels: (0..<14).map { Float(($0 + i) % 3 == 0 ? 1 : 0) })
        }
    }

    func testOverfitsEightStudiesToTheirReports() throws {
        let tokenizer = ReportTokenizer(trainingReports: Self.reports, dataset: .iuXray, threshold: 1)
        let generator = ReportGenerator(ReportRunConfig(model: tinyConfig(), dataDir: "", seed: 0), tokenizer: tokenizer)
        let data = Self.examples(generator)
        let optimizer = Adam([ParamGroup(generator.model.parameters(), lr: 1e-2)])
        for _ in 0..<120 {
            let encoded = generator.model.encode(generator.model.attentionFeatures(generator.loader.batch(data, rngs: nil), views: 2))
            let loss = generator.model.loss(encoded: encoded, sequences: data.map(\.sequence))
            optimizer.zeroGrad(); loss.backward(); optimizer.step()
        }
        let generated = generator.generate(data)
        let exact = zip(generated, data).filter { $0 == generator.reference($1) }.count
        XCTAssertGreaterThanOrEqual(exact, 7, "generated: \(generated)")
    }

    /// Writes an R2Gen-layout dataset: study A complete, B missing its lateral view, C with a corrupt frontal view.
    func writeDataset(emptyReport: Bool = false) throws -> ReportDataset {
        let images = scratch.appendingPathComponent("images")
        for id in ["A", "B", "C"] {
            try FileManager.default.createDirectory(at: images.appendingPathComponent(id), withIntermediateDirectories: true)
        }
        let image = Image(width: 40, height: 40, channels: 1, fill: 0.5)
        try ImageIO.writePNG(image, to: images.appendingPathComponent("A/0.png"))
        try ImageIO.writePNG(image, to: images.appendingPathComponent("A/1.png"))
        try ImageIO.writePNG(image, to: images.appendingPathComponent("B/0.png"))
        try Data("not a png".utf8).write(to: images.appendingPathComponent("C/0.png"))
        try ImageIO.writePNG(image, to: images.appendingPathComponent("C/1.png"))
        let studies = ["A", "B", "C"].map {
            ReportStudy(
                id: $0, report: emptyReport && $0 == "B" ? " .. " : "Heart normal.", imagePaths: ["\($0)/0.png", "\($0)/1.png"], split: "train")
        }
        let dataset = ReportDataset(train: studies, val: [], test: [], imagesRoot: images)
        try R2Gen.write(dataset, to: scratch.appendingPathComponent("annotation.json"))
        return try R2Gen.read(scratch.appendingPathComponent("annotation.json"), viewsPerStudy: 2)
    }

    func loader() -> ReportLoader {
        var l = ReportLoader(config: tinyConfig(), tokenizer: ReportTokenizer(trainingReports: ["heart normal"], dataset: .iuXray, threshold: 1))
        l.log = { _ in }
        return l
    }

    func testUnreadableImagesFailListingEveryStudy() throws {
        let dataset = try writeDataset()
        XCTAssertThrowsError(try loader().load(dataset.train, from: dataset, split: "train")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("study B (train)") && text.contains("B/1.png"), text)
            XCTAssertTrue(text.contains("study C (train)") && text.contains("C/0.png"), text)
            XCTAssertFalse(text.contains("study A"), text)
            XCTAssertTrue(text.contains("--on-missing skip"), text)
        }
    }

    func testSkipPolicyKeepsTheReadableStudiesAndSaysWhatItSkipped() throws {
        let dataset = try writeDataset()
        var l = loader()
        l.onMissing = .skip
        var lines: [String] = []
        l.log = { lines.append($0) }
        let loaded = try l.load(dataset.train, from: dataset, split: "train")
        XCTAssertEqual(loaded.map(\.id), ["A"])
        XCTAssertEqual(loaded[0].pixels.count, 2 * l.loadSize * l.loadSize)
        XCTAssertTrue(lines.contains { $0.contains("skipped 2 of 3 train studies") }, "\(lines)")
    }

    func testEmptyReportIsRejectedWithItsID() throws {
        let dataset = try writeDataset(emptyReport: true)
        XCTAssertThrowsError(try loader().load(dataset.train, from: dataset, split: "train")) { error in
            XCTAssertTrue("\(error)".contains("study B (train): the report is empty"), "\(error)")
        }
    }

    func testNaNLossStopsTrainingAndKeepsTheSavedWeights() throws {
        let tokenizer = ReportTokenizer(trainingReports: Self.reports, dataset: .iuXray, threshold: 1)
        let generator = ReportGenerator(ReportRunConfig(model: tinyConfig(), dataDir: "", seed: 0), tokenizer: tokenizer)
        var options = ReportTrainingOptions()
        options.epochs = 2; options.batchSize = 2
        // A learning rate this large sends the weights to infinity after the first step.
        options.learningRate = 1e30; options.visualLearningRate = 1e30; options.clipValue = 1e30
        let folder = scratch.appendingPathComponent("run")
        let trainer = try ReportTrainer(generator, options: options, folder: folder, log: { _ in })
        let data = Self.examples(generator)
        XCTAssertThrowsError(try trainer.train(data, validation: data)) { error in
            XCTAssertTrue("\(error)".contains("loss became"), "\(error)")
        }
        let restored = try ReportGenerator(runFolder: folder)
        XCTAssertTrue(restored.model.parameters().allSatisfy { $0.data.allSatisfy(\.isFinite) })
    }

    func testResumeContinuesFromTheLastEpoch() throws {
        let tokenizer = ReportTokenizer(trainingReports: Self.reports, dataset: .iuXray, threshold: 1)
        var options = ReportTrainingOptions()
        options.epochs = 1; options.batchSize = 4
        let folder = scratch.appendingPathComponent("run")
        let first = ReportGenerator(ReportRunConfig(model: tinyConfig(), dataDir: "", seed: 0), tokenizer: tokenizer)
        let data = Self.examples(first)
        try ReportTrainer(first, options: options, folder: folder, log: { _ in }).train(data, validation: data)
        options.epochs = 2
        let again = try ReportGenerator(runFolder: folder, weights: "last.safetensors")
        let trainer = try ReportTrainer(again, options: options, folder: folder, log: { _ in })
        try trainer.resume()
        XCTAssertEqual(trainer.history.map(\.epoch), [1])
        try trainer.train(data, validation: data)
        XCTAssertEqual(trainer.history.map(\.epoch), [1, 2])
        XCTAssertEqual(try decodeJSON([ReportTrainer.EpochRecord].self, from: folder.appendingPathComponent("history.json")).count, 2)
    }

    /// `--select-on last`: model.safetensors is the final epoch's, whatever validation says.
    func testFinalEpochRuleKeepsTheLastWeights() throws {
        let tokenizer = ReportTokenizer(trainingReports: Self.reports, dataset: .iuXray, threshold: 1)
        var options = ReportTrainingOptions()
        options.epochs = 2; options.batchSize = 4; options.selectionMetric = ReportTrainingOptions.finalEpoch
        let folder = scratch.appendingPathComponent("run-last")
        let generator = ReportGenerator(ReportRunConfig(model: tinyConfig(), dataDir: "", seed: 0), tokenizer: tokenizer)
        let data = Self.examples(generator)
        try ReportTrainer(generator, options: options, folder: folder, log: { _ in }).train(data, validation: data)
        let best = try SafeTensors.read(folder.appendingPathComponent("model.safetensors"))
        let last = try SafeTensors.read(folder.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(best.metadata["epoch"], "2")
        XCTAssertEqual(Set(best.tensors.keys), Set(last.tensors.keys))
        for (name, t) in best.tensors { XCTAssertEqual(t.data, last.tensors[name]!.data, name) }
    }

    /// `--select-on` accepts exactly the names a validation pass records.
    func testSelectableNamesAreTheValidationMetrics() throws {
        let scores = ReportScores.compute(
            references: ["a": "the heart is enlarged .", "b": "no pleural effusion ."],
            hypotheses: ["a": "the heart is normal .", "b": "small pleural effusion ."], labeler: try CheXpertLabeler())
        XCTAssertEqual(Set(ReportScores.names), Set(scores.flat.keys))
        XCTAssertTrue(ReportScores.names.contains("CE_micro_F1_negative"))
        // A sum weighs language and clinical content alike; a misspelt part is named.
        XCTAssertEqual(
            ReportScores.selectionScore("BLEU_4+CE_micro_F1_negative", scores.flat),
            scores.flat["BLEU_4"]! + scores.flat["CE_micro_F1_negative"]!, accuracy: 1e-12)
        XCTAssertEqual(ReportScores.selectionScore("BLEU_4", ["BLEU_4": 0.4, "METEOR": 0.3]), 0.4)
        XCTAssertEqual(ReportScores.unknownNames(inSelection: "BLEU_4+CE_micro_F1_negative"), [])
        XCTAssertEqual(ReportScores.unknownNames(inSelection: "BLEU_4+CE_F1"), ["CE_F1"])
        XCTAssertEqual(ReportScores.unknownNames(inSelection: "BLEU_4+"), [""])
    }
}
