import ArgumentParser
import Datasets
import Distributed
import Foundation
import Injection
import Metrics
import Pipeline
import Registry
import ReportGen
import Synthetic
import Tensor

/// R2Gen spells the datasets `iu_xray` and `mimic_cxr`; both spellings are accepted everywhere.
extension ReportDatasetKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.replacingOccurrences(of: "_", with: "-")) }
}
extension ReportGenConfig.Preset: ExpressibleByArgument {}
extension MissingImagePolicy: ExpressibleByArgument {}

/// Which of a run folder's weights to evaluate.
enum RunWeights: String, ExpressibleByArgument {
    case best, last
    var file: String { self == .best ? "model.safetensors" : "last.safetensors" }
}

/// The size of the memory-driven transformer.
struct ReportModelOptions: ParsableArguments {
    @Option(help: "Model size: cpu (default) or paper (R2Gen's).") var preset: ReportGenConfig.Preset?
    @Option(help: "Dropout of the encoder-decoder (R2Gen: 0.1).") var dropout: Float = 0.1

    func validate() throws {
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
    }
}

/// Where a report dataset comes from: R2Gen's layout in `--data-dir` (annotation.json + images/),
/// or the embedded phantom CXR corpus.
struct ReportDataOptions: ParsableArguments {
    @Option(help: "Dataset conventions (views, cleaning, vocabulary threshold, length).") var dataset: ReportDatasetKind = .iuXray
    @Option(help: "Folder with R2Gen's annotation.json and images/ (default: the embedded phantom CXR corpus).") var dataDir: String?
    @Option(help: "Studies in the embedded corpus.") var count = Self.defaultCount
    @Option(help: "Studies with missing or unreadable images: skip or fail (listing all).") var onMissing: MissingImagePolicy = .fail
    @Option(
        help: ArgumentHelp(
            "Training images: decoded up front (memory), by workers a few batches ahead (stream), or stream when they would take over "
                + "1 GiB decoded (auto)."))
    var images: ImageLoading = .auto

    func validate() throws { try Check.atLeast(count, 1, "--count") }

    func folder() throws -> URL {
        if let dataDir { return URL(fileURLWithPath: dataDir) }
        return try Self.embeddedCorpus(count: count)
    }

    static let defaultCount = 2000

    static func embeddedCorpus(count: Int = defaultCount) throws -> URL {
        try CorpusCache.ensure(.cxrReports, CorpusParameters(count: count, size: 256, seed: 0))
    }

    func read(_ folder: URL) throws -> ReportDataset { try dataset.read(folder) }
}

extension ImageLoading: ExpressibleByArgument {}

/// How `mrg-train` trains (R2Gen's `main.py` training arguments), and where the run goes.
struct ReportTrainingArguments: ParsableArguments {
    @Option(help: "Epochs at most (default: 15 on the embedded corpus; with --data-dir about 30,000 training studies, 3...15).")
    var epochs: Int?
    @Option(
        help: ArgumentHelp(
            "Stop when the --select-on metric has not improved for this many epochs (default: 5 with --data-dir; every epoch on the "
                + "embedded corpus; never with --select-on last)."))
    var patience: Int?
    @Option(help: "Studies per batch: the global batch, split over the ranks under mpirun.") var batchSize = 16
    @Option(help: "Parts each rank computes its share of a batch in, gradients summed (less memory, the same step).")
    var microBatches = 1
    @Option(help: "Learning rate of the encoder-decoder.") var lr: Float = 1e-3
    @Option(help: "Learning rate of the visual extractor.") var lrVisual: Float = 5e-4
    @Option(help: "StepLR: epochs per decay.") var stepSize = 10
    @Option(help: "Weight of the CheXpert-label loss on the visual extractor (0: R2Gen's loss alone).") var labelLoss: Float = 1
    @Option(
        help: ArgumentHelp(
            "Epochs training the visual extractor alone on the reports' CheXpert labels first "
                + "(our stand-in for R2Gen's ImageNet weights)."))
    var pretrainEpochs = ReportTrainingOptions().extractorPretrainEpochs
    @Option(
        help: ArgumentHelp(
            "Validation metric that picks the best weights (R2Gen: BLEU_4; e.g. CE_micro_F1_negative), a sum "
                + "(BLEU_4+CE_micro_F1_negative), or last: the final epoch's weights."))
    var selectOn = "BLEU_4"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Run folder (default runs/mrg-<dataset>-seed<seed>).") var out: String?
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false

