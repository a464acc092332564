import Datasets
import Distributed
import Foundation
import Metrics
import Tensor

/// R2Gen's training recipe: Adam with AMSGrad and weight decay 5e-5, one learning rate for the
/// visual extractor and one for the rest, gradients clipped by value at 0.1, StepLR per epoch.
/// R2Gen's rates (5e-5 / 1e-4) suit an ImageNet-initialised ResNet; trained from scratch the
/// defaults here are higher.
public struct ReportTrainingOptions: Codable, Sendable {
    public var epochs = 15
    /// Stop when the selection metric has not improved for this many epochs (nil: every epoch; not with `last`).
    public var patience: Int?
    public var batchSize = 16
    public var visualLearningRate: Float = 5e-4
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 5e-5
    public var clipValue: Float = 0.1
    public var stepSize = 10
    public var gamma: Float = 0.1
    /// Weight of the CheXpert-label loss on the visual extractor (0: R2Gen's loss alone).
    public var labelLossWeight: Float = 1
    /// Epochs of training the visual extractor alone on the training reports' CheXpert labels
    /// before the report loss starts. R2Gen starts from ImageNet weights, which cannot be fetched
    /// here; without a warm start the decoder learns the fluent normal report long before the
    /// extractor sees anything, and then ignores the image. With 4 epochs (label BCE 0.23 against
    /// the prior's ~0.29) one seed in three still wrote the normal report for every study; 12 bring
    /// the BCE to 0.12 and that seed read the image from the fourth epoch.
    public var extractorPretrainEpochs = 12
    /// Parts each rank's share of a global batch is computed in, one after another, their
    /// gradients summed: the memory of a smaller batch, the step of the whole one. N ranks with one
    /// part each compute what one process with N parts does.
    public var microBatches = 1
    /// Training studies (epochs x studies) real data gets by default: IU-Xray's 2,069 get 14,
    /// MIMIC-CXR's 270,790 (8 hours an epoch on 2 cores) the 3-epoch minimum.
    public static let studiesSeen = 30_000

    /// Epochs that show the model about `studiesSeen` training studies, within 3...15, and why.
    public static func epochs(forTrainingStudies count: Int) -> (Int, String) {
        let epochs = min(15, max(3, Int((Double(studiesSeen) / Double(max(count, 1))).rounded())))
        return (epochs, "\(epochs) epochs at most: about \(studiesSeen) training studies for \(count) studies")
    }
    /// The validation metric that picks `model.safetensors` (R2Gen: BLEU-4), a sum of them
    /// ("BLEU_4+CE_micro_F1_negative": language and clinical content weighed alike), or
    /// `finalEpoch`: no selection, the last epoch's weights.
    public var selectionMetric = "BLEU_4"
    public static let finalEpoch = "last"
    public var seed: UInt64 = 0
    public init() {}
}

/// Trains a `ReportGenerator`, scoring the validation split each epoch (beam search) and keeping
/// the weights with the best selection metric (BLEU-4 unless told) as `model.safetensors`; `last.safetensors`,
/// `optimizer.safetensors` and `history.json` let `--resume` continue a killed run.
public final class ReportTrainer {
    public struct EpochRecord: Codable, Sendable {
        public var epoch: Int
        public var loss: Double
        public var tokensPerSecond: Double
        public var studiesPerSecond: Double?
        public var validation: [String: Double]
        /// Ranks and allreduce cost (nil in one process).
        public var dataParallel: DataParallelEpoch?
    }

    let generator: ReportGenerator
    let options: ReportTrainingOptions
    let folder: URL
    let optimizer: Adam
    let labeler: CheXpertLabeler
    let log: (String) -> Void
    public private(set) var history: [EpochRecord] = []
    /// Called after each epoch's checkpoint is written (the CLI records the metrics in the run registry).
    public var onEpoch: ((EpochRecord) throws -> Void)?
    /// The ranks that train together (one process unless started by mpirun): each trains on its
    /// part of every global batch, gradients are summed, and only rank 0 writes files.
    public var communicator = Communicator.single

