import Datasets
import Foundation
import Tensor

/// Timing closures for `medglip bench vqa`: answering and one training step on random images with
/// SLAKE-like questions, at the default model size.
public struct VQABenchmark {
    public let answer: () -> Void
    public let trainStep: () -> Void
    /// Tokens greedy decoding may emit per question (untrained weights rarely stop early).
    public let answerTokens: Int
    public let parameters: Int
    /// The model's configuration (the default one).
    public let config: VQAConfig

    public static func make(images: Int, questionsPerImage: Int) throws -> [VQAHead: VQABenchmark] {
        let template = try ConversationTemplate.load()
        let rng = RandomGenerator(seed: 1)
        let organs = ["liver", "heart", "left lung", "right kidney", "spleen", "brain"]
        let questions = (0..<questionsPerImage).map { "Where is the \(organs[$0 % organs.count]) in this image?" }
        let config = VQAConfig()
        let vocabulary = VQAVocabulary(questions: questions, answers: organs, extraText: template.words)
        let side = config.imageSize * 8 / 7
        let planes = (0..<images).map { _ in (0..<(side * side)).map { _ in rng.uniform() } }
        var out: [VQAHead: VQABenchmark] = [:]
        for head in VQAHead.allCases {
            let run = VQARunConfig(
                model: config, head: head, dataset: .slake, dataDir: "", seed: 0, epochs: 1, template: template,
                maxPositions: VQASystem.maxPositions(config, template: template, vocabulary: vocabulary))
            let system = VQASystem(run, vocabulary: vocabulary)
            let examples = (0..<(images * questionsPerImage)).map { i in
                let q = questions[i % questionsPerImage], a = organs[i % organs.count]
                let item = VQAItem(
                    qid: "\(i)", imageName: "\(i / questionsPerImage)", imageURL: URL(fileURLWithPath: "/"), question: q, answer: a,
                    answerType: .open, category: "Position")
                return VQAExample(
                    item: item, image: i / questionsPerImage,
                    prompt: template.promptIDs(question: q, vocabulary: vocabulary, maxQuestionTokens: config.maxQuestionTokens).ids,
                    answer: vocabulary.encode(a) + [VQAVocabulary.endOfAnswer], answerClass: vocabulary.answerClass(a))
            }
            let set = VQASet(
                examples: examples, images: planes, regions: planes.map { _ in [] }, boxes: planes.map { _ in [] }, side: side, skipped: [])
            let trainer = VQATrainer(system, options: VQATrainingOptions(), folder: FileManager.default.temporaryDirectory, log: { _ in })
            out[head] = VQABenchmark(
                answer: { _ = system.predict(set, batchSize: examples.count) },
                trainStep: { _ = try? trainer.step(set, Array(examples.indices), rng: rng) },
                answerTokens: config.maxAnswerTokens + 1, parameters: system.model.parameterCount,
                config: config)
        }
        return out
    }
}
