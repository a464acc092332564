import Foundation
import Tensor
import XCTest

@testable import VQA

final class ModelTests: VQATestCase {
    /// Targets are the next tokens after the image slot; only answer tokens and `<eos>` carry loss,
    /// never the prompt or the padding of shorter rows.
    func testTeacherForcingMasksEverythingButTheAnswer() {
        let tf = TeacherForcing(prompts: [[7, 2, 8, 4], [7, 2, 8, 9, 4]], answers: [[10, 5], [11, 12, 5]])
        XCTAssertEqual(tf.slot, 1)
        XCTAssertEqual(tf.inputs, [[7, 2, 8, 4, 10, 5, 0], [7, 2, 8, 9, 4, 11, 12]])
        XCTAssertEqual(tf.targets, [4, 10, 5, 0, 0, 9, 4, 11, 12, 5])
        XCTAssertEqual(tf.mask, [0, 1, 1, 0, 0, 0, 0, 1, 1, 1])
    }

    /// The loss is the mean negative log-likelihood of the answer tokens under a full forward pass.
    func testGenerativeLossIsAnswerTokensOnly() {
        let system = Self.tinySystem(head: .generate, questions: ["Is it big?"], answers: ["yes"])
        let model = system.model
        model.eval()
        let (prompt, _) = Self.template.promptIDs(question: "Is it big?", vocabulary: system.vocabulary, maxQuestionTokens: 12)
        let answer = system.vocabulary.encode("yes") + [VQAVocabulary.endOfAnswer]
        let image = model.imageTokens(Tensor.randn([1, 1, 16, 16], rng: RandomGenerator(seed: 3)))
        let loss = model.generativeLoss(imageTokens: image, prompts: [prompt], answers: [answer]).item
        let p = image.shape[1], v = system.vocabulary.count
        let logProbs = model.output(Self.fullHidden(model, prompt + answer, image: image)).logSoftmax(axis: -1)
        // Text position j (after the slot) sits at fused row j + p - 1; answer token i is predicted at prompt.count - 1 + i.
        let manual = -(0..<answer.count).map { i in logProbs.data[(prompt.count - 1 + i + p - 1) * v + answer[i]] }.reduce(0, +) / Float(answer.count)
        XCTAssertEqual(loss, manual, accuracy: 1e-4)
    }

    /// Greedy decoding with cached keys equals re-running the whole sequence each step, and beam
    /// search finds a sequence at least as likely.
    func testCachedGreedyMatchesFullRecomputeAndBeamIsNoWorse() {
        let system = Self.tinySystem(head: .generate, questions: ["Where is the liver?", "Is it big?"], answers: ["left lung", "yes", "no"], seed: 4)
        let model = system.model
        model.eval()
        // Forbid <eos> so all five steps are compared.
        model.output.bias!.data[VQAVocabulary.endOfAnswer] = -100
        // The second carries a padded hint slot, so the cached key mask is compared too.
        let prompts = [
            Self.template.promptIDs(question: "Where is the liver?", vocabulary: system.vocabulary, maxQuestionTokens: 12).ids,
            Self.template.promptIDs(
                question: "Is it big?", hint: system.vocabulary.encode("liver") + [0, 0, 0], vocabulary: system.vocabulary, maxQuestionTokens: 12
            ).ids
        ]
        let v = system.vocabulary.count
        withNoGrad {
            for prompt in prompts {
                let image = model.imageTokens(Tensor.randn([1, 1, 16, 16], rng: RandomGenerator(seed: UInt64(prompt.count))))
                let greedy = VQADecoding.greedy(model, prompts: [prompt], imageTokens: image, maxTokens: 5)[0]
                XCTAssertEqual(greedy.count, 5)
                var tokens: [Int] = [], score: Float = 0
                for _ in 0..<5 {
                    let lp = model.output(Self.fullHidden(model, prompt + tokens, image: image)).logSoftmax(axis: -1)
                    let last = Array(lp.data[(lp.shape[1] - 1) * v..<lp.shape[1] * v])
                    let best = VQADecoding.argmax(last[...])
                    tokens.append(best); score += last[best]
                }
                XCTAssertEqual(greedy, tokens)
                XCTAssertEqual(VQADecoding.beam(model, prompt: prompt, imageTokens: image, beamSize: 1, maxTokens: 5), greedy)
                let beam = VQADecoding.beam(model, prompt: prompt, imageTokens: image, beamSize: 4, maxTokens: 5)
                var beamScore: Float = 0
                for i in beam.indices {
                    let lp = model.output(Self.fullHidden(model, prompt + Array(beam.prefix(i)), image: image)).logSoftmax(axis: -1)
                    beamScore += lp.data[(lp.shape[1] - 1) * v + beam[i]]
                }
                XCTAssertEqual(beam.count, 5)
                XCTAssertGreaterThanOrEqual(beamScore, score - 1e-4)
            }
        }
    }