    public init(_ generator: ReportGenerator, options: ReportTrainingOptions, folder: URL, log: @escaping (String) -> Void = { print($0) }) throws {
        self.generator = generator; self.options = options; self.folder = folder; self.log = log
        let visual = Set(generator.model.visualExtractor.parameters().map(ObjectIdentifier.init))
        let all = generator.model.parameters()
        optimizer = Adam(
            [
                ParamGroup(all.filter { visual.contains(ObjectIdentifier($0)) }, lr: options.visualLearningRate, weightDecay: options.weightDecay),
                ParamGroup(all.filter { !visual.contains(ObjectIdentifier($0)) }, lr: options.learningRate, weightDecay: options.weightDecay)
            ],
            amsgrad: true)
        labeler = try CheXpertLabeler()
    }

    /// Continues from `last.safetensors`, the optimiser state and `history.json`.
    public func resume() throws {
        history = try communicator.resumed(optimizer, empty: []) {
            try generator.model.load(from: folder.appendingPathComponent("last.safetensors"))
            try optimizer.loadState(SafeTensors.read(folder.appendingPathComponent("optimizer.safetensors")).tensors)
            return try decodeJSON([EpochRecord].self, from: folder.appendingPathComponent("history.json"))
        }
        log("resumed after epoch \(history.count)")
    }

