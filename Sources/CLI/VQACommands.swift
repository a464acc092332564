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
import VQA

extension VQADatasetKind: ExpressibleByArgument {}
extension VQAHead: ExpressibleByArgument {}
extension VQARAD.ValidationGrouping: ExpressibleByArgument {}

/// Where VQA data comes from: `--data-dir` in the dataset's own layout, or (SLAKE only) the
/// embedded SLAKE-format phantom corpus.
struct VQADataOptions: ParsableArguments {
    @Option(help: "Dataset format: slake or vqa-rad.") var dataset: VQADatasetKind = .slake
    @Option(help: "Folder in the dataset's layout (default for slake: the embedded SLAKE-format corpus).") var dataDir: String?
    @Option(help: "Images in the embedded SLAKE-format corpus.") var count = defaultParameters(.slake).count
    @Option(
        help: ArgumentHelp(
            "How VQA-RAD's validation split is carved from trainset.json: image (validation images unseen in training) "
                + "or question (every validation image also has training questions, as in VQA-RAD's official test split).",
            valueName: "grouping")) var valGrouping: VQARAD.ValidationGrouping = .image

    func validate() throws {
        guard valGrouping == .image || dataset == .vqaRad else {
            throw ValidationError("--val-grouping applies to --dataset vqa-rad (SLAKE ships its own validation split)")
        }
    }

    func folder() throws -> URL {
        if let dataDir { return URL(fileURLWithPath: dataDir) }
        guard dataset == .slake else { throw ValidationError("--dataset vqa-rad needs --data-dir (the folder with trainset.json and images/)") }
        return try Self.embeddedSlake(count: count)
    }

    static func embeddedSlake(count: Int = defaultParameters(.slake).count) throws -> URL {
        var parameters = defaultParameters(.slake)
        parameters.count = count
        return try CorpusCache.ensure(.slake, parameters)
    }
}

/// A command-line failure that is not a usage mistake (so no usage text follows it).
struct VQACommandError: Error, CustomStringConvertible {
    let description: String
}

/// The default folder all VQA runs live under.
let vqaRunsRoot = URL(fileURLWithPath: "runs")

/// The newest finished VQA run for `dataset` in the run registry: eval's default checkpoint.
func newestFinishedVQARun(dataset: VQADatasetKind, registry: RunRegistry) throws -> URL? {
    try registry.runs(task: "vqa", dataset: dataset.rawValue, status: .finished).first.map { URL(fileURLWithPath: $0.folder) }
}

/// The VQA model's shape, recorded in the run's config.json.
struct VQAModelOptions: ParsableArguments {
    @Option(help: "Answer head: generate (LLaVA) or classify (answer classes, as MEVF/M3AE are scored).")
    var head: VQAHead = .generate
    @Option(help: "Transformer layers of the language model.") var layers = VQAConfig().layers
    @Option(help: "Width of the language model (its feed-forward layer is twice as wide); a multiple of its 4 heads.")
    var dModel = VQAConfig().dModel
    @Option(help: "Input side in pixels; the patch grid is the side over 2^(number of --vision-channels).") var imageSize = VQAConfig().imageSize
    @Option(
        help: ArgumentHelp(
            "Vision CNN widths, comma-separated: the stem's, then one stride-2 stage per further entry (fewer entries, finer patch grid).",
            valueName: "widths"))
    var visionChannels = VQAConfig().channels.map(String.init).joined(separator: ",")
    @Option(help: "Dropout of the language model's embeddings, attention and feed-forward layers.") var dropout: Float = VQAConfig().dropout

    func validate() throws {
        try VQATrain.validateLayers(layers)
        guard (16...1024).contains(dModel), dModel % VQAConfig().heads == 0 else {
            throw ValidationError("--d-model must be a multiple of \(VQAConfig().heads) in 16...1024, got \(dModel)")
        }
        guard dropout.isFinite, (0..<1).contains(dropout) else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        let channels = try parsedVisionChannels()
        // The stem and every stage of the vision encoder halve the image.
        let stride = 1 << channels.count
        guard (32...512).contains(imageSize), imageSize % stride == 0 else {
            throw ValidationError("--image-size must be a multiple of \(stride) in 32...512, got \(imageSize)")
        }
        guard imageSize / stride >= 2 else {
            throw ValidationError("--image-size \(imageSize) with \(channels.count) vision widths leaves a patch grid under 2 x 2")
        }
    }