    /// Padding in the hint slot is masked: what the pad embedding holds cannot change the answer.
    func testHintPaddingIsNeverAttendedTo() {
        let system = Self.tinySystem(head: .generate, questions: ["Is it big?"], answers: ["yes", "no"], seed: 5)
        let model = system.model
        model.eval()
        let prompt = Self.template.promptIDs(question: "Is it big?", hint: [0, 0, 0, 0], vocabulary: system.vocabulary, maxQuestionTokens: 12).ids
        let image = model.imageTokens(Tensor.randn([1, 1, 16, 16], rng: RandomGenerator(seed: 9)))
        let before = withNoGrad { model.output(Self.fullHidden(model, prompt, image: image)).data.suffix(system.vocabulary.count) }
        let d = model.tokenEmbedding.weight.shape[1]
        // Not a constant shift, which the layer norms would remove anyway.
        for j in 0..<d { model.tokenEmbedding.weight.data[j] += 3 * sin(Float(j)) }
        let after = withNoGrad { model.output(Self.fullHidden(model, prompt, image: image)).data.suffix(system.vocabulary.count) }
        for (a, b) in zip(before, after) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // The unmasked model would have changed: the same edit to a real word's row does.
        let word = system.vocabulary.encode("big")[0]
        for j in 0..<d { model.tokenEmbedding.weight.data[word * d + j] += 3 * sin(Float(j)) }
        let changed = withNoGrad { model.output(Self.fullHidden(model, prompt, image: image)).data.suffix(system.vocabulary.count) }
        XCTAssertGreaterThan(zip(before, changed).map { abs($0 - $1) }.max()!, 1e-3)
    }

    /// The model's hidden states over a whole prompt (+ answer) as training computes them.
    /// Patch centres run row by row, x first, in [-1, 1]; runs saved before `patchCoordinates`
    /// existed load without the coordinate embedding, new ones get it.
    func testPatchCoordinatesAndOldConfigs() throws {
        XCTAssertEqual(VQAModel.patchCentres(grid: 2).data, [-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5])
        XCTAssertEqual(VQAModel.patchCentres(grid: 4).data[2 * 7..<2 * 7 + 2], [0.75, -0.25], "patch 7: column 3, row 1")
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.tinyConfig)) as! [String: Any]
        XCTAssertEqual(json["patchCoordinates"] as? Bool, true)
        json.removeValue(forKey: "patchCoordinates")
        let old = try JSONDecoder().decode(VQAConfig.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertFalse(old.patchCoordinates)
        let roundTrip = try JSONDecoder().decode(VQAConfig.self, from: JSONEncoder().encode(Self.tinyConfig))
        XCTAssertEqual(roundTrip, Self.tinyConfig, "a round trip keeps every field")
        let model = { (config: VQAConfig) in VQAModel(config, head: .generate, vocabularySize: 20, outputs: 20, maxPositions: 200, seed: 1) }
        XCTAssertNil(model(old).coordinates)
        let withCoordinates = model(Self.tinyConfig)
        XCTAssertNotNil(withCoordinates.coordinates)
        // A blank image gives every patch the same features, so tokens differ by the coordinate embedding alone.
        withCoordinates.eval()
        let tokens = withCoordinates.imageTokens(Tensor.zeros([1, 1, 16, 16]))
        let d = tokens.shape[2], w = withCoordinates.coordinates!.weight
        let step = (0..<d).map { tokens.data[d + $0] - tokens.data[$0] }
        let xColumn = (0..<d).map { w.data[$0 * 2] * 2 / Float(Self.tinyConfig.gridSize) }
        for (a, b) in zip(step, xColumn) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// Training runs the prefix (system line, image tokens) once per image and lets each question
    /// attend to it: the states and the gradients must be those of the full sequences.
    func testSharedPrefixMatchesFullSequencesAndTheirGradients() {
        let questions = ["Where is the liver?", "Is it big?", "Which organ is on the left side?"]
        let system = Self.tinySystem(head: .generate, questions: questions, answers: ["left lung", "yes"], seed: 6)
        let model = system.model
        model.eval()
        let prompts = questions.map { Self.template.promptIDs(question: $0, vocabulary: system.vocabulary, maxQuestionTokens: 12).ids }
        let slot = prompts[0].firstIndex(of: VQAVocabulary.image)!
        let t = prompts.map(\.count).max()!
        let padded = prompts.map { $0 + [Int](repeating: VQAVocabulary.pad, count: t - $0.count) }
        XCTAssertNotEqual(prompts[0].count, prompts[2].count, "rows of different lengths, so padding is exercised")
        let images = Tensor.randn([2, 1, 16, 16], rng: RandomGenerator(seed: 8))
        let imageOf = [1, 0, 1]

        let tokens = model.imageTokens(images)
        let shared = model.continuationHidden(padded, imageTokens: tokens, imageOf: imageOf, slot: slot)
        let p = tokens.shape[1]
        let full = Self.fullHidden(model, padded, image: tokens.indexSelect(axis: 0, imageOf)).slice(axis: 1, (slot + p)..<(t + p - 1))
        XCTAssertEqual(shared.shape, full.shape)
        for (a, b) in zip(shared.data, full.data) { XCTAssertEqual(a, b, accuracy: 1e-4) }

        func gradients(_ h: (Tensor) -> Tensor) -> [Float] {
            model.zeroGrad()
            let weights = Tensor.randn(shared.shape, rng: RandomGenerator(seed: 9))
            (h(model.imageTokens(images)) * weights).sum().backward()
            return model.parameters().flatMap { $0.grad ?? [] }
        }
        let viaPrefix = gradients { model.continuationHidden(padded, imageTokens: $0, imageOf: imageOf, slot: slot) }
        let viaFull = gradients { Self.fullHidden(model, padded, image: $0.indexSelect(axis: 0, imageOf)).slice(axis: 1, (slot + p)..<(t + p - 1)) }
        XCTAssertEqual(viaPrefix.count, viaFull.count)
        XCTAssertGreaterThan(viaFull.map(abs).max()!, 1e-3)
        for (a, b) in zip(viaPrefix, viaFull) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b))) }
    }
}
