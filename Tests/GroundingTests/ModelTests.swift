import Tensor
import XCTest

@testable import Grounding

final class ModelTests: XCTestCase {
    func smallConfig(_ experts: GroundingConfig.Experts) -> GroundingConfig {
        var c = GroundingConfig()
        c.dModel = 16; c.heads = 2; c.channels = [8, 8, 16, 16, 16]; c.textLayers = 1
        c.modalities = ["CT", "X-ray"]; c.experts = experts
        return c
    }

    func testForwardShapesPriorAndGradients() throws {
        let tokenizer = SubwordTokenizer(learningFrom: ["nodule", "pleural effusion", "heart", "nodule", "heart"], merges: 30)
        let prompt = try GroundingPrompt(parsing: "nodule. pleural effusion. heart.", tokenizer: tokenizer)
        let model = MedGLIPModel(smallConfig(.perModality), vocabulary: tokenizer.count, seed: 1)
        let images = Tensor.randn([2, 3, 64, 64], rng: RandomGenerator(seed: 2))
        let out = try model.forward(images: images, modality: "X-ray", promptIDs: prompt.tokenIDs)
        let points = 8 * 8 + 4 * 4 + 2 * 2
        XCTAssertEqual(out.logits.shape, [2, points, prompt.tokenIDs.count])
        XCTAssertEqual(out.ltrb.shape, [2, points, 4])
        XCTAssertEqual(out.centerness.shape, [2, points])
        XCTAssertTrue(out.ltrb.data.allSatisfy { $0 >= 0 }, "distances are non-negative")
        // At initialisation every token's probability sits near the focal prior 0.01.
        let probs = out.logits.data.map { 1 / (1 + exp(-$0)) }
        XCTAssertEqual(probs.reduce(0, +) / Float(probs.count), 0.01, accuracy: 0.01)
        // Gradients reach the language encoder, the fusion and the right expert only.
        (out.logits.sum() + out.ltrb.sum() + out.centerness.sum()).backward()
        XCTAssertNotNil(model.language.tokens.weight.grad)
        XCTAssertNotNil(model.imageEncoders[1].stem.weight.grad, "the X-ray expert learns")
        XCTAssertNil(model.imageEncoders[0].stem.weight.grad, "the CT expert is untouched")
        XCTAssertNotNil(model.head.logScale.grad)
    }

    func testSharedExpertAndUnknownModality() throws {
        let shared = MedGLIPModel(smallConfig(.shared), vocabulary: 40, seed: 1)
        XCTAssertEqual(shared.imageEncoders.count, 1)
        XCTAssertNoThrow(try shared.expert("MRI"))
        let experts = MedGLIPModel(smallConfig(.perModality), vocabulary: 40, seed: 1)
        XCTAssertEqual(experts.imageEncoders.count, 2)
        XCTAssertThrowsError(try experts.expert("MRI")) { XCTAssertTrue("\($0)".contains("modality 'MRI' has no image encoder"), "\($0)") }
        XCTAssertTrue(experts.namedParameters().map(\.0).contains("image_encoders.1.stem.weight"))
    }

    /// A stride-4 level adds a 16x16 map on a 64 px image, and the point grid agrees with the head.
    func testStrideFourLevel() throws {
        var config = smallConfig(.perModality)
        config.strides = [4, 8, 16, 32]
        XCTAssertEqual(config.stageStrides, [4, 8, 16, 32])
        let tokenizer = SubwordTokenizer(learningFrom: ["nodule", "heart"], merges: 10)
        let prompt = try GroundingPrompt(parsing: "nodule. heart.", tokenizer: tokenizer)
        let model = MedGLIPModel(config, vocabulary: tokenizer.count, seed: 3)
        let levels = model.imageEncoders[0].forward(Tensor.randn([1, 3, 64, 64], rng: RandomGenerator(seed: 4)))
        XCTAssertEqual(levels.map { $0.shape }, [[1, 16, 16, 16], [1, 16, 8, 8], [1, 16, 4, 4], [1, 16, 2, 2]])
        let out = try model.forward(images: Tensor.randn([1, 3, 64, 64], rng: RandomGenerator(seed: 5)), modality: "CT", promptIDs: prompt.tokenIDs)
        XCTAssertEqual(out.ltrb.shape[1], PointGrid(imageWidth: 64, imageHeight: 64, strides: config.strides).count)
        XCTAssertEqual(out.ltrb.shape[1], 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2)
    }
}
