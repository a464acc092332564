import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import VQA

/// A scratch folder per test, removed afterwards, and a tiny model configuration.
class VQATestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-vqa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ text: String, _ relative: String) throws -> URL {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// A gray image whose left half is `left` and right half `right`.
    func writeImage(_ relative: String, left: Float, right: Float, size: Int = 24) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let pixels = (0..<(size * size)).map { $0 % size < size / 2 ? left : right }
        try ImageIO.writePNG(Image(width: size, height: size, channels: 1, pixels: pixels), to: url)
    }

    /// Two images with the bright half on opposite sides (a.png left, b.png right), one question each.
    func brightHalfItems() throws -> [VQAItem] {
        try writeImage("a.png", left: 0.9, right: 0.1)
        try writeImage("b.png", left: 0.1, right: 0.9)
        return ["a.png", "b.png"].enumerated().map { i, name in
            VQAItem(
                qid: "\(i)", imageName: name, imageURL: dir.appendingPathComponent(name), question: "Is it bright?", answer: "yes",
                answerType: .closed, category: "Color")
        }
    }

    static let template = ConversationTemplate(system: "Answer briefly.", human: "Human: <image>\n{question}", assistant: "Assistant: {answer}")

    /// 16 px input, a 4x4 patch grid, width 16: trains in a second.
    static var tinyConfig: VQAConfig {
        var c = VQAConfig()
        c.imageSize = 16; c.channels = [8, 8]; c.dModel = 16; c.dFF = 32; c.heads = 2; c.layers = 2; c.dropout = 0
        c.maxQuestionTokens = 12; c.maxAnswerTokens = 4
        return c
    }

    static func tinySystem(head: VQAHead, questions: [String], answers: [String], seed: UInt64 = 0) -> VQASystem {
        let vocabulary = VQAVocabulary(questions: questions, answers: answers, extraText: template.words)
        let run = VQARunConfig(
            model: tinyConfig, head: head, dataset: .slake, dataDir: "", seed: seed, epochs: 1, template: template,
            maxPositions: VQASystem.maxPositions(tinyConfig, template: template, vocabulary: vocabulary))
        return VQASystem(run, vocabulary: vocabulary)
    }

    /// The plain forward pass: every row's whole fused sequence through the causal layers, no
    /// sharing (the reference for cached decoding and for the shared-prefix training pass).
    static func fullHidden(_ model: VQAModel, _ rows: [[Int]], image: Tensor) -> Tensor {
        let slot = rows[0].firstIndex(of: VQAVocabulary.image)!
        let x = model.fuse(rows, imageTokens: image, slot: slot)
        let t = x.shape[1]
        let future = Tensor((0..<(t * t)).map { $0 % t > $0 / t ? -Float.infinity : 0 }, shape: [1, 1, t, t])
        let mask = future + model.paddingMask(rows, imageTokens: image.shape[1], slot: slot)
        return model.finalNorm(model.layers.reduce(x) { $1.forward($0, mask: mask) })
    }

    static func fullHidden(_ model: VQAModel, _ ids: [Int], image: Tensor) -> Tensor { fullHidden(model, [ids], image: image) }
}
