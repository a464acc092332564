import Datasets
import Foundation
import Imaging
import Injection
import Tensor

/// A dataset's questions by split. VQA-RAD ships a train file only (plus MEVF's test file when
/// present): its validation split is carved from train, by image unless asked otherwise; without
/// the test file, a test split is carved from train first (the same grouping, another seed), so
/// the split that picks the weights is never the one reported.
public struct VQASplits: Sendable {
    public var train: [VQAItem], val: [VQAItem], test: [VQAItem]
    /// Whether `test` was carved from the train file (VQA-RAD without testset.json).
    public var testCarved = false

    public static func read(_ kind: VQADatasetKind, root: URL, grouping: VQARAD.ValidationGrouping = .image) throws -> VQASplits {
        switch kind {
        case .slake:
            return VQASplits(
                train: try SLAKE.read(root: root, split: "train"), val: try SLAKE.read(root: root, split: "val"),
                test: try SLAKE.read(root: root, split: "test"))
        case .vqaRad:
            let all = try VQARAD.read(root: root, split: "train")
            if FileManager.default.fileExists(atPath: root.appendingPathComponent("testset.json").path) {
                let (train, val) = VQARAD.carveValidation(all, by: grouping)
                return VQASplits(train: train, val: val, test: try VQARAD.read(root: root, split: "test"))
            }
            let (rest, test) = VQARAD.carveValidation(all, by: grouping, seed: carvedTestSeed)
            let (train, val) = VQARAD.carveValidation(rest, by: grouping)
            return VQASplits(train: train, val: val, test: test, testCarved: true)
        }
    }

    /// The seed of VQA-RAD's carved test split (the validation split's is 0).
    static let carvedTestSeed: UInt64 = 0x7e57

    public func split(_ name: String) -> [VQAItem]? {
        switch name {
        case "train": return train
        case "val": return val
        case "test": return test
        default: return nil
        }
    }
}

extension VQAItem {
    /// The modality a grounder and the hint templates know this image by: SLAKE's own field, or for
    /// VQA-RAD (which records only the organ) chest films as X-ray, head images as MRI (most of
    /// VQA-RAD's are) and abdominal ones as CT.
    public var groundingModality: String? {
        modality ?? organ.flatMap { ["CHEST": "X-ray", "HEAD": "MRI", "ABD": "CT"][$0.uppercased()] }
    }
}

/// A question ready for the model: its prompt ids (one `<image>` id), answer ids ending in
/// `<eos>`, its class for the classify head (nil when training never saw the answer) and the
/// index of its image in the set's image store.
public struct VQAExample: Sendable {
    public let item: VQAItem
    let image: Int
    public let prompt: [Int]
    let answer: [Int]
    let answerClass: Int?
}

/// A split's questions and their images, each image decoded and resized once however many
/// questions share it.
public struct VQASet: Sendable {
    public let examples: [VQAExample]
    /// Gray planes of `side x side`, values in [0, 1].
    let images: [[Float]]
    /// Each image's injected regions (boxes in [0, 1]; empty without token injection).
    let regions: [[GroundedRegion]]
    /// Each image's annotated boxes for the localization loss (in [0, 1]; empty without it).
    let boxes: [[GroundedRegion]]
    let side: Int
    /// One line per question left out (qid, file, problem).
    public let skipped: [String]
    /// Whether each image may be mirrored in training: none of its questions, answers, hints or
    /// region phrases says "left" or "right" (a mirrored image would make them false).
    var mirrorable: [Bool] = []

    public var count: Int { examples.count }
    public var imageCount: Int { images.count }

    /// The questions `indices` alone, with every image (a rank's part of a split to predict).
    func questions(_ indices: [Int]) -> VQASet {
        var part = VQASet(examples: indices.map { examples[$0] }, images: images, regions: regions, boxes: boxes, side: side, skipped: [])
        part.mirrorable = mirrorable
        return part
    }