    /// `--vision-channels` as widths: 2 to 6 entries, each a multiple of 8 (GroupNorm's 8 groups).
    func parsedVisionChannels() throws -> [Int] {
        let parts = visionChannels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let widths = parts.compactMap { Int($0) }
        guard widths.count == parts.count, (2...6).contains(widths.count), widths.allSatisfy({ $0 >= 8 && $0 % 8 == 0 && $0 <= 1024 }) else {
            throw ValidationError("--vision-channels must be 2 to 6 comma-separated widths, each a multiple of 8 up to 1024, got '\(visionChannels)'")
        }
        return widths
    }
}

/// Pre-training of the vision encoder before the VQA epochs.
struct VQAPretrainingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Weight of an auxiliary loss teaching the vision encoder where the training images' annotated boxes are "
                + "(SLAKE's detection.json); 0: off.",
            valueName: "W")) var localizationLoss: Float = 0
    @Option(
        help: ArgumentHelp(
            "Epochs of the vision encoder on the localization loss alone before the VQA epochs (needs --localization-loss).",
            valueName: "E")) var localizationPretrain = 0
    @Option(
        help: ArgumentHelp(
            "A SLAKE-format folder (e.g. from `medglip corpus generate --kind slake --seed 1`) whose images and detection.json "
                + "boxes the pre-training epochs use instead of the training split's; refused if it holds a validation or test image.",
            valueName: "DIR")) var localizationPretrainData: String?
    @Option(
        help: ArgumentHelp(
            "Epochs of denoising auto-encoder pre-training of the vision encoder on the training images "
                + "(MEVF's CDAE; needs no labels), before everything else.",
            valueName: "E")) var autoencoderPretrain = 0

    func validate() throws {
        try VQATrain.validateLocalization(loss: localizationLoss, pretrain: localizationPretrain)
        guard autoencoderPretrain >= 0 else { throw ValidationError("--autoencoder-pretrain must be >= 0, got \(autoencoderPretrain)") }
        guard localizationPretrainData == nil || localizationPretrain > 0 else {
            throw ValidationError("--localization-pretrain-data needs --localization-pretrain > 0 (the epochs it is used for)")
        }
    }
}

/// What training images go through besides random crops.
enum VQAAugmentation: String, ExpressibleByArgument, CaseIterable {
    /// Mirror left-right half of the images whose questions, answers, hints and regions name no side.
    case flip
    case none
}

/// The optimisation schedule and where the run is written.
struct VQARunOptions: ParsableArguments {
    @Option(help: "Epochs at most (default: 25 on the embedded corpus; on real data, VQA-RAD or --data-dir, from its size).")
    var epochs: Int?
    @Option(
        help: ArgumentHelp(
            "Stop when the validation selection score (mean of closed accuracy and open recall) has not improved for this many epochs "
                + "(default: 8 on real data, VQA-RAD or --data-dir; every epoch on the embedded corpus)."))
    var patience: Int?
    @Option(
        help: ArgumentHelp(
            "Augmentation besides random crops: flip mirrors half of the images whose questions, answers and hints name no side "
                + "(it did not clearly help on VQA-RAD)."))
    var augment: VQAAugmentation = .none
    @Option(help: "Images per step (all their questions train together): the global batch, split over the ranks under mpirun.")
    var imagesPerBatch = 4
    @Option(help: "Parts each rank computes its share of a batch in, gradients summed (less memory, the same step).")
    var microBatches = 1
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine).") var lr: Float = 1e-3
    @Option(help: "AdamW weight decay.") var weightDecay: Float = VQATrainingOptions().weightDecay
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Run folder (default runs/vqa-<dataset>-<head>-seed<seed>, e.g. runs/vqa-rad-generate-seed0).") var out: String?
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false

    func validate() throws {
        if let epochs { try Check.atLeast(epochs, 1, "--epochs") }
        if let patience { try Check.atLeast(patience, 1, "--patience") }
        try Check.atLeast(imagesPerBatch, 1, "--images-per-batch")
        try Check.atLeast(microBatches, 1, "--micro-batches")
        try Check.positive(lr, "--lr")
        guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be >= 0, got \(weightDecay)") }
    }
}

