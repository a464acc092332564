import Datasets
import Distributed
import Foundation
import Imaging
import Injection
import Tensor

public struct VQATrainingOptions: Codable, Sendable {
    public var epochs = 25
    /// Mirror left-right half of the training images that name no side (`VQASet.mirrorable`).
    public var mirrorImages = false
    /// Stop when the selection score has not improved for this many epochs (nil: every epoch).
    public var patience: Int?
    /// Images per step; each step takes all their questions, so the CNN runs once per image.
    public var imagesPerBatch = 4
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 0.01
    public var warmupSteps = 100
    public var clipNorm: Float = 1
    public var seed: UInt64 = 0
    /// Epochs of the vision encoder and localization head alone before the VQA epochs (needs the
    /// model's localization head).
    public var localizationPretrainEpochs = 0
    /// Epochs of denoising auto-encoder pre-training of the vision encoder, first of all.
    public var autoencoderPretrainEpochs = 0
    /// Standard deviation of the noise added to the (normalised) images in those epochs.
    public var autoencoderNoise: Float = 0.5
    /// Parts each rank computes its share of a batch's images in, gradients summed (see
    /// `ReportTrainingOptions.microBatches`).
    public var microBatches = 1
    /// Training questions (epochs x questions) real data gets by default.
    public static let questionsSeen = 90_000

    /// Epochs that show the model about `questionsSeen` training questions, within 15...60, and why.
    public static func epochs(forTrainingQuestions count: Int) -> (Int, String) {
        let epochs = min(60, max(15, Int((Double(questionsSeen) / Double(max(count, 1))).rounded())))
        return (epochs, "\(epochs) epochs at most: about \(questionsSeen) training questions for \(count) questions")
    }

    public init() {}
}

/// Trains a `VQASystem` with AdamW under a warm-up + cosine schedule, scoring the validation split
/// each epoch and keeping the best weights (mean of closed accuracy and open recall) as
/// `model.safetensors`; `last.safetensors`, `optimizer.safetensors` and `history.json` let
/// `--resume` continue a killed run, and `finished.json` marks a run that completed every epoch.
public final class VQATrainer {
    public struct EpochRecord: Codable, Sendable {
        public var epoch: Int
        public var loss: Double
        public var questionsPerSecond: Double
        public var validation: [String: Double]
        /// Ranks and allreduce cost (nil in one process).
        public var dataParallel: DataParallelEpoch?
    }

    let system: VQASystem
    let options: VQATrainingOptions
    let folder: URL
    let optimizer: Adam
    let log: (String) -> Void
    public private(set) var history: [EpochRecord] = []

    /// Called after each epoch's checkpoint (the CLI records the epoch in the run registry).
    public var onEpoch: ((EpochRecord) throws -> Void)?

    /// The ranks that train together (see `ReportTrainer.communicator`).
    public var communicator = Communicator.single

    public init(_ system: VQASystem, options: VQATrainingOptions, folder: URL, log: @escaping (String) -> Void = { print($0) }) {
        self.system = system; self.options = options; self.folder = folder; self.log = log
        optimizer = Adam.adamW([ParamGroup(system.model.parameters(), lr: options.learningRate, weightDecay: options.weightDecay)])
    }

    public func resume() throws {
        history = try communicator.resumed(optimizer, empty: []) {
            try system.model.load(from: folder.appendingPathComponent("last.safetensors"))
            try optimizer.loadState(SafeTensors.read(folder.appendingPathComponent("optimizer.safetensors")).tensors)
            return try decodeJSON([EpochRecord].self, from: folder.appendingPathComponent("history.json"))
        }
        log("resumed after epoch \(history.count)")
    }

