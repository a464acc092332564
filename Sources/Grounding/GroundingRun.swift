import Datasets
import Foundation
import Imaging
import Metrics
import Tensor

/// What a grounding run folder holds besides its weights: the model's sizes, the input size, the
/// tokenizer and every modality's prompt, so a checkpoint can be used without the training data.
public struct GroundingRunConfig: Codable, Sendable {
    public var model: GroundingConfig
    public var imageSize: Int
    public var prompts: [String: [String]]
    public var tokenizer: SubwordTokenizer
    /// The data the run trained on (nil in runs written before it was recorded).
    public var data: GroundingDataSource?
    /// The choices a real dataset's defaults made (nil: the options as given, or runs written before).
    public var recipe: GroundingRecipe?

    public init(model: GroundingConfig, imageSize: Int, prompts: [String: [String]], tokenizer: SubwordTokenizer) {
        self.model = model; self.imageSize = imageSize; self.prompts = prompts; self.tokenizer = tokenizer
    }
}

/// Where a grounding run's training data came from: a dataset folder in `format`, or the embedded
/// corpus at `corpusCount` images per modality; `modalities` as `--modality` selected them.
public struct GroundingDataSource: Codable, Sendable, Equatable {
    public var dataDir: String?
    public var format: String
    public var modalities: String?
    public var corpusCount: Int?

    public init(dataDir: String?, format: String, modalities: String?, corpusCount: Int?) {
        self.dataDir = dataDir; self.format = format; self.modalities = modalities; self.corpusCount = corpusCount
    }
}

/// A trained (or initialised) grounding model with everything needed to run it.
public final class Grounder {
    public private(set) var run: GroundingRunConfig
    public let model: MedGLIPModel
    let prompts: [String: GroundingPrompt]
    let grid: PointGrid

    /// Records the data a new run trains on (saved with the run's config.json).
    public func record(data: GroundingDataSource) { run.data = data }
    public func record(recipe: GroundingRecipe) { run.recipe = recipe }

    public init(_ run: GroundingRunConfig, seed: UInt64) throws {
        self.run = run
        model = MedGLIPModel(run.model, vocabulary: run.tokenizer.count, seed: seed)
        prompts = try run.prompts.mapValues { try GroundingPrompt(phrases: $0, tokenizer: run.tokenizer, maxTokens: run.model.maxTokens) }
        grid = PointGrid(imageWidth: run.imageSize, imageHeight: run.imageSize, strides: run.model.strides)
    }

    /// A new model for `split`: tokenizer learned from its phrases, one expert per modality.
    public convenience init(for split: GroundingSplit, config: GroundingConfig, imageSize: Int, seed: UInt64) throws {
        var c = config
        let prompts = modalityPrompts(split)
        c.modalities = prompts.keys.sorted()
        let phrases = prompts.values.flatMap { $0 }
        try self.init(
            GroundingRunConfig(
                model: c, imageSize: imageSize, prompts: prompts,
                tokenizer: SubwordTokenizer(learningFrom: phrases + phrases)), seed: seed)
    }

    /// Loads `config.json` and `model.safetensors` (or another weights file) from a run folder.
    /// `imageSize` replaces the run's input size, for fine-tuning at another resolution: no weight
    /// depends on it.
    public convenience init(runFolder: URL, weights: String = "model.safetensors", imageSize: Int? = nil) throws {
        var config = try decodeJSON(GroundingRunConfig.self, from: runFolder.appendingPathComponent("config.json"))
        if let imageSize { config.imageSize = imageSize }
        try self.init(config, seed: 0)
        try model.load(from: runFolder.appendingPathComponent(weights))
    }

    public func save(to folder: URL, weights: String = "model.safetensors", metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writeJSON(run, to: folder.appendingPathComponent("config.json"))
        try model.save(to: folder.appendingPathComponent(weights), metadata: metadata)
    }

    func prompt(_ modality: String?) throws -> GroundingPrompt {
        let key = modality ?? "unknown"
        guard let p = prompts[key] else {
            throw PromptError(problem: "no prompt for modality '\(key)' (the model knows \(prompts.keys.sorted().joined(separator: ", ")))")
        }
        return p
    }

    /// Fails when `samples` hold a modality or a label this model's prompts lack: training from
    /// these weights would otherwise drop those boxes from the targets without a word.
    public func checkPromptsCover(_ samples: [GroundingSample]) throws {
        var missing: [String: Set<String>] = [:]
        for s in samples {
            let key = s.modality ?? "unknown"
            let known = Set(run.prompts[key] ?? [])
            for r in s.regions where !known.contains(r.label) { missing[key, default: []].insert(r.label) }
        }
        guard missing.isEmpty else {
            let list = missing.keys.sorted().map { "\($0): \(missing[$0]!.sorted().joined(separator: ", "))" }.joined(separator: "; ")
            throw PromptError(problem: "the model's prompts lack labels of the data (\(list))")
        }
    }