public struct VQATrain: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vqa-train", abstract: "Train the LLaVA-style medical VQA model (CNN -> projector -> causal LM).",
        discussion: """
            Without --data-dir it trains on the embedded SLAKE-format corpus (generated on first use). With \
            --dataset vqa-rad a validation split is carved from trainset.json by image. The run folder gets \
            config.json, vocabulary.json, model.safetensors (best on validation), last/optimizer checkpoints, \
            history.json and, when every epoch is done, finished.json.
            """)
    public init() {}

    @OptionGroup(title: "Data") var data: VQADataOptions
    @OptionGroup(title: "Model") var model: VQAModelOptions
    @OptionGroup(title: "Pre-training") var pretraining: VQAPretrainingOptions
    @OptionGroup(title: "Training") var training: VQARunOptions
    @OptionGroup(title: "Grounding") var injection: GroundingInjectionOptions
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    /// The training and validation images' boxes: the loss learns from the first, the
    /// pre-training report scores the second.
    static func localizationBoxes(_ splits: VQASplits) throws -> [String: [GroundedRegion]] {
        try VQARegions.annotatedBoxes(splits.train + splits.val, option: "--localization-loss", alternative: "leave --localization-loss at 0")
    }

    /// Every image of the SLAKE-format folder `dir` (all its splits) with its boxes, for
    /// localization pre-training. An image byte-equal to one of `heldOut` (validation and test)
    /// is refused: pre-training on it would show the encoder the findings it is scored on.
    static func pretrainingImages(_ dir: URL, loader: VQALoader, heldOut: [VQAItem]) throws -> VQASet {
        let folder = try VQASplits.read(.slake, root: dir)
        let items = folder.train + folder.val + folder.test
        let held = Dictionary(
            Set(heldOut.map(\.imageURL.standardizedFileURL)).compactMap { url in (try? Data(contentsOf: url)).map { ($0, url) } },
            uniquingKeysWith: { a, _ in a })
        for url in Set(items.map(\.imageURL.standardizedFileURL)) {
            if let bytes = try? Data(contentsOf: url), let same = held[bytes] {
                throw VQACommandError(
                    description: "--localization-pretrain-data: \(url.path) is the same image as \(same.path) of the validation or test split; "
                        + "generate the pre-training folder with another --seed")
            }
        }
        var loader = loader
        loader.boxes = try VQARegions.annotatedBoxes(items, option: "--localization-pretrain-data", alternative: "choose a folder with boxes")
        let set = loader.load(items, split: "localization pre-training")
        guard set.count > 0 else { throw VQACommandError(description: "--localization-pretrain-data \(dir.path): no usable image") }
        print("localization pre-training images: \(set.imageCount) from \(dir.path)")
        return set
    }

    static func validateLayers(_ layers: Int, option: String = "--layers") throws {
        guard (1...12).contains(layers) else { throw ValidationError("\(option) must be 1...12, got \(layers)") }
    }

    /// `prefix` names the options as the calling command spells them ("--vqa-" in `medglip ablate`).
    static func validateLocalization(loss: Float, pretrain: Int, prefix: String = "--") throws {
        guard loss.isFinite, loss >= 0 else {
            throw ValidationError("\(prefix)localization-loss must be a weight >= 0, got \(loss)")
        }
        guard pretrain >= 0, pretrain == 0 || loss > 0 else {
            throw ValidationError(
                "\(prefix)localization-pretrain must be >= 0 and needs \(prefix)localization-loss > 0, got \(pretrain) with "
                    + "\(prefix)localization-loss \(loss)"
            )
        }
    }

    /// `--resume` continues the model its run recorded: an option that shapes it, set to other than
    /// its default, must not ask for another model (an option left at its default is not compared).
    private func checkResumable(_ run: VQARunConfig) throws {
        let defaults = VQAConfig(), recorded = run.model
        let channels = (try? model.parsedVisionChannels())?.map(String.init).joined(separator: ",") ?? model.visionChannels
        let checks: [(option: String, was: String, now: String, given: Bool)] = [
            ("--dataset", run.dataset.rawValue, data.dataset.rawValue, true),
            ("--head", run.head.rawValue, model.head.rawValue, model.head != .generate),
            ("--layers", "\(recorded.layers)", "\(model.layers)", model.layers != defaults.layers),
            ("--d-model", "\(recorded.dModel)", "\(model.dModel)", model.dModel != defaults.dModel),
            ("--image-size", "\(recorded.imageSize)", "\(model.imageSize)", model.imageSize != defaults.imageSize),
            (
                "--vision-channels", recorded.channels.map(String.init).joined(separator: ","), channels,
                (try? model.parsedVisionChannels()) != defaults.channels
            ),
            ("--dropout", "\(recorded.dropout)", "\(model.dropout)", model.dropout != defaults.dropout),
            ("--grounding", recorded.injection.mode.rawValue, injection.mode.rawValue, injection.withGrounding || injection.grounding != nil)
        ]
        if let changed = checks.first(where: { $0.given && $0.was != $0.now }) {
            throw RunFolder.changedOnResume(changed.option, was: changed.was, now: changed.now)
        }
    }

    public func run() throws {
        let ranks = try Communicator.startTraining(
            batchSize: training.imagesPerBatch, threads: threadOptions,
            dataFolder: training.resume ? nil : data.dataDir.map { URL(fileURLWithPath: $0) },
            annotation: data.dataset == .vqaRad ? "trainset.json" : "train.json")
        let (system, splits, folder, regions, boxes) = try start(ranks)
        print("reading \(splits.train.count) train and \(splits.val.count) val questions from \(system.run.dataDir)")
        if splits.testCarved {
            print("test: \(splits.test.count) questions carved from trainset.json (no testset.json), never used to choose; vqa-eval scores them")
        }
        var loader = system.loader
        if let regions {
            loader.regions = regions
            loader.hints = try ModalityHints.load()
            print("grounding: \(system.run.model.injection.mode.rawValue) from \(system.run.model.injection.source)")
        }
        if let localization = system.run.model.localization, let boxes {
            guard !ranks.isDistributed else {
                throw ValidationError(
                    "--localization-loss is not available under mpirun yet (its loss is normalised per batch); train in one process")
            }
            loader.boxes = boxes
            print("localization loss (weight \(localization.weight)) on the training images' boxes: \(localization.labels.joined(separator: ", "))")
        }
        let train = loader.load(splits.train, split: "train"), val = loader.load(splits.val, split: "val")
        let localizationImages = try system.run.model.localization?.pretrainDataDir.map {
            try Self.pretrainingImages(URL(fileURLWithPath: $0), loader: loader, heldOut: splits.val + splits.test)
        }
        describe(system, train: train, val: val, folder: folder)
        // Flushed, so epoch summaries reach a log file as they happen, not when training ends.
        let trainer = VQATrainer(
            system, options: trainingOptions(system.run), folder: folder,
            log: {
                print($0); fflush(nil)
            })
        trainer.communicator = ranks
        if training.resume { try trainer.resume() }
        guard ranks.isRoot else { return try trainer.train(train, validation: val, localizationImages: localizationImages) }
        let registry = try self.registry.open()
        let start = Date()
        try trackRun(
            registry, task: "vqa", dataset: system.run.dataset.rawValue, config: system.run, seed: system.run.seed, folder: folder,
            resumed: training.resume
        ) { record in
            trainer.onEpoch = { try registry.record($0.validation, run: record.id, split: "val", epoch: $0.epoch) }
            try trainer.train(train, validation: val, localizationImages: localizationImages)
            try registry.addArtefact(run: record.id, kind: "checkpoint", path: folder.appendingPathComponent("model.safetensors"))
        }
        let best = folder.appendingPathComponent("model.safetensors").path
        print(String(format: "training took %.0f s; best weights: %@", Date().timeIntervalSince(start), best))
    }

    /// What rank 0 decides and every rank trains with (see `MRGTrain.SharedStart`).
    struct SharedStart: Codable {
        var folder: String
        var run: VQARunConfig
        var vocabulary: VQAVocabulary
        var regions: [String: [GroundedRegion]]?
        var boxes: [String: [GroundedRegion]]?
    }

    /// Rank 0 chooses the folder and prepares the run (registry, grounding, boxes); the others receive it.
    private func start(_ ranks: Communicator) throws -> (
        VQASystem, VQASplits, URL, [String: [GroundedRegion]]?, [String: [GroundedRegion]]?
    ) {
        var prepared: Prepared?
        var shared: SharedStart?
        if ranks.isRoot {
            let registry = try self.registry.open()
            // runs/vqa-slake-generate-seed0, runs/vqa-rad-classify-seed0, ...
            let name =
                "vqa-\(data.dataset.rawValue)".replacingOccurrences(of: "vqa-vqa-", with: "vqa-") + "-\(model.head.rawValue)-seed\(training.seed)"
            let folder = try RunFolder.choose(resume: training.resume, out: training.out, default: vqaRunsRoot.appendingPathComponent(name))
            let root = try training.resume ? resumedSystem(folder) : newSystem(registry: registry)
            let run = root.system.run, splits = root.splits
            var regions = root.regions, boxes = root.boxes
            if run.model.injection.mode != .none, regions == nil {
                regions = try VQARegions.regions(
                    source: run.model.injection.source, items: splits.train + splits.val + splits.test, dataDir: URL(fileURLWithPath: run.dataDir),
                    registry: registry
                ).regions
            }
            if run.model.localization != nil, boxes == nil { boxes = try Self.localizationBoxes(splits) }
            prepared = root
            shared = SharedStart(folder: folder.path, run: run, vocabulary: root.system.vocabulary, regions: regions, boxes: boxes)
        }
        guard let start = try ranks.broadcast(shared) else { throw ValidationError("rank 0 sent no run to train") }
        let system = prepared?.system ?? VQASystem(start.run, vocabulary: start.vocabulary)
        let splits = try prepared?.splits ?? start.run.splits()
        return (system, splits, URL(fileURLWithPath: start.folder), start.regions, start.boxes)
    }

    typealias Prepared = (system: VQASystem, splits: VQASplits, regions: [String: [GroundedRegion]]?, boxes: [String: [GroundedRegion]]?)

    /// The run in `folder` as it was recorded, with its last weights.
    private func resumedSystem(_ folder: URL) throws -> Prepared {
        let system = try VQASystem(runFolder: folder, weights: "last.safetensors")
        try checkResumable(system.run)
        return (system, try system.run.splits(), nil, nil)
    }

    /// A new run: the data, the model the options describe, and the grounding and localization
    /// boxes it was configured from (kept so they are not computed twice).
    private func newSystem(registry: RunRegistry) throws -> Prepared {
        let dir = try data.folder()
        let splits = try VQASplits.read(data.dataset, root: dir, grouping: data.valGrouping)
        let template = try ConversationTemplate.load()
        var config = try modelConfig()
        var regions: [String: [GroundedRegion]]?, boxes: [String: [GroundedRegion]]?
        if injection.mode != .none {
            let found = try injectionOptions(splits, dir: dir, registry: registry)
            config.injection = found.options
            regions = found.regions
        }
        if pretraining.localizationLoss > 0 {
            let found = try Self.localizationBoxes(splits)
            let trainImages = Set(splits.train.map { $0.imageURL.standardizedFileURL.path })
            let labels = Set(found.filter { trainImages.contains($0.key) }.values.flatMap { $0.map(\.phrase) }).sorted()
            let p = pretraining, dataDir = p.localizationPretrainData.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            config.localization = LocalizationOptions(
                labels: labels, weight: p.localizationLoss,
                pretrainEpochs: p.localizationPretrain > 0 ? p.localizationPretrain : nil, pretrainDataDir: dataDir)
            boxes = found
        }
        let vocabulary = VQAVocabulary(
            questions: splits.train.map(\.question), answers: splits.train.map(\.answer),
            extraText: template.words + config.injection.hintVocabulary)
        var run = VQARunConfig(
            model: config, head: model.head, dataset: data.dataset, dataDir: dir.path, seed: training.seed, epochs: epochs(splits),
            template: template, maxPositions: VQASystem.maxPositions(config, template: template, vocabulary: vocabulary),
            validationGrouping: data.dataset == .vqaRad ? data.valGrouping : nil)
        let real = data.dataset == .vqaRad || data.dataDir != nil
        run.patience = training.patience ?? (real ? 8 : nil)
        run.mirrorImages = training.augment == .flip
        if training.patience == nil, let patience = run.patience {
            print("patience: \(patience) epochs without a better validation selection score end the run (real data; --patience)")
        }
        return (VQASystem(run, vocabulary: vocabulary), splits, regions, boxes)
    }

    /// `--epochs`, or on real data (VQA-RAD or `--data-dir`) a number that follows its size.
    private func epochs(_ splits: VQASplits) -> Int {
        if let epochs = training.epochs { return epochs }
        guard data.dataset == .vqaRad || data.dataDir != nil else { return 25 }
        let (epochs, reason) = VQATrainingOptions.epochs(forTrainingQuestions: splits.train.count)
        print("epochs: \(reason) (real data; --epochs)")
        return epochs
    }

    /// The model the Model and Pre-training options describe.
    private func modelConfig() throws -> VQAConfig {
        var config = VQAConfig()
        config.layers = model.layers
        config.dModel = model.dModel
        config.dFF = 2 * model.dModel
        config.imageSize = model.imageSize
        config.dropout = model.dropout
        config.channels = try model.parsedVisionChannels()
        config.autoencoderPretrainEpochs = pretraining.autoencoderPretrain > 0 ? pretraining.autoencoderPretrain : nil
        return config
    }

    /// What the Grounding options inject, with the regions found for every split.
    private func injectionOptions(_ splits: VQASplits, dir: URL, registry: RunRegistry) throws
        -> (options: InjectionOptions, regions: [String: [GroundedRegion]])
    {
        let source = try injection.sourceName(registry)
        let all = splits.train + splits.val + splits.test
        let found = try VQARegions.regions(source: source, items: all, dataDir: dir, registry: registry)
        let hints = try ModalityHints.load()
        let thresholds = try injection.phraseThresholds(
            detected: found.regions, truth: { try VQARegions.regions(source: "oracle", items: all, dataDir: dir, registry: registry).regions },
            images: Array(Set(splits.val.map { $0.imageURL.standardizedFileURL.path })).sorted(), anatomy: hints.anatomy)
        let vocabulary = hints.vocabulary(phrases: found.phrases, hedged: injection.groundingHedge > 0)
        var options = injection.injectionOptions(phrases: found.phrases, hintVocabulary: vocabulary, source: source, phraseThresholds: thresholds)
        // Every prompt carries a hint slot this wide (padded), so keep it near the longest hints.
        options.maxHintTokens = 32
        return (options, found.regions)
    }

    /// The Training options, with the epochs and seed the run recorded (a resumed run keeps its own).
    private func trainingOptions(_ run: VQARunConfig) -> VQATrainingOptions {
        var options = VQATrainingOptions()
        options.localizationPretrainEpochs = run.model.localization?.pretrainEpochs ?? 0
        options.autoencoderPretrainEpochs = run.model.autoencoderPretrainEpochs ?? 0
        options.epochs = run.epochs; options.imagesPerBatch = training.imagesPerBatch; options.microBatches = training.microBatches;
        options.learningRate = training.lr
        options.weightDecay = training.weightDecay; options.seed = run.seed
        options.patience = training.patience ?? run.patience
        options.mirrorImages = run.mirrorImages ?? false
        return options
    }

    /// The model's size, the data's and the first training question as the model reads it.
    private func describe(_ system: VQASystem, train: VQASet, val: VQASet, folder: URL) {
        print(
            "model: \(system.model.parameterCount) parameters, \(system.run.head.rawValue) head, vocabulary \(system.vocabulary.count) words, "
                + "\(system.vocabulary.answers.count) answer classes; \(train.count) train / \(val.count) val questions; run folder \(folder.path)")
        guard let first = train.examples.first else { return }
        print(
            "conversation template, first training question:\n" + system.run.template.render(question: first.item.question, answer: first.item.answer)
        )
        if system.run.model.injection.mode.usesHints {
            print("as the model reads it (with the grounding hint): " + system.vocabulary.decode(first.prompt))
        }
    }
}