    /// Example indices grouped by image, in image order.
    var byImage: [[Int]] {
        var groups = [[Int]](repeating: [], count: images.count)
        for (i, e) in examples.enumerated() { groups[e.image].append(i) }
        return groups.filter { !$0.isEmpty }
    }

    /// Model input `[n, 1, S, S]` for images `indices`: random crops when training (rng given),
    /// centre crops otherwise; normalised with mean 0.5, std 0.25 like the other stages.
    func pixels(_ indices: [Int], size s: Int, rng: RandomGenerator?) -> Tensor {
        pixels(indices, size: s, crops: crops(indices.count, size: s, rng: rng))
    }

    /// Top-left corners of `n` crops of side `s`: at random when training (rng given), centred otherwise.
    func crops(_ n: Int, size s: Int, rng: RandomGenerator?) -> [(x: Int, y: Int)] {
        // No flips: they would swap the answers of left/right questions.
        (0..<n).map { _ in rng.map { (x: $0.int(side - s + 1), y: $0.int(side - s + 1)) } ?? (x: (side - s) / 2, y: (side - s) / 2) }
    }

    /// `mirrored[n]`: crop image n from its left-right mirror image.
    func pixels(_ indices: [Int], size s: Int, crops: [(x: Int, y: Int)], mirrored: [Bool] = []) -> Tensor {
        let l = side
        var out = [Float](repeating: 0, count: indices.count * s * s)
        for (n, i) in indices.enumerated() {
            let (ox, oy) = crops[n]
            let plane = images[i], mirror = n < mirrored.count && mirrored[n]
            for y in 0..<s {
                for x in 0..<s {
                    let column = mirror ? l - 1 - (x + ox) : x + ox
                    out[n * s * s + y * s + x] = (plane[(y + oy) * l + column] - 0.5) / 0.25
                }
            }
        }
        return Tensor(shape: [indices.count, 1, s, s], data: out)
    }
}

/// Turns `VQAItem`s into a `VQASet`. Questions that cannot be used are listed (qid, file,
/// problem) and counted, never dropped silently: a missing or unreadable image, an empty question
/// or answer. Over-long questions and answers are cut to the configured lengths and counted.
public struct VQALoader {
    public let config: VQAConfig
    public let vocabulary: VQAVocabulary
    public let template: ConversationTemplate
    public var log: (String) -> Void = { print($0) }
    /// Grounded regions of each image (pixels of that image), by the image file's path.
    public var regions: [String: [GroundedRegion]] = [:]
    /// Hint templates per modality, when the model reads hints.
    public var hints: ModalityHints?
    /// Annotated boxes (pixels of that image) for the localization loss, by the image file's path.
    public var boxes: [String: [GroundedRegion]] = [:]

    public init(config: VQAConfig, vocabulary: VQAVocabulary, template: ConversationTemplate) {
        self.config = config; self.vocabulary = vocabulary; self.template = template
    }

    /// Images load at 8/7 of the input size so training can crop at random.
    var loadSize: Int { config.imageSize * 8 / 7 }

