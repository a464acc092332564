import Datasets
import Distributed
import Foundation
import Metrics
import Tensor

/// Training options for `ground-train`.
public struct GroundingTrainingOptions: Sendable {
    public var epochs = 12
    public var batchSize = 8
    public var learningRate: Float = 2e-3
    public var weightDecay: Float = 1e-4
    public var warmupFraction: Float = 0.05
    public var clipNorm: Float = 5
    public var seed: UInt64 = 0
    /// `RepeatFactorSampling`'s threshold; 0 shows every image once per epoch.
    public var repeatThreshold: Double = 0
    /// Who gets a point claimed by several boxes (`ATSSAssigner.Ambiguity`).
    public var ambiguity = ATSSAssigner.Ambiguity.largestIoU
    /// What each training image goes through.
    public var augmentation = GroundingAugmentation.phantoms
    /// Stop when validation AP has not improved for this many epochs (nil: train every epoch).
    public var patience: Int?
    /// Parts each rank computes its share of a batch in (see `ReportTrainingOptions.microBatches`).
    public var microBatches = 1
    public init() {}
}

/// Trains a `Grounder`, validating COCO AP each epoch, keeping the best weights and everything
/// needed to resume: `model.safetensors` (best), `last.safetensors`, `optimizer.safetensors`,
/// `config.json`, `history.json`.
public final class GroundingTrainer {
    public struct EpochRecord: Codable, Sendable {
        public var epoch: Int
        public var loss, classification, regression, centerness: Double
        public var imagesPerSecond: Double
        public var valAP, valAP50: Double
        /// Ranks and allreduce cost (nil in one process).
        public var dataParallel: DataParallelEpoch?
    }

    let grounder: Grounder
    let options: GroundingTrainingOptions
    let folder: URL
    let optimizer: Adam
    let log: (String) -> Void
    public private(set) var history: [EpochRecord] = []

    /// Called after each epoch's checkpoint (the CLI records the epoch in the run registry).
    public var onEpoch: ((EpochRecord) throws -> Void)?
    /// The ranks that train together (see `ReportTrainer.communicator`).
    public var communicator = Communicator.single

    public init(_ grounder: Grounder, options: GroundingTrainingOptions, folder: URL, log: @escaping (String) -> Void = { print($0) }) {
        self.grounder = grounder; self.options = options; self.folder = folder; self.log = log
        optimizer = Adam.adamW([ParamGroup(grounder.model.parameters(), lr: options.learningRate, weightDecay: options.weightDecay)])
    }

    /// Continues from `last.safetensors`, the optimiser state and `history.json` in the run folder.
    public func resume() throws {
        history = try communicator.resumed(optimizer, empty: []) {
            try grounder.model.load(from: folder.appendingPathComponent("last.safetensors"))
            try optimizer.loadState(SafeTensors.read(folder.appendingPathComponent("optimizer.safetensors")).tensors)
            return try decodeJSON([EpochRecord].self, from: folder.appendingPathComponent("history.json"))
        }
        log("resumed after epoch \(history.count)")
    }

    public func train(_ train: [GroundingSample], validation: [GroundingSample], categories: [Datasets.Category]) throws {
        let rng = RandomGenerator(seed: options.seed &+ UInt64(history.count))
        let sampling = options.repeatThreshold > 0 ? RepeatFactorSampling(train, threshold: options.repeatThreshold) : nil
        if let sampling {
            log(
                String(
                    format: "repeat-factor sampling at %.3g: about %d images per epoch from %d", options.repeatThreshold, sampling.expectedCount,
                    train.count))
        }
        // An epoch's length varies a little under sampling; the schedule runs on its expected length.
        let stepsPerEpoch =
            sampling.map { ($0.expectedCount + options.batchSize - 1) / options.batchSize }
            ?? modalityBatches(train, batchSize: options.batchSize, rng: nil).count
        let schedule = CosineWithWarmup(
            warmupSteps: max(1, Int(Float(stepsPerEpoch * options.epochs) * options.warmupFraction)),
            totalSteps: max(2, stepsPerEpoch * options.epochs), minFactor: 0.05)
        let loss = GroundingLoss(grid: grounder.grid, ambiguity: options.ambiguity)
        guard history.count < options.epochs else { log("all \(options.epochs) epochs are done"); return }
        if let reason = stopReason() { log(reason); return }
        try communicator.broadcast(grounder.model)
        for epoch in (history.count + 1)...options.epochs {
            grounder.model.train()
            let batches = modalityBatches(sampling?.epoch(train, rng: rng) ?? train, batchSize: options.batchSize, rng: rng)
            var sums = (total: 0.0, cls: 0.0, reg: 0.0, ctr: 0.0), seen = 0
            let bar = TrainingProgress(epoch: epoch, steps: batches.count, unit: "img")
            let traffic = communicator.traffic
            for (k, batch) in batches.enumerated() {
                // The phrases come in a new order every batch (as GLIP shuffles its prompts), so a phrase's
                // meaning is learned from its words, not from where it sits in the prompt.
                var phrases = try grounder.prompt(batch[0].modality).phrases
                rng.shuffle(&phrases)
                let prompt = try GroundingPrompt(phrases: phrases, tokenizer: grounder.run.tokenizer, maxTokens: grounder.run.model.maxTokens)
                optimizer.applySchedule(schedule.factor(at: (epoch - 1) * stepsPerEpoch + k))
                let terms = try step(batch, prompt: prompt, loss: loss, rng: rng)
                guard terms.total.isFinite else {
                    throw PromptError(
                        problem:
                            "loss became \(terms.total) at epoch \(epoch), step \(k + 1): lower --lr; the last good weights are in \(folder.path)"
                    )
                }
                sums.total += terms.total; sums.cls += terms.cls; sums.reg += terms.reg; sums.ctr += terms.ctr
                seen += batch.count
                bar.report(step: k + 1, loss: sums.total / Double(k + 1), items: seen)
            }
            let rate = Double(seen) / max(bar.elapsed, 1e-9)
            let found = try communicator.allGather(grounder.detect(communicator.shard(validation)))
            let val = try grounder.evaluate(validation, categories: categories, detections: found).overall
            let n = Double(max(batches.count, 1))
            history.append(
                EpochRecord(
                    epoch: epoch, loss: sums.total / n, classification: sums.cls / n, regression: sums.reg / n,
                    centerness: sums.ctr / n, imagesPerSecond: rate, valAP: val[stat: "AP"]!, valAP50: val[stat: "AP50"]!,
                    dataParallel: communicator.epochSummary(since: traffic)))
            log(
                String(
                    format: "\nepoch %d: loss %.4f (cls %.4f, giou %.4f, ctr %.4f), %.1f images/s, val AP %.3f AP50 %.3f",
                    epoch, sums.total / n, sums.cls / n, sums.reg / n, sums.ctr / n, rate, val[stat: "AP"]!, val[stat: "AP50"]!))
            if communicator.isRoot {
                try checkpoint(bestAP: history.dropLast().map(\.valAP).max() ?? -.infinity)
                try onEpoch?(history.last!)
            }
            if let reason = stopReason() { log(reason); return }
        }
        log("stopped after the last of \(options.epochs) epochs (--epochs)")
    }

