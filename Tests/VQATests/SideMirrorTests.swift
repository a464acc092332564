import Foundation
import XCTest
import Datasets
import Injection
import Tensor
@testable import VQA

final class SideMirrorTests: VQATestCase {
    func testSidesSwapInTextIdsClassesAndRegions() {
        XCTAssertEqual(SideMirror.swapSides("Is the nodule on the patient's left side?"), "is the nodule on the patient's right side?")
        XCTAssertEqual(SideMirror.swapSides("left lung, right lung"), "right lung, left lung")
        let vocabulary = VQAVocabulary(questions: ["Is the left lung bigger than the right lung?"], answers: ["Left", "Right", "yes", "left lung"])
        let mirror = SideMirror(vocabulary: vocabulary)
        XCTAssertEqual(mirror.ids(vocabulary.encode("is the left lung bigger than the right lung ?")),
                       vocabulary.encode("is the right lung bigger than the left lung ?"))
        XCTAssertEqual(mirror.answerClass(vocabulary.answerClass("Left")!), vocabulary.answerClass("right"))
        XCTAssertEqual(mirror.answerClass(vocabulary.answerClass("yes")!), vocabulary.answerClass("yes"))
        // "right lung" is not an answer class: a class without a mirrored partner stays itself.
        XCTAssertEqual(mirror.answerClass(vocabulary.answerClass("left lung")!), vocabulary.answerClass("left lung"))
        let region = SideMirror.region(GroundedRegion(phrase: "left lung", score: 0.9, box: [0.1, 0.2, 0.3, 0.4]))
        XCTAssertEqual(region.phrase, "right lung")
        XCTAssertEqual(region.box[0], 0.7, accuracy: 1e-6)
        XCTAssertEqual(region.box[2], 0.9, accuracy: 1e-6)
        XCTAssertEqual([region.box[1], region.box[3]], [0.2, 0.4])
    }

    func testMirroredPixelsAreFlippedLeftToRight() {
        let side = 4
        let plane = (0..<(side * side)).map { Float($0) }
        let set = VQASet(examples: [], images: [plane], regions: [[]], side: side, skipped: [])
        let plain = set.pixels([0], size: side, rng: nil), flipped = set.pixels([0], size: side, rng: nil, mirrored: [0])
        for y in 0..<side { for x in 0..<side { XCTAssertEqual(flipped.data[y * side + x], plain.data[y * side + side - 1 - x]) } }
    }

    /// Trained only on mirrored copies, the model still answers the original images correctly: the
    /// mirrored world is consistent (flip the pixels and swap the words, and every answer stays true).
    /// Flipping the pixels alone would teach it the opposite side.
    func testTrainingOnMirroredCopiesOnlyStillAnswersTheOriginals() throws {
        try writeImage("a.png", left: 0.9, right: 0.1)
        try writeImage("b.png", left: 0.1, right: 0.9)
        // Both sides are asked about, so the mirrored copies still show the model both words.
        let qa = [("a.png", "Which side is brighter?", "left", AnswerType.open), ("a.png", "Is the left side bright?", "yes", .closed),
                  ("a.png", "Is the right side bright?", "no", .closed), ("b.png", "Which side is brighter?", "right", .open),
                  ("b.png", "Is the left side bright?", "no", .closed), ("b.png", "Is the right side bright?", "yes", .closed)]
        let items = qa.enumerated().map { i, x in
            VQAItem(qid: "\(i)", imageName: x.0, imageURL: dir.appendingPathComponent(x.0), question: x.1, answer: x.2, answerType: x.3, category: "Position")
        }
        var system = Self.tinySystem(head: .generate, questions: items.map(\.question), answers: items.map(\.answer), seed: 3)
        var run = system.run
        run.mirrorChance = 1
        system = VQASystem(run, vocabulary: system.vocabulary)
        var loader = system.loader
        loader.log = { _ in }
        let set = loader.load(items, split: "train")
        var options = VQATrainingOptions()
        options.learningRate = 3e-3; options.weightDecay = 0
        let trainer = VQATrainer(system, options: options, folder: dir, log: { _ in })
        let rng = RandomGenerator(seed: 4)
        for _ in 0..<200 { _ = try trainer.step(set, Array(0..<6), rng: rng) }
        XCTAssertEqual(system.predict(set), ["left", "yes", "no", "right", "no", "yes"])
    }
}