    public func load(_ items: [VQAItem], split: String) -> VQASet {
        var imageIndex: [URL: Int] = [:], images: [[Float]] = [], broken: [URL: String] = [:]
        var imageRegions: [[GroundedRegion]] = [], imageHints: [[Int]] = [], imageBoxes: [[GroundedRegion]] = []
        var examples: [VQAExample] = [], skipped: [String] = [], truncated = 0, longAnswers = 0
        for item in items {
            func skip(_ problem: String) { skipped.append("qid \(item.qid) (\(split)): \(problem)") }
            guard !item.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { skip("empty question"); continue }
            let answer = vocabulary.encode(item.answer)
            guard !answer.isEmpty else { skip("empty answer"); continue }
            if imageIndex[item.imageURL] == nil, broken[item.imageURL] == nil {
                do {
                    let image = try ImageIO.read(item.imageURL)
                    images.append(image.grayscale().resized(width: loadSize, height: loadSize).pixels)
                    imageIndex[item.imageURL] = images.count - 1
                    let (kept, hint) = grounding(item, width: image.width, height: image.height)
                    imageRegions.append(kept); imageHints.append(hint)
                    imageBoxes.append(
                        (boxes[item.imageURL.standardizedFileURL.path] ?? []).map { $0.normalized(width: image.width, height: image.height) })
                } catch {
                    broken[item.imageURL] = FileManager.default.fileExists(atPath: item.imageURL.path) ? "unreadable (\(error))" : "no such file"
                }
            }
            guard let image = imageIndex[item.imageURL] else { skip("image \(item.imageURL.path): \(broken[item.imageURL]!)"); continue }
            let (prompt, cut) = template.promptIDs(
                question: item.question, hint: imageHints[image], vocabulary: vocabulary,
                maxQuestionTokens: config.maxQuestionTokens)
            if cut { truncated += 1 }
            if answer.count > config.maxAnswerTokens { longAnswers += 1 }
            examples.append(
                VQAExample(
                    item: item, image: image, prompt: prompt,
                    answer: Array(answer.prefix(config.maxAnswerTokens)) + [VQAVocabulary.endOfAnswer],
                    answerClass: vocabulary.answerClass(item.answer)))
        }
        for line in skipped { log("skipped " + line) }
        if !skipped.isEmpty { log("\(split): skipped \(skipped.count) of \(items.count) questions (listed above)") }
        if truncated > 0 { log("\(split): \(truncated) questions longer than \(config.maxQuestionTokens) tokens were cut") }
        if longAnswers > 0 { log("\(split): \(longAnswers) answers longer than \(config.maxAnswerTokens) tokens were cut") }
        var set = VQASet(examples: examples, images: images, regions: imageRegions, boxes: imageBoxes, side: loadSize, skipped: skipped)
        set.mirrorable = mirrorable(examples, hints: imageHints, regions: imageRegions, count: images.count)
        return set
    }

    /// Images none of whose questions, answers, hints or region phrases name a side.
    func mirrorable(_ examples: [VQAExample], hints: [[Int]], regions: [[GroundedRegion]], count: Int) -> [Bool] {
        let sideIDs = Set(vocabulary.encode("left right"))
        func namesSide(_ text: String) -> Bool {
            text.lowercased().split { !$0.isLetter }.contains { $0 == "left" || $0 == "right" }
        }
        var ok = (0..<count).map { i in !hints[i].contains(where: sideIDs.contains) && !regions[i].contains { namesSide($0.phrase) } }
        for e in examples where namesSide(e.item.question) || namesSide(e.item.answer) { ok[e.image] = false }
        return ok
    }

    /// An image's regions kept by the injection options (boxes scaled to [0, 1] when the model
    /// reads tokens) and its hint ids (when it reads hints): the hint sentences joined by "and",
    /// padded (or cut) to exactly `maxHintTokens` ids. The fixed width keeps every question at the
    /// same positions, which the learned position table relies on: with hints of varying length
    /// in front of them, questions that never mention a finding lost accuracy too (modality
    /// questions fell from 1.00 to 0.75 on the SLAKE-format corpus).
    func grounding(_ item: VQAItem, width: Int, height: Int) -> ([GroundedRegion], [Int]) {
        let options = config.injection
        guard options.mode != .none else { return ([], []) }
        let confident = options.confident(regions[item.imageURL.standardizedFileURL.path] ?? [])
        let kept = Array(confident.prefix(options.topK))
        var hint: [Int] = []
        if options.mode.usesHints, let templates = hints?[item.groundingModality] {
            let sentences = templates.sentences(for: confident, imageWidth: width, imageHeight: height, hedgeBelow: options.hedgeBelow)
            hint = Array(vocabulary.encode(sentences.joined(separator: " and ")).prefix(options.maxHintTokens))
        }
        if options.mode.usesHints { hint += [Int](repeating: VQAVocabulary.pad, count: options.maxHintTokens - hint.count) }
        return (options.mode.usesTokens ? kept.map { $0.normalized(width: width, height: height) } : [], hint)
    }
}