    /// Detections for each sample, in the samples' order (original-image pixels). Samples are run
    /// in batches of one modality, since a batch shares its prompt and image encoder.
    public func detect(_ samples: [GroundingSample], batchSize: Int = 8) throws -> [[Detection]] {
        model.eval()
        var out = [[Detection]](repeating: [], count: samples.count)
        var byModality: [String: [Int]] = [:]
        for (i, s) in samples.enumerated() { byModality[s.modality ?? "unknown", default: []].append(i) }
        for (modality, indices) in byModality.sorted(by: { $0.key < $1.key }) {
            let prompt = try self.prompt(modality)
            for start in stride(from: 0, to: indices.count, by: batchSize) {
                let batch = Array(indices[start..<min(indices.count, start + batchSize)])
                let prepared = try batch.map { try prepare(samples[$0], size: run.imageSize, prompt: prompt, rng: nil) }
                let images = Tensor(shape: [batch.count, 3, run.imageSize, run.imageSize], data: prepared.flatMap(\.pixels))
                let result = try withNoGrad { try model.forward(images: images, modality: modality, promptIDs: prompt.tokenIDs) }
                for (k, i) in batch.enumerated() {
                    out[i] = Postprocess().detections(
                        result, image: k, grid: grid, prompt: prompt, transform: prepared[k].transform,
                        width: samples[i].width, height: samples[i].height)
                }
            }
        }
        return out
    }

    /// COCO AP over all samples and per modality (pycocotools-exact), with the detections.
    /// `detections`: the samples' detections when already found (by data-parallel ranks).
    public func evaluate(_ samples: [GroundingSample], categories: [Datasets.Category], detections found: [[Detection]]? = nil)
        throws -> (overall: COCOEvalResult, perModality: [String: COCOEvalResult], detections: [[Detection]])
    {
        let ordered = samples
        let detections = try found ?? detect(samples)
        let ids = Dictionary(uniqueKeysWithValues: categories.map { ($0.name, $0.id) })
        func result(_ subset: [(GroundingSample, [Detection])]) -> COCOEvalResult {
            var anns: [COCOEvalGroundTruth.Annotation] = []
            for (s, _) in subset {
                for r in s.regions {
                    anns.append(
                        .init(
                            id: anns.count + 1, imageID: s.imageID, categoryID: ids[r.label]!, bbox: r.box.xywh.map(Double.init),
                            area: Double(r.box.area), iscrowd: 0))
                }
            }
            let gt = COCOEvalGroundTruth(
                images: subset.map { .init(id: $0.0.imageID) }, annotations: anns,
                categories: categories.map { .init(id: $0.id, name: $0.name) })
            let dts = subset.flatMap { s, ds in
                ds.map {
                    COCOEvalDetection(imageID: s.imageID, categoryID: ids[$0.label]!, bbox: $0.box.xywh.map(Double.init), score: Double($0.score))
                }
            }
            return COCOEval.evaluate(gt, dts)
        }
        let pairs = Array(zip(ordered, detections))
        var perModality: [String: COCOEvalResult] = [:]
        for m in Set(ordered.map { $0.modality ?? "unknown" }) { perModality[m] = result(pairs.filter { ($0.0.modality ?? "unknown") == m }) }
        return (result(pairs), perModality, detections)
    }
}

extension Grounder {
    /// Grounds a free-text prompt ("nodule. effusion.") in one image with the given modality's expert.
    public func predict(image: Image, prompt text: String, modality: String) throws -> [Detection] {
        let prompt = try GroundingPrompt(parsing: text, tokenizer: run.tokenizer, maxTokens: run.model.maxTokens)
        model.eval()
        let (boxed, transform) = image.rgb().letterboxed(to: run.imageSize)
        let input = Tensor(shape: [1, 3, run.imageSize, run.imageSize], data: boxed.normalized(mean: [0.5], std: [0.25]).pixels)
        let out = try withNoGrad { try model.forward(images: input, modality: modality, promptIDs: prompt.tokenIDs) }
        return Postprocess().detections(out, image: 0, grid: grid, prompt: prompt, transform: transform, width: image.width, height: image.height)
    }

    /// The modalities this model has image encoders (or prompts) for.
    public var modalities: [String] { run.model.experts == .shared ? run.prompts.keys.sorted() : run.model.modalities }
}

extension Grounder {
    /// A closure running one training step on a random batch (for benchmarks).
    public func trainingStepTimer(batchSize: Int, rng: RandomGenerator) throws -> () -> Void {
        let modality = modalities.first ?? "unknown"
        let prompt = try self.prompt(modality)
        let s = run.imageSize
        let images = Tensor.randn([batchSize, 3, s, s], rng: rng)
        let targets = (0..<batchSize).map { _ in
            GroundingTarget(boxes: [Box(x1: Float(s) * 0.3, y1: Float(s) * 0.3, x2: Float(s) * 0.5, y2: Float(s) * 0.45)], phrases: [0])
        }
        let optimizer = Adam.adamW([ParamGroup(model.parameters(), lr: 1e-4, weightDecay: 1e-4)])
        let loss = GroundingLoss(grid: grid)
        model.train()
        return { [model] in
            Profiler.enter(.forward)
            guard let out = try? model.forward(images: images, modality: modality, promptIDs: prompt.tokenIDs) else { return }
            let total = Profiler.part("loss") { loss(out, targets: targets, prompt: prompt).total }
            optimizer.zeroGrad()
            Profiler.enter(.backward)
            total.backward()
            Profiler.enter(.optimizer)
            optimizer.step()
            Profiler.enter(nil)
        }
    }
}
