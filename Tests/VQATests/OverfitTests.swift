import Datasets
import Foundation
import Tensor
import XCTest

@testable import VQA

/// A tiny model must learn four questions about two images exactly; the answers depend on the
/// image (same question, different answer), so the image path has to work.
final class OverfitTests: VQATestCase {
    func items() throws -> [VQAItem] {
        try writeImage("a.png", left: 0.9, right: 0.1)
        try writeImage("b.png", left: 0.1, right: 0.9)
        let qa = [
            ("a.png", "Which side is brighter?", "left lung", AnswerType.open), ("a.png", "Is the left side bright?", "yes", .closed),
            ("b.png", "Which side is brighter?", "right kidney", .open), ("b.png", "Is the left side bright?", "no", .closed)
        ]
        return qa.enumerated().map { i, x in
            VQAItem(
                qid: "\(i)", imageName: x.0, imageURL: dir.appendingPathComponent(x.0), question: x.1, answer: x.2, answerType: x.3,
                category: "Position")
        }
    }

    func overfit(_ head: VQAHead) throws {
        let items = try items()
        let system = Self.tinySystem(head: head, questions: items.map(\.question), answers: items.map(\.answer), seed: 1)
        var loader = system.loader
        loader.log = { _ in }
        let set = loader.load(items, split: "train")
        XCTAssertEqual(set.count, 4)
        var options = VQATrainingOptions()
        options.learningRate = 3e-3; options.weightDecay = 0
        let trainer = VQATrainer(system, options: options, folder: dir, log: { _ in })
        var loss: Float = .infinity
        for _ in 0..<150 { loss = try trainer.step(set, Array(0..<4), rng: nil) }
        XCTAssertLessThan(loss, 0.05, "\(head) head did not fit four questions")
        XCTAssertEqual(system.predict(set), ["left lung", "yes", "right kidney", "no"])
        let scores = VQAScores(set.examples, predictions: system.predict(set))
        XCTAssertEqual(scores.overall.closedAccuracy, 1)
        XCTAssertEqual(scores.overall.openRecall, 1)
    }

    func testGenerateHeadOverfits() throws { try overfit(.generate) }
    func testClassifyHeadOverfits() throws { try overfit(.classify) }

    /// An epoch writes the run folder (best and last weights, history, finished flag); a new trainer
    /// resumes from it and continues with the next epoch.
    func testTrainWritesRunFolderAndResumes() throws {
        let items = try items()
        let system = Self.tinySystem(head: .generate, questions: items.map(\.question), answers: items.map(\.answer), seed: 2)
        var loader = system.loader
        loader.log = { _ in }
        let set = loader.load(items, split: "train")
        let run = dir.appendingPathComponent("run")
        var options = VQATrainingOptions()
        options.epochs = 1
        try VQATrainer(system, options: options, folder: run, log: { _ in }).train(set, validation: set)
        for file in [
            "config.json", "vocabulary.json", "model.safetensors", "last.safetensors", "optimizer.safetensors", "history.json", "finished.json"
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), file)
        }
        options.epochs = 2
        let reloaded = try VQASystem(runFolder: run, weights: "last.safetensors")
        XCTAssertEqual(reloaded.vocabulary, system.vocabulary)
        let trainer = VQATrainer(reloaded, options: options, folder: run, log: { _ in })
        try trainer.resume()
        XCTAssertEqual(trainer.history.count, 1)
        try trainer.train(set, validation: set)
        XCTAssertEqual(trainer.history.map(\.epoch), [1, 2])
    }
}
