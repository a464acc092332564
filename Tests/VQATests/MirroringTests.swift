import Datasets
import Foundation
import Imaging
import Injection
import XCTest

@testable import VQA

/// Mirroring for training: only images whose text names no side, and the pixels and boxes flip together.
final class MirroringTests: VQATestCase {
    func testImagesNamingASideAreNeverMirrored() throws {
        var items = try brightHalfItems()
        items[1] = VQAItem(
            qid: "1", imageName: "b.png", imageURL: items[1].imageURL, question: "Is the left lung bright?", answer: "yes",
            answerType: .closed, category: "Position")
        let system = Self.tinySystem(head: .generate, questions: items.map(\.question), answers: items.map(\.answer))
        let set = system.loader.load(items, split: "train")
        XCTAssertEqual(set.mirrorable, [true, false])
    }

    func testMirroredPixelsAreTheImageFlipped() throws {
        let items = try brightHalfItems()
        let system = Self.tinySystem(head: .generate, questions: items.map(\.question), answers: items.map(\.answer))
        let set = system.loader.load(items, split: "train")
        let s = system.run.model.imageSize, centre = (set.side - s) / 2
        let plain = set.pixels([0], size: s, crops: [(centre, centre)]).data
        let mirrored = set.pixels([0], size: s, crops: [(centre, centre)], mirrored: [true]).data
        XCTAssertGreaterThan(plain[0], plain[s - 1], "a.png is bright on the left")
        XCTAssertLessThan(mirrored[0], mirrored[s - 1], "and on the right once mirrored")
        let box = GroundedRegion(phrase: "nodule", score: 1, box: Box(x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4))
        XCTAssertEqual(VQATrainer.mirror([box], true)[0].box, Box(x1: 0.7, y1: 0.2, x2: 0.9, y2: 0.4))
        XCTAssertEqual(VQATrainer.mirror([box], false)[0].box, box.box)
    }
}