    var options: ReportTrainingOptions {
        var options = ReportTrainingOptions()
        options.epochs = epochs ?? options.epochs; options.batchSize = batchSize; options.learningRate = lr
        options.visualLearningRate = lrVisual; options.stepSize = stepSize; options.seed = seed
        options.labelLossWeight = labelLoss
        options.extractorPretrainEpochs = pretrainEpochs; options.selectionMetric = selectOn
        options.patience = patience; options.microBatches = microBatches
        return options
    }

    func validate() throws {
        try MRGTrain.validateSelection(selectOn)
        if let epochs { try Check.atLeast(epochs, 1, "--epochs") }
        if let patience { try Check.atLeast(patience, 1, "--patience") }
        try Check.atLeast(batchSize, 1, "--batch-size")
        try Check.atLeast(microBatches, 1, "--micro-batches")
        if microBatches > batchSize { throw ValidationError("--micro-batches \(microBatches) is more than --batch-size \(batchSize)") }
        try Check.atLeast(stepSize, 1, "--step-size")
        try Check.atLeast(pretrainEpochs, 0, "--pretrain-epochs")
        try Check.positive(lr, "--lr")
        try Check.positive(lrVisual, "--lr-visual")
        try Check.positive(labelLoss, "--label-loss", orZero: true)
    }
}