    public func train(_ train: [ReportExample], validation: [ReportExample]) throws {
        guard !train.isEmpty else { throw ReportDataError(problems: ["no training studies"], advice: "") }
        guard history.count < options.epochs, stopReason() == nil else { log("all epochs are done"); return }
        let schedule = StepLR(stepSize: options.stepSize, gamma: options.gamma)
        let model = generator.model
        if communicator.isRoot && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            try generator.save(to: folder)
        }
        try communicator.broadcast(model)
        if history.isEmpty && options.extractorPretrainEpochs > 0 { try pretrainExtractor(train) }
        for epoch in (history.count + 1)...options.epochs {
            let rng = RandomGenerator(seed: options.seed &+ UInt64(epoch))
            var order = Array(train.indices)
            rng.shuffle(&order)
            optimizer.applySchedule(schedule.factor(at: epoch - 1))
            model.train()
            let batches = Self.batches(order, size: options.batchSize).map { $0.map { train[$0] } }, steps = batches.count
            let bar = TrainingProgress(epoch: epoch, steps: steps, unit: "tok")
            let traffic = communicator.traffic
            var lossSum = 0.0, tokens = 0
            let prefetcher = try prefetch(batches)
            defer { prefetcher?.stop() }
            for step in 0..<steps {
                let batch = batches[step]
                let loss = try trainingStep(batch, rng: rng, decoded: prefetcher?.take(step))
                guard loss.isFinite else {
                    throw ReportDataError(
                        problems: ["loss became \(loss) at epoch \(epoch), step \(step + 1)"],
                        advice: "training stopped; the last good weights are in \(folder.path) (last.safetensors, model.safetensors); lower --lr")
                }
                lossSum += loss
                tokens += Self.targetTokens(batch)
                bar.report(step: step + 1, loss: lossSum / Double(step + 1), items: tokens)
            }
            let rate = Double(tokens) / max(bar.elapsed, 1e-9)
            let scores = try evaluate(validation)
            history.append(
                EpochRecord(
                    epoch: epoch, loss: lossSum / Double(steps), tokensPerSecond: rate,
                    studiesPerSecond: Double(order.count) / max(bar.elapsed, 1e-9), validation: scores.flat,
                    dataParallel: communicator.epochSummary(since: traffic)))
            log(
                String(
                    format: "\nepoch %d: loss %.4f, %.0f tokens/s; val BLEU-4 %.4f METEOR %.4f ROUGE-L %.4f CE-F1 %.4f",
                    epoch, lossSum / Double(steps), rate, scores.bleu4, scores.nlg["METEOR"] ?? 0, scores.nlg["ROUGE_L"] ?? 0,
                    scores.ce["negative"]?["micro"]?["F1"] ?? 0))
            if communicator.isRoot {
                try checkpoint()
                try onEpoch?(history.last!)
            }
            if let reason = stopReason() { log(reason); return }
        }
    }

    /// `order` cut into batches of `size` (the last may be shorter).
    static func batches(_ order: [Int], size: Int) -> [[Int]] {
        stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }

    /// A prefetcher decoding this rank's parts of `batches` ahead, when the studies are streamed.
    func prefetch(_ batches: [[ReportExample]]) throws -> ReportPrefetcher? {
        guard batches.first?.first?.isPending == true else { return nil }
        return try ReportPrefetcher(
            loader: generator.loader,
            steps: batches.map { b in communicator.parts(b.count, microBatches: options.microBatches).flatMap { Array(b[$0]) } })
    }

    /// One optimizer step on a global batch; returns its loss. Every rank draws the batch's random
    /// numbers (withheld grounding, crop offsets) for the whole batch, so each study sees what it
    /// would in one process; each part's loss is weighted by its share of the batch's tokens and
    /// studies, so the gradients summed over parts and ranks are the whole batch's.
    /// `decoded`: this rank's parts of the batch, decoded by the prefetcher (streamed studies).
    func trainingStep(_ batch: [ReportExample], rng: RandomGenerator, decoded: [ReportExample]? = nil) throws -> Double {
        let model = generator.model, views = generator.run.model.dataset.viewsPerStudy
        let withheld = batch.map { _ in generator.run.model.injection.withholds(rng) }
        let crops = batch.map { _ in RandomGenerator(seed: rng.next()) }
        let (allTokens, allStudies) = (Float(Self.targetTokens(batch)), Float(batch.count))
        optimizer.zeroGrad()
        let params = model.parameters()
        var loss = 0.0, gradients = PartGradients(params)
        var offset = 0
        for part in communicator.parts(batch.count, microBatches: options.microBatches) {
            let local = decoded.map { Array($0[offset..<(offset + part.count)]) } ?? Array(batch[part])
            offset += part.count
            let regions = zip(part, local).map { withheld[$0] ? [] : $1.regions }, hints = zip(part, local).map { withheld[$0] ? [] : $1.hints }
            let features = model.attentionFeatures(generator.loader.batch(local, rngs: Array(crops[part])), views: views, regions: regions)
            let words = model.loss(encoded: model.encode(features, hints: hints), sequences: local.map(\.sequence))
            var objective = (Float(Self.targetTokens(local)) / allTokens) * words
            if options.labelLossWeight > 0 {
                let labels = bceWithLogits(model.labelLogits(features), targets: Self.labelTargets(local))
                objective = objective + (options.labelLossWeight * Float(local.count) / allStudies) * labels
            }
            loss += Double(objective.item)
            if loss.isFinite { objective.backward() }
            gradients.take(params)
        }
        gradients.restore(params)
        loss = try communicator.sum(loss)
        guard loss.isFinite else { return loss }
        try communicator.sumGradients(params)
        clipGradValue(params, options.clipValue)
        optimizer.step()
        return loss
    }

    /// The tokens a batch's report loss is averaged over (each sequence's targets).
    static func targetTokens(_ batch: [ReportExample]) -> Int { batch.reduce(0) { $0 + $1.sequence.count - 1 } }

    func stopReason() -> String? {
        let rule = options.selectionMetric
        guard let patience = options.patience, rule != ReportTrainingOptions.finalEpoch else { return nil }
        return Patience(epochs: patience).stopReason(history.map { ReportScores.selectionScore(rule, $0.validation) }, metric: rule)
    }

    /// The extractor and the label head alone on the CheXpert labels of the training reports,
    /// with the extractor's learning rate doubled (nothing else is trained yet).
    func pretrainExtractor(_ train: [ReportExample]) throws {
        let model = generator.model, views = generator.run.model.dataset.viewsPerStudy
        let params = model.visualExtractor.parameters() + model.labelHead.parameters()
        let adam = Adam([ParamGroup(params, lr: 2 * options.visualLearningRate, weightDecay: options.weightDecay)], amsgrad: true)
        model.train()
        for epoch in 1...options.extractorPretrainEpochs {
            let rng = RandomGenerator(seed: options.seed &+ 7919 &* UInt64(epoch))
            var order = Array(train.indices)
            rng.shuffle(&order)
            let batches = Self.batches(order, size: options.batchSize).map { $0.map { train[$0] } }, steps = batches.count
            let bar = TrainingProgress(epoch: epoch, steps: steps, unit: "img", label: "extractor pre-training")
            var lossSum = 0.0
            let prefetcher = try prefetch(batches)
            defer { prefetcher?.stop() }
            for step in 0..<steps {
                let batch = batches[step], decoded = try prefetcher?.take(step)
                let crops = batch.map { _ in RandomGenerator(seed: rng.next()) }
                var offset = 0
                adam.zeroGrad()
                var loss = 0.0, gradients = PartGradients(params)
                for part in communicator.parts(batch.count, microBatches: options.microBatches) {
                    let local = decoded.map { Array($0[offset..<(offset + part.count)]) } ?? Array(batch[part])
                    offset += part.count
                    let features = model.attentionFeatures(generator.loader.batch(local, rngs: Array(crops[part])), views: views)
                    let share = Float(local.count) / Float(batch.count)
                    let objective = share * bceWithLogits(model.labelLogits(features), targets: Self.labelTargets(local))
                    loss += Double(objective.item)
                    if loss.isFinite { objective.backward() }
                    gradients.take(params)
                }
                gradients.restore(params)
                loss = try communicator.sum(loss)
                guard loss.isFinite else {
                    throw ReportDataError(
                        problems: ["extractor pre-training loss became \(loss) at epoch \(epoch), step \(step + 1)"], advice: "lower --lr-visual")
                }
                try communicator.sumGradients(params)
                adam.step()
                lossSum += loss
                bar.report(step: step + 1, loss: lossSum / Double(step + 1), items: (step + 1) * batch.count * views)
            }
            log(String(format: "\nextractor pre-training epoch %d: label BCE %.4f", epoch, lossSum / Double(steps)))
        }
    }

    /// The studies' 14 CheXpert labels `[B, 14]`, the label head's targets.
    static func labelTargets(_ batch: [ReportExample]) -> Tensor {
        Tensor(shape: [batch.count, chexpertObservations.count], data: batch.flatMap(\.labels))
    }

    /// Scores generated reports against R2Gen's references for `examples`; each rank generates its
    /// part and every rank scores them all.
    public func evaluate(_ examples: [ReportExample]) throws -> ReportScores {
        let generated = try communicator.allGather(generator.generate(communicator.shard(examples)))
        let refs = Dictionary(uniqueKeysWithValues: examples.map { ($0.id, generator.reference($0)) })
        let hyps = Dictionary(uniqueKeysWithValues: zip(examples.map(\.id), generated))
        return ReportScores.compute(references: refs, hypotheses: hyps, labeler: labeler)
    }

    /// Writes the last weights, optimiser state and history; the best weights when the selection metric improved.
    func checkpoint() throws {
        let meta = ["epoch": String(history.count)]
        let rule = options.selectionMetric
        let score = { (record: EpochRecord) in ReportScores.selectionScore(rule, record.validation) }
        let best = history.dropLast().map(score).max() ?? -.infinity
        try generator.save(to: folder, weights: "last.safetensors", metadata: meta)
        try SafeTensors.write(optimizer.stateTensors(), to: folder.appendingPathComponent("optimizer.safetensors"))
        try writeJSON(history, to: folder.appendingPathComponent("history.json"))
        let keepLast = rule == ReportTrainingOptions.finalEpoch
        if keepLast || score(history.last!) > best {
            try generator.model.save(to: folder.appendingPathComponent("model.safetensors"), metadata: meta)
            if !keepLast { log("  best so far: saved model.safetensors") }
        }
    }
}
