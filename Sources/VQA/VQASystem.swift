import Datasets
import Foundation
import Tensor

/// A trained (or initialised) VQA model with its vocabulary and template: answers questions.
/// A run folder holds `config.json`, `vocabulary.json` and weights (`model.safetensors` = best).
public final class VQASystem {
    public let run: VQARunConfig
    public let vocabulary: VQAVocabulary
    public let model: VQAModel

    public init(_ run: VQARunConfig, vocabulary: VQAVocabulary) {
        self.run = run; self.vocabulary = vocabulary
        model = VQAModel(
            run.model, head: run.head, vocabularySize: vocabulary.count,
            outputs: run.head == .generate ? vocabulary.count : vocabulary.answers.count,
            maxPositions: run.maxPositions, seed: run.seed)
    }

    public convenience init(runFolder: URL, weights: String = "model.safetensors") throws {
        let run = try decodeJSON(VQARunConfig.self, from: runFolder.appendingPathComponent("config.json"))
        self.init(run, vocabulary: try decodeJSON(VQAVocabulary.self, from: runFolder.appendingPathComponent("vocabulary.json")))
        try model.load(from: runFolder.appendingPathComponent(weights))
    }

    /// The longest fused sequence a template and config allow: prompt (with the longest hint and
    /// question) minus its `<image>` id, the image tokens, and the answer with `<eos>`.
    public static func maxPositions(_ config: VQAConfig, template: ConversationTemplate, vocabulary: VQAVocabulary) -> Int {
        let longest = Array(repeating: "word", count: config.maxQuestionTokens).joined(separator: " ")
        let hint = [Int](repeating: VQAVocabulary.unknown, count: config.injection.mode.usesHints ? config.injection.maxHintTokens : 0)
        let prompt = template.promptIDs(question: longest, hint: hint, vocabulary: vocabulary, maxQuestionTokens: config.maxQuestionTokens).ids
        return prompt.count - 1 + config.imageTokenCount + config.maxAnswerTokens + 1
    }

    public func save(to folder: URL, weights: String = "model.safetensors", metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writeJSON(run, to: folder.appendingPathComponent("config.json"))
        try writeJSON(vocabulary, to: folder.appendingPathComponent("vocabulary.json"))
        try model.save(to: folder.appendingPathComponent(weights), metadata: metadata)
    }

    public var loader: VQALoader { VQALoader(config: run.model, vocabulary: vocabulary, template: run.template) }

    /// Predicted answers in example order. Generate: greedy decoding of questions batched by prompt
    /// length (so no padding), or beam search per question when `beamSize > 1`. Classify: the
    /// highest-scoring training answer. With `choices`, a question naming its options ("solid or
    /// cystic?") gets the most likely of the answers `ChoiceQuestion` allows it instead.
    public func predict(_ set: VQASet, beamSize: Int = 1, choices: Bool = false, batchSize: Int = 64) -> [String] {
        model.eval()
        defer { model.train() }
        var out = [String](repeating: "", count: set.count)
        withNoGrad {
            // Questions of one image run together so its CNN pass is shared.
            for group in set.byImage.chunked(byTotal: batchSize) {
                let images = Array(Set(group.map { set.examples[$0].image })).sorted()
                let slot = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($1, $0) })
                let tokens = model.imageTokens(set.pixels(images, size: run.model.imageSize, rng: nil), regions: images.map { set.regions[$0] })
                func imageOf(_ members: [Int]) -> [Int] { members.map { slot[set.examples[$0].image]! } }
                func rows(_ members: [Int]) -> Tensor { tokens.indexSelect(axis: 0, imageOf(members)) }
                switch run.head {
                case .classify:
                    let logits = model.classLogits(imageTokens: tokens, imageOf: imageOf(group), prompts: group.map { set.examples[$0].prompt })
                    let c = logits.shape[1]
                    for (r, e) in group.enumerated() { out[e] = vocabulary.answers[VQADecoding.argmax(logits.data[(r * c)..<((r + 1) * c)])] }
                case .generate where beamSize > 1:
                    for e in group {
                        let ids = VQADecoding.beam(
                            model, prompt: set.examples[e].prompt, imageTokens: rows([e]), beamSize: beamSize,
                            maxTokens: run.model.maxAnswerTokens + 1)
                        out[e] = vocabulary.decode(ids)
                    }
                case .generate:
                    for members in Dictionary(grouping: group, by: { set.examples[$0].prompt.count }).values {
                        let ids = VQADecoding.greedy(
                            model, prompts: members.map { set.examples[$0].prompt }, imageTokens: rows(members),
                            maxTokens: run.model.maxAnswerTokens + 1)
                        for (e, answer) in zip(members, ids) { out[e] = vocabulary.decode(answer) }
                    }
                }
                if choices {
                    for e in group {
                        if let choice = choose(set.examples[e], imageTokens: tokens, image: slot[set.examples[e].image]!) { out[e] = choice }
                    }
                }
            }
        }
        return out
    }
}

extension VQASystem {
    /// The most likely answer `ChoiceQuestion` allows `example`, nil when its question names no
    /// options the vocabulary can spell. Generate: summed log-probability of each candidate;
    /// classify: the best-scoring candidate among the answer classes.
    func choose(_ example: VQAExample, imageTokens: Tensor, image: Int) -> String? {
        let candidates = ChoiceQuestion.candidates(example.item.question, answers: vocabulary.answers)
        switch run.head {
        case .generate:
            let spelled = candidates.map(vocabulary.encode).filter { !$0.isEmpty && !$0.contains(VQAVocabulary.unknown) }
            guard !spelled.isEmpty else { return nil }
            let scores = model.answerLogLikelihoods(
                imageTokens: imageTokens, imageOf: [Int](repeating: image, count: spelled.count),
                prompts: [[Int]](repeating: example.prompt, count: spelled.count),
                answers: spelled.map { Array($0.prefix(run.model.maxAnswerTokens)) + [VQAVocabulary.endOfAnswer] })
            return vocabulary.decode(spelled[VQADecoding.argmax(scores[...])])
        case .classify:
            let classes = candidates.compactMap(vocabulary.answerClass)
            guard !classes.isEmpty else { return nil }
            let logits = model.classLogits(imageTokens: imageTokens, imageOf: [image], prompts: [example.prompt])
            return vocabulary.answers[classes.max { logits.data[$0] < logits.data[$1] }!]
        }
    }
}