    /// One optimisation step on the questions `members` of `set`; returns the loss.
    func step(_ set: VQASet, _ members: [Int], rng: RandomGenerator?) throws -> Float {
        let model = system.model
        Profiler.enter(.data)
        let images = Array(Set(members.map { set.examples[$0].image })).sorted()
        let slot = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($1, $0) })
        let injection = system.run.model.injection
        let withheld = Set(images.filter { _ in injection.withholds(rng) })
        let size = system.run.model.imageSize
        let crops = set.crops(images.count, size: size, rng: rng)
        let mirrored = images.map { i in options.mirrorImages && set.mirrorable[i] && (rng.map { $0.uniform() < 0.5 } ?? false) }
        // The generative loss averages over answer tokens (`<eos>` included): a part's share.
        let answerTokens = Float(members.reduce(0) { $0 + set.examples[$1].answer.count })
        let params = model.parameters()
        optimizer.zeroGrad()
        var loss = 0.0, gradients = PartGradients(params)
        for part in communicator.parts(images.count, microBatches: options.microBatches) {
            let local = Array(images[part]), own = members.filter { part.contains(slot[set.examples[$0].image]!) }
            let pixels = set.pixels(local, size: size, crops: Array(crops[part]), mirrored: Array(mirrored[part]))
            Profiler.enter(.forward)
            let map = Profiler.part("vision encoder") { model.visionEncoder(pixels) }
            let regions = part.map { n in withheld.contains(images[n]) ? [] : Self.mirror(set.regions[images[n]], mirrored[n]) }
            let tokens = model.imageTokens(map: map, regions: regions)
            let imageOf = own.map { slot[set.examples[$0].image]! - part.lowerBound }
            let prompts = own.map { m in
                let e = set.examples[m]
                return withheld.contains(e.image)
                    ? Self.withoutHint(e.prompt, width: injection.mode.usesHints ? injection.maxHintTokens : 0) : e.prompt
            }
            var objective: Tensor
            switch system.run.head {
            case .generate:
                let answers = own.map { set.examples[$0].answer }
                let share = Float(answers.reduce(0) { $0 + $1.count }) / answerTokens
                objective = share * model.generativeLoss(imageTokens: tokens, imageOf: imageOf, prompts: prompts, answers: answers)
            case .classify:
                // Training answers always have a class.
                let share = Float(own.count) / Float(members.count)
                objective =
                    share
                    * model.classifyLoss(imageTokens: tokens, imageOf: imageOf, prompts: prompts, classes: own.map { set.examples[$0].answerClass! })
            }
            if let head = model.localizationHead, let options = system.run.model.localization {
                // Normalised by this part's positives: only in one process (refused under mpirun).
                let targets = LocalizationHead.targets(
                    part.map { Self.mirror(set.boxes[images[$0]], mirrored[$0]) }, labels: options.labels, crops: Array(crops[part]),
                    loadSide: set.side, cropSide: size, grid: map.shape[2])
                objective = objective + options.weight * head.loss(map, targets: targets)
            }
            loss += Double(objective.item)
            Profiler.enter(.backward)
            if loss.isFinite { objective.backward() }
            gradients.take(params)
        }
        gradients.restore(params)
        loss = try communicator.sum(loss)
        guard loss.isFinite else {
            throw DatasetError(folder, "loss became \(loss); training stopped (last good weights: last.safetensors); lower --lr")
        }
        Profiler.enter(.optimizer)
        try communicator.sumGradients(params)
        _ = clipGradNorm(params, maxNorm: options.clipNorm)
        optimizer.step()
        Profiler.enter(nil)
        return Float(loss)
    }

    /// Regions (boxes in [0, 1]) of an image, mirrored left-right with it.
    static func mirror(_ regions: [GroundedRegion], _ mirrored: Bool) -> [GroundedRegion] {
        guard mirrored else { return regions }
        return regions.map {
            GroundedRegion(phrase: $0.phrase, score: $0.score, box: Box(x1: 1 - $0.box.x2, y1: $0.box.y1, x2: 1 - $0.box.x1, y2: $0.box.y2))
        }
    }

    /// The prompt with its hint slot (the `width` ids after `<image>`) all padding: what an image
    /// without confident regions reads.
    static func withoutHint(_ prompt: [Int], width: Int) -> [Int] {
        guard width > 0, let image = prompt.firstIndex(of: VQAVocabulary.image) else { return prompt }
        var out = prompt
        for i in (image + 1)..<min(image + 1 + width, out.count) { out[i] = VQAVocabulary.pad }
        return out
    }

    /// `localizationImages`: the images (with boxes) localization pre-training runs on; nil: `train`'s.
    public func train(_ train: VQASet, validation: VQASet, localizationImages: VQASet? = nil) throws {
        guard train.count > 0 else { throw DatasetError(folder, "no usable training questions") }
        guard history.count < options.epochs, stopReason() == nil else { log("all epochs are done"); try markFinished(); return }
        if communicator.isRoot && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            try system.save(to: folder)
        }
        try communicator.broadcast(system.model)
        if history.isEmpty && options.autoencoderPretrainEpochs > 0 { try pretrainAutoencoder(train) }
        if history.isEmpty && options.localizationPretrainEpochs > 0 { try pretrainLocalization(localizationImages ?? train, validation: validation) }
        let groups = train.byImage
        let steps = (groups.count + options.imagesPerBatch - 1) / options.imagesPerBatch
        let schedule = CosineWithWarmup(
            warmupSteps: min(options.warmupSteps, steps * options.epochs / 10), totalSteps: steps * options.epochs, minFactor: 0.05)
        for epoch in (history.count + 1)...options.epochs {
            let rng = RandomGenerator(seed: options.seed &+ UInt64(epoch))
            var order = Array(groups.indices)
            rng.shuffle(&order)
            system.model.train()
            let bar = TrainingProgress(epoch: epoch, steps: steps, unit: "q")
            let traffic = communicator.traffic
            var lossSum = 0.0, questions = 0
            for s in 0..<steps {
                optimizer.applySchedule(schedule.factor(at: (epoch - 1) * steps + s))
                let members = order[(s * options.imagesPerBatch)..<min((s + 1) * options.imagesPerBatch, order.count)].flatMap { groups[$0] }
                lossSum += Double(try step(train, members, rng: rng))
                questions += members.count
                bar.report(step: s + 1, loss: lossSum / Double(s + 1), items: questions)
            }
            let rate = Double(questions) / max(bar.elapsed, 1e-9)
            let scores = VQAScores(validation.examples, predictions: try predict(validation))
            history.append(
                EpochRecord(
                    epoch: epoch, loss: lossSum / Double(steps), questionsPerSecond: rate, validation: scores.flat,
                    dataParallel: communicator.epochSummary(since: traffic)))
            log(
                String(
                    format: "\nepoch %d: loss %.4f, %.0f questions/s; val closed acc %.4f, open recall %.4f, exact %.4f",
                    epoch, lossSum / Double(steps), rate, scores.overall.closedAccuracy, scores.overall.openRecall, scores.overall.overallExact))
            if communicator.isRoot {
                try checkpoint()
                try onEpoch?(history.last!)
            }
            if let reason = stopReason() { log(reason); break }
        }
        if communicator.isRoot { try markFinished() }
    }

    /// The model's answers to `set`: each rank answers its part of the questions.
    func predict(_ set: VQASet) throws -> [String] {
        try communicator.allGather(system.predict(set.questions(Array(communicator.shard(set.count)))))
    }

    func stopReason() -> String? {
        options.patience.flatMap { Patience(epochs: $0).stopReason(history.map { $0.validation["selection"] ?? 0 }, metric: "selection score") }
    }

    /// The vision encoder and localization head alone on the training images' boxes (the language
    /// model waits): a detection-style warm start, the way MEVF pre-trains its image encoders, so
    /// the patch tokens hold the findings before any question is asked about them.
    func pretrainLocalization(_ train: VQASet, validation: VQASet) throws {
        let model = system.model, config = system.run.model
        guard let head = model.localizationHead, let labels = config.localization?.labels else {
            throw DatasetError(folder, "localization pre-training needs a model with a localization head (--localization-loss > 0)")
        }
        try pretrainVisionEncoder(
            on: train, epochs: options.localizationPretrainEpochs, task: "localization", lossName: "focal loss",
            extra: head.parameters()
        ) { members, crops, _ in
            let map = model.visionEncoder(train.pixels(members, size: config.imageSize, crops: crops))
            return head.loss(
                map,
                targets: LocalizationHead.targets(
                    members.map { train.boxes[$0] }, labels: labels, crops: crops,
                    loadSide: train.side, cropSide: config.imageSize, grid: map.shape[2]))
        }
        if validation.boxes.contains(where: { !$0.isEmpty }), let report = system.localizationReport(validation) {
            log(
                "localization on the validation images (recall at precision, per image): "
                    + report.rows.map { String(format: "%@ %.2f/%.2f", $0.label, $0.recall, $0.precision) }.joined(separator: ", "))
        }
    }

    /// The vision encoder and a `PatchDecoder` alone on the training images, denoising (MEVF's CDAE):
    /// a warm start that needs no labels. The decoder is dropped afterwards.
    func pretrainAutoencoder(_ train: VQASet) throws {
        let model = system.model, config = system.run.model
        let decoder = PatchDecoder(
            width: config.channels.last!, patchSide: config.imageSize / config.gridSize,
            rng: RandomGenerator(seed: options.seed &+ 104_729))
        try pretrainVisionEncoder(
            on: train, epochs: options.autoencoderPretrainEpochs, task: "denoising auto-encoder", lossName: "mean squared error",
            extra: decoder.parameters()
        ) { members, crops, rng in
            let clean = train.pixels(members, size: config.imageSize, crops: crops)
            return decoder.loss(model.visionEncoder(PatchDecoder.corrupted(clean, std: self.options.autoencoderNoise, rng: rng)), clean: clean)
        }
    }

    /// Trains the vision encoder and `extra` parameters for `epochs` on the images of `set`, 16 per
    /// step, with `loss(images, crops, rng)`: the pre-training loop both warm starts share.
    func pretrainVisionEncoder(
        on set: VQASet, epochs: Int, task: String, lossName: String, extra: [Tensor],
        loss: ([Int], [(x: Int, y: Int)], RandomGenerator) -> Tensor
    ) throws {
        let model = system.model, config = system.run.model
        let images = Array(Set(set.examples.map(\.image))).sorted(), batch = 16
        log("\(task) pre-training on \(images.count) images for \(epochs) epochs")
        let adam = Adam.adamW([ParamGroup(model.visionEncoder.parameters() + extra, lr: options.learningRate, weightDecay: options.weightDecay)])
        let steps = (images.count + batch - 1) / batch
        let schedule = CosineWithWarmup(warmupSteps: min(options.warmupSteps, steps * epochs / 10), totalSteps: steps * epochs, minFactor: 0.05)
        model.train()
        for epoch in 1...epochs {
            let rng = RandomGenerator(seed: options.seed &+ 7919 &* UInt64(epoch))
            var order = images
            rng.shuffle(&order)
            let bar = TrainingProgress(epoch: epoch, steps: steps, unit: "img", label: "\(task) pre-training")
            var lossSum = 0.0
            for s in 0..<steps {
                adam.applySchedule(schedule.factor(at: (epoch - 1) * steps + s))
                let members = Array(order[(s * batch)..<min((s + 1) * batch, order.count)])
                let value = loss(members, set.crops(members.count, size: config.imageSize, rng: rng), rng)
                guard value.item.isFinite else {
                    throw DatasetError(folder, "\(task) pre-training loss became \(value.item) at epoch \(epoch), step \(s + 1); lower --lr")
                }
                adam.zeroGrad()
                value.backward()
                adam.step()
                lossSum += Double(value.item)
                bar.report(step: s + 1, loss: lossSum / Double(s + 1), items: (s + 1) * batch)
            }
            log(String(format: "\n%@ pre-training epoch %d: %@ %.4f", task, epoch, lossName, lossSum / Double(steps)))
        }
    }

    /// Writes the last weights, optimiser state and history; the best weights when selection improved.
    func checkpoint() throws {
        let meta = ["epoch": String(history.count)]
        let best = history.dropLast().map { $0.validation["selection"] ?? 0 }.max() ?? -.infinity
        try system.save(to: folder, weights: "last.safetensors", metadata: meta)
        try SafeTensors.write(optimizer.stateTensors(), to: folder.appendingPathComponent("optimizer.safetensors"))
        try writeJSON(history, to: folder.appendingPathComponent("history.json"))
        if (history.last!.validation["selection"] ?? 0) > best {
            try system.model.save(to: folder.appendingPathComponent("model.safetensors"), metadata: meta)
            log("  best so far: saved model.safetensors")
        }
    }

    func markFinished() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(VQAFinished(epochs: history.count, date: Date())), to: folder.appendingPathComponent("finished.json"))
    }
}