    /// One optimizer step on a global batch; returns its loss terms. Every rank draws each image's
    /// augmentation generator for the whole batch and prepares its own parts; the positive points
    /// and centerness targets of the whole batch (summed over parts and ranks) normalise every
    /// part's loss, so the summed gradients are the whole batch's.
    func step(
        _ batch: [GroundingSample], prompt: GroundingPrompt, loss: GroundingLoss, rng: RandomGenerator
    ) throws -> (total: Double, cls: Double, reg: Double, ctr: Double) {
        let generators = batch.map { _ in RandomGenerator(seed: rng.next()) }, dropoutSeed = rng.next()
        let s = grounder.run.imageSize, params = grounder.model.parameters()
        let parts = communicator.parts(batch.count, microBatches: options.microBatches)
        let prepared = try parts.map { part in
            try part.map { try prepare(batch[$0], size: s, prompt: prompt, rng: generators[$0], augmentation: options.augmentation) }
        }
        let assignments = prepared.map { loss.assign($0.map(\.target), prompt: prompt) }
        var normalisers = [Double(assignments.reduce(0) { $0 + $1.positives }), assignments.reduce(0) { $0 + Double($1.centernessSum) }]
        try communicator.sum(&normalisers)
        optimizer.zeroGrad()
        var values = [Double](repeating: 0, count: 4), gradients = PartGradients(params)
        for (images, assignment) in zip(prepared, assignments) {
            let pixels = Tensor(shape: [images.count, 3, s, s], data: images.flatMap(\.pixels))
            grounder.model.reseedDropout(dropoutSeed)
            let out = try grounder.model.forward(images: pixels, modality: batch[0].modality ?? "unknown", promptIDs: prompt.tokenIDs)
            let terms = loss.terms(out, assignment, positives: Int(normalisers[0]), centernessSum: Float(normalisers[1]))
            let total = terms.total
            values[0] += Double(total.item); values[1] += Double(terms.classification.item)
            values[2] += Double(terms.regression.item); values[3] += Double(terms.centerness.item)
            if values[0].isFinite { total.backward() }
            gradients.take(params)
        }
        gradients.restore(params)
        try communicator.sum(&values)
        if values[0].isFinite {
            try communicator.sumGradients(params)
            clipGradNorm(params, maxNorm: options.clipNorm)
            optimizer.step()
        }
        return (values[0], values[1], values[2], values[3])
    }

    func stopReason() -> String? { Self.stopReason(history, patience: options.patience) }

    static func stopReason(_ history: [EpochRecord], patience: Int?) -> String? {
        guard let patience, let reason = Patience(epochs: patience).stopReason(history.map(\.valAP), metric: "AP") else { return nil }
        let best = Patience.best(history.map(\.valAP))!
        return reason + String(format: " (AP50 %.3f)", history[best].valAP50)
    }

    /// Writes the last weights, optimiser state and history; the best weights when AP improved.
    func checkpoint(bestAP: Double) throws {
        let meta = ["epoch": String(history.count)]
        try grounder.save(to: folder, weights: "last.safetensors", metadata: meta)
        try SafeTensors.write(optimizer.stateTensors(), to: folder.appendingPathComponent("optimizer.safetensors"))
        try writeJSON(history, to: folder.appendingPathComponent("history.json"))
        if history.last!.valAP > bestAP || !FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            try grounder.model.save(to: folder.appendingPathComponent("model.safetensors"), metadata: meta)
            log("  best so far: saved model.safetensors")
        }
    }
}