public struct MRGTrain: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mrg-train", abstract: "Train the R2Gen memory-driven transformer for report generation.",
        discussion: "Without --data-dir it trains on the embedded phantom chest X-ray corpus (generated on first use).")
    public init() {}

    @OptionGroup(title: "Data") var data: ReportDataOptions
    @OptionGroup(title: "Model") var model: ReportModelOptions
    @OptionGroup(title: "Training") var training: ReportTrainingArguments
    @OptionGroup(title: "Grounding") var injection: GroundingInjectionOptions
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    /// `--select-on` must name a metric the validation pass records (also checked by `ablate`).
    static func validateSelection(_ metric: String) throws {
        guard metric != ReportTrainingOptions.finalEpoch else { return }
        let unknown = ReportScores.unknownNames(inSelection: metric)
        guard unknown.isEmpty else {
            throw ValidationError(
                "--select-on \(metric): \(unknown.map { "'\($0)'" }.joined(separator: ", ")) is not a validation metric; use one of "
                    + "\(ReportScores.names.joined(separator: ", ")), several joined by '+', or 'last' (the final epoch)"
            )
        }
    }

    /// `--resume` continues the model its run recorded: an option that shapes it must not ask for another.
    private func checkResumable(_ recorded: ReportGenConfig) throws {
        if let preset = model.preset {
            let asked = ReportGenConfig.preset(preset, dataset: recorded.dataset)
            if (asked.dModel, asked.layers, asked.imageSize) != (recorded.dModel, recorded.layers, recorded.imageSize) {
                let other = ReportGenConfig.Preset.allCases.first { $0 != preset }!
                throw RunFolder.changedOnResume("--preset", was: other.rawValue, now: preset.rawValue)
            }
        }
        if data.dataset != recorded.dataset {
            throw RunFolder.changedOnResume("--dataset", was: recorded.dataset.rawValue, now: data.dataset.rawValue)
        }
        if injection.withGrounding || injection.grounding != nil, injection.mode != recorded.injection.mode {
            throw RunFolder.changedOnResume("--grounding", was: recorded.injection.mode.rawValue, now: injection.mode.rawValue)
        }
    }

    public func run() throws {
        let ranks = try Communicator.startTraining(
            batchSize: training.batchSize, threads: threadOptions, dataFolder: training.resume ? nil : data.dataDir.map { URL(fileURLWithPath: $0) },
            annotation: "annotation.json")
        let (generator, dataset, folder, regions) = try start(ranks)
        var loader = generator.loader
        loader.onMissing = data.onMissing
        if let regions {
            loader.regions = regions
            loader.hints = try SpatialHints(named: "chest")
            print("grounding: injecting \(generator.run.model.injection.mode.rawValue) from \(generator.run.model.injection.source)")
        }
        let stream = loader.streams(data.images, studies: dataset.train.count)
        print(
            "loading \(dataset.train.count) train and \(dataset.val.count) val studies from \(generator.run.dataDir)"
                + (stream ? " (training images streamed: decoded a few batches ahead)" : ""))
        let train = try loader.load(dataset.train, from: dataset, split: "train", stream: stream)
        let val = try loader.load(dataset.val, from: dataset, split: "val")
        var options = training.options
        options.patience = training.patience ?? generator.run.patience
        options.epochs = training.epochs ?? generator.run.epochs ?? options.epochs
        print(
            "model: \(generator.model.parameterCount) parameters, vocabulary \(generator.tokenizer.vocabularySize - 1) words; run folder "
                + "\(folder.path)"
        )
        let trainer = try ReportTrainer(generator, options: options, folder: folder)
        trainer.communicator = ranks
        if training.resume { try trainer.resume() }
        guard ranks.isRoot else { return try trainer.train(train, validation: val) }
        let registry = try self.registry.open()
        struct Recorded: Encodable { var run: ReportRunConfig; var training: ReportTrainingOptions; var resumed: Bool; var ranks: Int }
        try trackRun(
            registry, task: "mrg", dataset: data.dataset.rawValue,
            config: Recorded(run: generator.run, training: options, resumed: training.resume, ranks: ranks.size),
            seed: training.seed, folder: folder, resumed: training.resume
        ) { record in
            trainer.onEpoch = { try registry.record($0.validation, run: record.id, split: "val", epoch: $0.epoch) }
            try trainer.train(train, validation: val)
            try registry.addArtefact(run: record.id, kind: "checkpoint", path: folder.appendingPathComponent("model.safetensors"))
            try registry.addArtefact(run: record.id, kind: "history", path: folder.appendingPathComponent("history.json"))
        }
        print("best weights: \(folder.appendingPathComponent("model.safetensors").path)")
    }

    /// What rank 0 decides and every rank trains with: the run folder, the run's config and
    /// tokenizer, the grounding injected (the other ranks take the weights from rank 0 later).
    struct SharedStart: Codable {
        var folder: String
        var run: ReportRunConfig
        var tokenizer: ReportTokenizer
        var regions: [String: [GroundedRegion]]?
    }

    /// Rank 0 chooses the folder and prepares the run (registry, grounding), the others receive it.
    private func start(_ ranks: Communicator) throws -> (ReportGenerator, ReportDataset, URL, [String: [GroundedRegion]]?) {
        var prepared: Prepared?
        var shared: SharedStart?
        if ranks.isRoot {
            let registry = try self.registry.open()
            let base = URL(fileURLWithPath: "runs/mrg-\(data.dataset.rawValue)-seed\(training.seed)")
            let folder = try RunFolder.choose(resume: training.resume, out: training.out, default: base)
            let root = try training.resume ? resumedGenerator(folder) : newGenerator(registry: registry)
            let run = root.generator.run
            var regions = root.regions
            if run.model.injection.mode != .none, regions == nil {
                regions = try ReportRegions.regions(
                    source: run.model.injection.source, root.dataset, dataDir: URL(fileURLWithPath: run.dataDir), registry: registry
                ).regions
            }
            prepared = root
            shared = SharedStart(folder: folder.path, run: run, tokenizer: root.generator.tokenizer, regions: regions)
        }
        guard let start = try ranks.broadcast(shared) else { throw ValidationError("rank 0 sent no run to train") }
        let generator = prepared?.generator ?? ReportGenerator(start.run, tokenizer: start.tokenizer)
        let dataset = try prepared?.dataset ?? data.read(URL(fileURLWithPath: start.run.dataDir))
        return (generator, dataset, URL(fileURLWithPath: start.folder), start.regions)
    }

    typealias Prepared = (generator: ReportGenerator, dataset: ReportDataset, regions: [String: [GroundedRegion]]?)

    /// The run in `folder` as it was recorded, with its last weights.
    private func resumedGenerator(_ folder: URL) throws -> Prepared {
        let generator = try ReportGenerator(runFolder: folder, weights: "last.safetensors")
        try checkResumable(generator.run.model)
        return (generator, try data.read(URL(fileURLWithPath: generator.run.dataDir)), nil)
    }

    /// A new run: the data, its tokenizer, the preset's model and what the Grounding options
    /// inject (with the regions found, so they are not computed twice).
    private func newGenerator(registry: RunRegistry) throws -> Prepared {
        let dir = try data.folder()
        let dataset = try data.read(dir)
        let tokenizer = ReportTokenizer(
            trainingReports: dataset.train.map(\.report), dataset: data.dataset.cleaning,
            threshold: data.dataset.vocabularyThreshold)
        var config = ReportGenConfig.preset(model.preset ?? .cpu, dataset: data.dataset)
        config.dropout = model.dropout
        var groundingRegions: [String: [GroundedRegion]]?
        if injection.mode != .none {
            let (regions, phrases, source) = try injection.regions(dataset, dataDir: dir, registry: registry)
            let hints = try SpatialHints(named: "chest")
            let thresholds = try injection.phraseThresholds(
                detected: regions, truth: { try ReportRegions.regions(source: "oracle", dataset, dataDir: dir, registry: registry).regions },
                images: dataset.val.map(\.id), anatomy: Set(hints.templates.anatomy))
            let vocabulary = hints.vocabulary(phrases: phrases, hedged: injection.groundingHedge > 0)
            config.injection = injection.injectionOptions(phrases: phrases, hintVocabulary: vocabulary, source: source, phraseThresholds: thresholds)
            groundingRegions = regions
        }
        let patience = training.patience ?? (data.dataDir != nil && training.selectOn != ReportTrainingOptions.finalEpoch ? 5 : nil)
        if training.patience == nil, let patience {
            print("patience: \(patience) epochs without a better validation \(training.selectOn) end the run (real data; --patience)")
        }
        var epochs: Int?
        if training.epochs == nil, data.dataDir != nil {
            let (chosen, reason) = ReportTrainingOptions.epochs(forTrainingStudies: dataset.train.count)
            print("epochs: \(reason) (real data; --epochs)")
            epochs = chosen
        }
        let run = ReportRunConfig(model: config, dataDir: dir.path, seed: training.seed, patience: patience, epochs: epochs)
        return (ReportGenerator(run, tokenizer: tokenizer), dataset, groundingRegions)
    }
}

