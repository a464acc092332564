import Injection
import Synthetic
import XCTest

@testable import CLI
@testable import VQA

/// `vqa-train --localization-pretrain-data DIR`: the folder's images and boxes load for
/// pre-training, and a folder holding a validation or test image is refused.
final class LocalizationPretrainDataTests: XCTestCase {
    static func corpus(_ name: String, seed: UInt64) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "medglip-pretrain-data-\(ProcessInfo.processInfo.processIdentifier)/\(name)")
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("test.json").path) {
            try SlakeCorpus.generate(to: dir, count: 6, size: 64, seed: seed)
        }
        return dir
    }

    func loader(for splits: VQASplits) throws -> VQALoader {
        let template = ConversationTemplate(system: "Answer briefly.", human: "Human: <image>\n{question}", assistant: "Assistant: {answer}")
        let vocabulary = VQAVocabulary(questions: splits.train.map(\.question), answers: splits.train.map(\.answer), extraText: template.words)
        var config = VQAConfig()
        config.imageSize = 32
        var loader = VQALoader(config: config, vocabulary: vocabulary, template: template)
        loader.log = { _ in }
        return loader
    }

    func testAnotherSeedsImagesLoadWithTheirBoxes() throws {
        let data = try VQASplits.read(.slake, root: Self.corpus("data", seed: 3))
        let set = try VQATrain.pretrainingImages(Self.corpus("other", seed: 4), loader: loader(for: data), heldOut: data.val + data.test)
        XCTAssertEqual(set.imageCount, 6, "every image of every split")
        XCTAssertEqual(set.boxes.count, 6)
        let inUnitSquare = { (r: GroundedRegion) in r.box.corners.allSatisfy { (0...1).contains($0) } }
        XCTAssertTrue(
            set.boxes.allSatisfy { regions in !regions.isEmpty && regions.allSatisfy(inUnitSquare) },
            "each image's detection.json boxes, in [0, 1]")
    }

    func testAFolderHoldingAHeldOutImageIsRefused() throws {
        let data = try VQASplits.read(.slake, root: Self.corpus("data", seed: 3))
        // The same seed renders the same images: the test split's would be pre-trained on.
        XCTAssertThrowsError(try VQATrain.pretrainingImages(Self.corpus("same", seed: 3), loader: loader(for: data), heldOut: data.test)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("is the same image as") && message.contains("another --seed"), message)
            XCTAssertTrue(data.test.contains { message.contains($0.imageURL.standardizedFileURL.path) }, "names the held-out image: \(message)")
        }
    }

    func testAFolderWithoutBoxesIsRefused() throws {
        let dir = try Self.corpus("noboxes", seed: 5)
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("imgs/xmlab2/detection.json"))
        let data = try VQASplits.read(.slake, root: Self.corpus("data", seed: 3))
        XCTAssertThrowsError(try VQATrain.pretrainingImages(dir, loader: loader(for: data), heldOut: data.test)) { error in
            XCTAssertTrue("\(error)".contains("xmlab2/detection.json is missing"), "\(error)")
        }
    }
}