public struct VQAEval: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vqa-eval", abstract: "Answer a split's questions with a trained VQA run and score them as LLaVA-Med does.",
        discussion: """
            Writes predictions-<split>.jsonl (predictions-<split>-choices.jsonl with --choices; question_id, question, answer, \
            prediction, answer_type, content_type or question_type) into the \
            run folder, then prints closed accuracy (reference contained in the prediction), open recall (token \
            recall) and exact match, overall and per SLAKE content type / VQA-RAD question type. Without \
            --checkpoint it uses the newest finished run for --dataset in the run registry.
            """)
    public init() {}

    @Option(help: "Dataset format: slake or vqa-rad.") var dataset: VQADatasetKind
    @Option(help: "Data folder (default: the one the run trained on).") var dataDir: String?
    @Option(help: "Split to evaluate.") var split: EvaluationSplit = .test
    @Option(help: "Run folder written by vqa-train (default: the newest finished run for --dataset).") var checkpoint: String?
    @Option(help: "Beam size for the generate head (1: greedy).") var beam = 1
    @Option(help: "Questions whose image is missing or unreadable: fail (listing them) or skip (scores say how many).")
    var onMissing: MissingImagePolicy = .fail
    @Flag(
        help: ArgumentHelp(
            "Answer a question that names its options (\"solid or cystic?\") with the most likely of those options or of the training "
                + "answers containing one.")
    )
    var choices = false
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    public func validate() throws { try Check.atLeast(beam, 1, "--beam") }

    public func run() throws {
        try withJSONOutput(json) { emit in
            try threadOptions.apply()
            let split = self.split.rawValue
            let registry = try self.registry.open()
            let folder = try checkpointFolder(registry)
            let system = try VQASystem(runFolder: folder)
            guard system.run.dataset == dataset else {
                throw VQACommandError(description: "\(folder.path) was trained on \(system.run.dataset.rawValue), not \(dataset.rawValue)")
            }
            let root = URL(fileURLWithPath: dataDir ?? system.run.dataDir)
            let splits = try system.run.splits(root: root)
            let items = splits.split(split)!
            guard !items.isEmpty else {
                throw VQACommandError(
                    description: "\(root.path) has no \(split) questions"
                        + (dataset == .vqaRad ? " (VQA-RAD's testset.json is absent; use --split val)" : ""))
            }
            var loader = system.loader
            if system.run.model.injection.mode != .none {
                // Every split, so a grounder's detections are cached for the whole folder at once.
                try VQARegions.inject(&loader, run: system.run, items: splits.train + splits.val + splits.test, dataDir: root, registry: registry)
            }
            var scoresLocalization = false
            if system.run.model.localization != nil && dataset == .slake {
                // A report on the side, so a folder without boxes is still answered (and says so).
                do {
                    loader.boxes = try VQARegions.annotatedBoxes(items, option: "scoring the localization head", alternative: "not scored")
                    scoresLocalization = true
                } catch { print("localization head not scored: \(error)") }
            }
            let set = try answerable(loader.load(items, split: split), of: items.count)
            let localization = scoresLocalization ? system.localizationReport(set) : nil
            let start = Date()
            let predictions = system.predict(set, beamSize: beam, choices: choices)
            let seconds = Date().timeIntervalSince(start)
            // Choice-constrained answers are kept apart from the plain ones, so both can be compared.
            let label = choices ? "\(split)-choices" : split
            let out = try writePredictions(set, predictions, folder: folder, label: label)
            let scores = VQAScores(set.examples, predictions: predictions)
            try registry.recordEvaluation(
                scores.flat, task: "vqa", dataset: dataset.rawValue, seed: system.run.seed, folder: folder, split: label,
                predictions: out)
            if json {
                emit(try jsonText(summary(scores, localization, folder: folder, set: set, predictions: out, seconds: seconds)))
                return
            }
            print(
                String(
                    format: "%@ (%@ head) on %@ %@: %d questions (%d skipped), %.1f questions/s; predictions in %@",
                    folder.path, system.run.head.rawValue, dataset.rawValue, split, set.count, set.skipped.count, Double(set.count) / seconds,
                    out.path))
            printTable(scores, localization)
        }
    }

    /// `--checkpoint`, or the newest finished run for the dataset in the registry.
    private func checkpointFolder(_ registry: RunRegistry) throws -> URL {
        if let checkpoint { return URL(fileURLWithPath: checkpoint) }
        guard let found = try newestFinishedVQARun(dataset: dataset, registry: registry) else {
            let dataArgs = dataset == .slake ? "" : " --data-dir \(dataDir ?? "DIR")"
            throw VQACommandError(
                description: "no finished VQA run for \(dataset.rawValue) in the run registry \(registry.path.path); "
                    + "train one with: swift run vqa-train --dataset \(dataset.rawValue)\(dataArgs)")
        }
        print("checkpoint: \(found.path) (newest finished \(dataset.rawValue) run in the registry)")
        return found
    }

    /// `set` when every question could be loaded; otherwise an error listing the others, or with
    /// `--on-missing skip` the list on standard error and `set` as it is.
    private func answerable(_ set: VQASet, of total: Int) throws -> VQASet {
        guard !set.skipped.isEmpty else { return set }
        let list = set.skipped.prefix(20).joined(separator: "\n  ") + (set.skipped.count > 20 ? "\n  ... \(set.skipped.count - 20) more" : "")
        guard onMissing == .skip else {
            throw VQACommandError(
                description: "\(set.skipped.count) of \(total) \(split.rawValue) questions cannot be answered "
                    + "(--on-missing skip scores the rest):\n  \(list)")
        }
        FileHandle.standardError.write(Data("skipped \(set.skipped.count) of \(total) \(split.rawValue) questions:\n  \(list)\n".utf8))
        return set
    }

    /// predictions-<label>.jsonl (returned), and the same answers in LLaVA-Med's own files for its
    /// run_eval.py (`--gt`, `--pred`).
    private func writePredictions(_ set: VQASet, _ predictions: [String], folder: URL, label: String) throws -> URL {
        // The category under the dataset's own field name.
        let categoryKey = dataset == .slake ? "content_type" : "question_type"
        let lines = try zip(set.examples, predictions).map { e, p in
            let obj: [String: Any] = [
                "question_id": e.item.qid, "question": e.item.question, "answer": e.item.answer, "prediction": p,
                "answer_type": e.item.answerType.rawValue, categoryKey: e.item.category
            ]
            return try jsonText(obj)
        }
        let out = folder.appendingPathComponent("predictions-\(label).jsonl")
        try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: out)
        let examples = set.examples.map(\.item)
        try writeAtomically(
            try LLaVAMedFiles.groundTruth(examples.map { ($0.qid, $0.imageName, $0.question, $0.answer, $0.answerType.rawValue) }),
            to: folder.appendingPathComponent("llava-gt-\(label).json"))
        try writeAtomically(
            try LLaVAMedFiles.answers(zip(examples, predictions).map { ($0.qid, $0.question, $1) }, model: folder.lastPathComponent),
            to: folder.appendingPathComponent("llava-answers-\(label).jsonl"))
        return out
    }

    /// `--json`'s object.
    private func summary(
        _ scores: VQAScores, _ localization: LocalizationReport?, folder: URL, set: VQASet, predictions: URL,
        seconds: Double
    ) -> [String: Any] {
        var obj: [String: Any] = [
            "run": folder.path, "split": split.rawValue, "choices": choices, "questions": set.count, "skipped": set.skipped.count,
            "predictions": predictions.path, "questions_per_second": Double(set.count) / seconds
        ]
        obj["overall"] = scores.flat
        obj["by_category"] = Dictionary(
            uniqueKeysWithValues: scores.byCategory.map { c, r in
                (
                    c,
                    [
                        "closed_accuracy": r.closedAccuracy, "open_recall": r.openRecall, "overall_exact": r.overallExact, "n_open": Double(r.nOpen),
                        "n_closed": Double(r.nClosed)
                    ]
                )
            })
        if let localization {
            obj["localization"] = Dictionary(
                uniqueKeysWithValues: localization.rows.map {
                    ($0.label, ["precision": $0.precision, "recall": $0.recall, "images": Double($0.truePositives + $0.falseNegatives)])
                })
        }
        return obj
    }

    private func printTable(_ scores: VQAScores, _ localization: LocalizationReport?) {
        print("category".padding(toLength: 14, withPad: " ", startingAt: 0) + "closed  n     open-rec open-ex n     exact")
        func row(_ name: String, _ r: VQAScoring.Result) {
            print(
                name.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(
                        format: "%.4f  %-5d %.4f   %.4f  %-5d %.4f", r.closedAccuracy, r.nClosed, r.openRecall, r.openExact, r.nOpen, r.overallExact))
        }
        for (c, r) in scores.byCategory { row(c, r) }
        row("overall", scores.overall)
        print("closed: LLaVA-Med's substring rule; open-rec: token recall of the reference; exact: normalised strings equal")
        guard let localization else { return }
        print("localization head (training aid), per image, a patch >= 0.5 calls the label present:")
        for r in localization.rows {
            print(
                "  " + r.label.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(format: "precision %.3f  recall %.3f  (%d images)", r.precision, r.recall, r.truePositives + r.falseNegatives))
        }
    }
}