public struct MRGEval: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mrg-eval", abstract: "Generate reports with a trained run and score them (BLEU, METEOR, ROUGE-L, CIDEr, CE).",
        discussion: """
            Writes predictions.jsonl (id, reference, generated) into the run folder. References are R2Gen's: the \
            report as its tokenizer sees it. CE is CheXpert-labeler precision/recall/F1 under both uncertain \
            policies (negative: R2Gen, positive: MLRG).
            """)
    public init() {}

    @Option(help: "Run folder written by mrg-train.") var checkpoint: String
    @Option(
        help:
            "Weights: best (picked by the run's --select-on) or last (the final epoch's; predictions-last.jsonl, metrics recorded under that epoch).")
    var weights: RunWeights = .best
    @Option(help: "Split to evaluate.") var split: DataSplit = .test
    @Option(help: "Beam size (default: the run's, 3).") var beam: Int?
    @Option(help: "Studies with missing or unreadable images: skip or fail.") var onMissing: MissingImagePolicy = .fail
    @Flag(help: "Also score two baselines: the most frequent training report and nearest-neighbour retrieval by image features.") var baselines =
        false
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    public func validate() throws { if let beam { try Check.atLeast(beam, 1, "--beam") } }

    public func run() throws {
        try withJSONOutput(json) { emit in
            try threadOptions.apply()
            let folder = URL(fileURLWithPath: checkpoint)
            let generator = try ReportGenerator(runFolder: folder, weights: weights.file)
            var epoch: Int?
            if weights == .last {
                guard let n = Int(generator.weightsMetadata["epoch"] ?? "") else {
                    throw ValidationError(
                        "\(folder.appendingPathComponent(weights.file).path) does not say which epoch it holds; it was not written by mrg-train")
                }
                epoch = n
            }
            let kind = generator.run.model.dataset
            let dataset = try kind.read(URL(fileURLWithPath: generator.run.dataDir))
            let split = self.split.rawValue
            let studies = dataset.split(split)!
            var loader = generator.loader
            loader.onMissing = onMissing
            if generator.run.model.injection.mode != .none {
                try injectGrounding(&loader, run: generator.run, dataset: dataset, registry: try registry.open(), regions: nil)
            }
            let examples = try loader.load(studies, from: dataset, split: split)
            let start = Date()
            let generated = generator.generate(examples, beamSize: beam)
            let seconds = Date().timeIntervalSince(start)
            let references = examples.map(generator.reference)
            let lines = try zip(examples, zip(references, generated)).map { e, pair in
                try jsonText(["id": e.id, "reference": pair.0, "generated": pair.1])
            }
            let predictions = folder.appendingPathComponent(weights == .best ? "predictions.jsonl" : "predictions-last.jsonl")
            try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: predictions)
            let labeler = try CheXpertLabeler()
            let ids = examples.map(\.id)
            let refs = Dictionary(uniqueKeysWithValues: zip(ids, references))
            var rows: [(String, ReportScores)] = [
                ("R2Gen (this run)", .compute(references: refs, hypotheses: Dictionary(uniqueKeysWithValues: zip(ids, generated)), labeler: labeler))
            ]
            if baselines {
                let train = try loader.load(dataset.train, from: dataset, split: "train")
                let frequent = ReportBaselines.mostFrequent(train.map(generator.reference))
                rows.append(
                    (
                        "most frequent report",
                        .compute(references: refs, hypotheses: Dictionary(uniqueKeysWithValues: ids.map { ($0, frequent) }), labeler: labeler)
                    ))
                let retrieved = ReportBaselines.nearestNeighbour(
                    queries: generator.imageFeatures(examples), keys: generator.imageFeatures(train),
                    reports: train.map(generator.reference))
                rows.append(
                    (
                        "nearest neighbour",
                        .compute(references: refs, hypotheses: Dictionary(uniqueKeysWithValues: zip(ids, retrieved)), labeler: labeler)
                    )
                )
            }
            try registry.open().recordEvaluation(
                metrics(rows), task: "mrg", dataset: kind.rawValue, seed: generator.run.seed, folder: folder,
                split: split, epoch: epoch, predictions: predictions)
            if json {
                var obj: [String: Any] = [
                    "split": split, "studies": examples.count, "predictions": predictions.path, "reports_per_second": Double(examples.count) / seconds
                ]
                for (name, s) in rows { obj[name] = s.flat }
                emit(try jsonText(obj))
                return
            }
            print(
                String(
                    format: "%@ split, %@ weights%@: %d studies, %.1f reports/s (beam %d); predictions in %@", split, weights.rawValue,
                    epoch.map { " (epoch \($0))" } ?? "", examples.count, Double(examples.count) / seconds, beam ?? generator.run.model.beamSize,
                    predictions.path))
            let header = ["BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "CE-P", "CE-R", "CE-F1", "CE-F1(+)"]
            print(
                "".padding(toLength: 22, withPad: " ", startingAt: 0) + header.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
            for (name, s) in rows {
                let neg = s.ce["negative"]!["micro"]!, pos = s.ce["positive"]!["micro"]!
                let values = ReportScores.columns.map { s.nlg[$0] ?? 0 } + [neg["P"]!, neg["R"]!, neg["F1"]!, pos["F1"]!]
                print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + values.map { String(format: "%-9.4f", $0) }.joined())
            }
            print("CE: micro-averaged over 14 CheXpert observations; uncertain as negative (R2Gen), F1(+) with uncertain as positive (MLRG)")
        }
    }

    /// The run's metrics, each baseline's under its prefix.
    func metrics(_ rows: [(String, ReportScores)]) -> [String: Double] {
        var metrics = rows[0].1.flat
        for (name, scores) in rows.dropFirst() {
            let prefix = name == "most frequent report" ? "baseline_frequent_" : "baseline_nn_"
            for (k, v) in scores.flat { metrics[prefix + k] = v }
        }
        return metrics
    }
}

/// Gives the loader the run's grounded regions (recomputed from its recorded source, or the cache) and hint templates.
func injectGrounding(
    _ loader: inout ReportLoader, run: ReportRunConfig, dataset: ReportDataset, registry: RunRegistry,
    regions: [String: [GroundedRegion]]?
) throws {
    let source = run.model.injection.source
    loader.regions =
        try regions ?? ReportRegions.regions(source: source, dataset, dataDir: URL(fileURLWithPath: run.dataDir), registry: registry).regions
    loader.hints = try SpatialHints(named: "chest")
    print("grounding: injecting \(run.model.injection.mode.rawValue) from \(source)")
}
