import ArgumentParser
import Datasets
import Distributed
import Foundation
import Grounding
import Imaging
import Metrics
import Registry
import Synthetic
import Tensor

enum GroundingFormat: String, ExpressibleByArgument { case coco, voc }

extension ATSSAssigner.Ambiguity: ExpressibleByArgument {}

/// Where grounding data comes from: a dataset folder in its real format, or the embedded corpus.
struct GroundingDataOptions: ParsableArguments {
    @Option(help: "Dataset folder (default: the embedded seven-modality corpus).") var dataDir: String?
    @Option(help: "Format of --data-dir: coco (train.json/val.json/test.json beside the images, the default) or voc.") var format: GroundingFormat?
    @Option(help: "Only these modalities, comma-separated ('all' for every one, the default).") var modality: String?
    @Option(help: "Images per modality in the embedded corpus (default \(defaultParameters(.grounding).count)).") var count: Int?

    func validate() throws { if let count { try Check.atLeast(count, 1, "--count") } }

    /// What a training run records of its data, so that evaluating the run reads the same data by default.
    var source: GroundingDataSource {
        GroundingDataSource(
            dataDir: dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, format: (format ?? .coco).rawValue,
            modalities: modality, corpusCount: dataDir == nil ? count ?? defaultParameters(.grounding).count : nil)
    }

    /// These options with what was not given taken from the data `run` was trained on.
    func defaulting(to run: GroundingRunConfig) -> GroundingDataOptions {
        var o = self
        // Runs written before the data was recorded: at least only the modalities the model has prompts for.
        guard let trained = run.data else {
            if o.modality == nil { o.modality = run.model.modalities.joined(separator: ",") }
            return o
        }
        if o.dataDir == nil && o.count == nil { o.dataDir = trained.dataDir }
        if o.format == nil { o.format = GroundingFormat(rawValue: trained.format) }
        if o.count == nil { o.count = trained.corpusCount }
        if o.modality == nil { o.modality = trained.modalities }
        return o
    }

    /// Samples and categories of a split; the embedded corpus is generated (or reused) on first use.
    func load(_ split: String) throws -> GroundingSplit {
        var data: GroundingSplit
        if let dataDir {
            let root = URL(fileURLWithPath: dataDir)
            switch format ?? .coco {
            case .coco: data = try COCO.read(root.appendingPathComponent("\(split).json"))
            case .voc: data = try VOC.read(root: root, split: split == "train_10pct" ? "train" : split)
            }
        } else {
            var parameters = defaultParameters(.grounding)
            parameters.count = count ?? parameters.count
            data = try COCO.read(CorpusCache.ensure(.grounding, parameters).appendingPathComponent("\(split).json"))
        }
        if let modality, modality != "all" {
            let wanted = Set(modality.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = wanted.subtracting(data.modalities).sorted()
            guard unknown.isEmpty else {
                throw DataError(
                    "--modality: no modality \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in the \(split) split; "
                        + "valid: \(data.modalities.joined(separator: ", ")) (or all)")
            }
            data.samples = data.samples.filter { wanted.contains($0.modality ?? "unknown") }
            guard !data.samples.isEmpty else {
                throw DataError("no \(split) images of modality '\(modality)' (have: \(data.modalities.joined(separator: ", ")))")
            }
        }
        return data
    }
}

extension GroundingConfig.Experts: ExpressibleByArgument, CaseIterable {
    public static var allCases: [Self] { [.perModality, .shared] }
}

/// The Med-GLIP architecture `ground-train` builds (or takes from `--init-from`).
struct GroundingModelOptions: ParsableArguments {
    @Option(help: "Model input size in pixels (images are letterboxed; default 256).") var imageSize: Int?
    @Option(help: "Image encoders: per-modality (the paper's experts, the default) or shared.") var experts: GroundingConfig.Experts?
    @Option(help: "Pyramid levels' strides: 8,16,32 (the default) or 4,8,16,32 (a level for findings a few pixels wide; slower).") var strides:
        String?
    @Flag(help: "Disable the image-text deep fusion.") var noFusion = false
    @Option(
        help: ArgumentHelp(
            "Start from another run's best weights (fine-tuning): its architecture, tokenizer and prompts are kept, "
                + "and its input size unless --image-size is given (the network is fully convolutional).", valueName: "rundir"))
    var initFrom: String?

    var levels: [Int] { (strides ?? "8,16,32").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    var config: GroundingConfig {
        var config = GroundingConfig()
        config.experts = experts ?? .perModality
        config.strides = levels
        config.fusion = !noFusion
        return config
    }

    func validate() throws {
        if let imageSize { try GroundTrain.validateImageSize(imageSize) }
        if initFrom != nil, experts != nil || strides != nil || noFusion {
            throw ValidationError("--init-from keeps its run's architecture: leave out --experts, --strides and --no-fusion")
        }
        let stages = GroundingConfig().stageStrides
        guard !levels.isEmpty, levels == Array(stages.suffix(levels.count)) else {
            throw ValidationError(
                "--strides must be the last strides of the encoder's stages \(stages), e.g. 8,16,32 or 4,8,16,32; got \(strides ?? "")")
        }
    }
}

/// How `ground-train` trains, and where the run goes.
extension GroundingAugmentation.Kind: ExpressibleByArgument {}

/// `--augment flip,scale,intensity` (or `none`): a comma-separated list, each named once.
struct AugmentationList: ExpressibleByArgument {
    let kinds: [GroundingAugmentation.Kind]
    init?(argument: String) {
        guard argument != "none" else { kinds = []; return }
        let kinds = argument.split(separator: ",").map { GroundingAugmentation.Kind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        guard !kinds.isEmpty, !kinds.contains(nil), Set(kinds.map { $0!.rawValue }).count == kinds.count else { return nil }
        self.kinds = kinds.map { $0! }
    }
    static var allValueStrings: [String] { GroundingAugmentation.Kind.allCases.map(\.rawValue) + ["none"] }
}

/// How `ground-train` trains, and where the run goes. On a real dataset (`--data-dir`), what is not
/// given follows the data (`GroundingRecipe`).
struct GroundingTrainingArguments: ParsableArguments {
    @Option(help: "Fraction of the training set: 1.0 or 0.1 (Med-GLIP Table II).") var subset: Double = 1.0
    @Option(help: "Epochs at most (default: 12 on the embedded corpus; on a real dataset, from its size).") var epochs: Int?
    @Option(
        help: ArgumentHelp(
            "Stop when validation AP has not improved for this many epochs (default: 10 on a real dataset; "
                + "every epoch on the embedded corpus)."))
    var patience: Int?
    @Option(
        help: ArgumentHelp(
            "Hold out this fraction of the training images to choose the weights on, so the dataset's val split is scored once, "
                + "at the end, by weights it did not choose (default: 0.15 on a real dataset; 0: choose on the val split)."))
    var valFraction: Double?
    @Option(
        help: ArgumentHelp(
            "Training augmentation, comma-separated: flip (left-right, swapping 'left'/'right' in labels), vflip, scale (size and "
                + "position jitter), intensity; or none (default: flip,scale,intensity on a real dataset, intensity on the embedded corpus)."))
    var augment: AugmentationList?
    @Option(help: "Images per batch (one modality per batch): the global batch, split over the ranks under mpirun.") var batchSize = 8
    @Option(help: "Parts each rank computes its share of a batch in, gradients summed (less memory, the same step).")
    var microBatches = 1
    @Option(help: "Learning rate (AdamW, cosine schedule with warm-up).") var lr: Float = 2e-3
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Repeat-factor sampling (LVIS): images holding a finding seen in fewer than this fraction of their modality's "
                + "images are repeated, sqrt(threshold / fraction) times per epoch; 0 turns it off."))
    var repeatThreshold: Double = 0
    @Option(
        help: ArgumentHelp(
            "A grid point claimed by several boxes goes to the box its anchor overlaps most (iou: ATSS and GLIP) or to the "
                + "smallest box (area: FCOS), which keeps a finding's points from the organ around it."))
    var ambiguity: ATSSAssigner.Ambiguity = .largestIoU
    @Option(help: "Run folder (default runs/grounding-<time>).") var out: String?
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false

    func options(_ recipe: GroundingRecipe) -> GroundingTrainingOptions {
        var options = GroundingTrainingOptions()
        options.epochs = recipe.epochs; options.batchSize = batchSize; options.microBatches = microBatches; options.learningRate = lr;
        options.seed = seed
        options.repeatThreshold = repeatThreshold; options.ambiguity = ambiguity
        options.patience = recipe.patience; options.augmentation = recipe.augmentation
        return options
    }

    func validate() throws {
        guard subset == 1.0 || subset == 0.1 else { throw ValidationError("--subset must be 1.0 or 0.1") }
        if let epochs { try Check.atLeast(epochs, 1, "--epochs") }
        if let patience { try Check.atLeast(patience, 1, "--patience") }
        if let valFraction, !(valFraction.isFinite && (0..<0.9).contains(valFraction)) {
            throw ValidationError("--val-fraction must be in [0, 0.9), got \(valFraction)")
        }
        try Check.atLeast(batchSize, 1, "--batch-size")
        try Check.atLeast(microBatches, 1, "--micro-batches")
        try Check.positive(lr, "--lr")
        guard !resume || out != nil else { throw ValidationError("--resume needs --out RUNDIR") }
        guard (0...1).contains(repeatThreshold) else { throw ValidationError("--repeat-threshold must be in [0, 1], got \(repeatThreshold)") }
    }
}

struct GroundTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ground-train", abstract: "Train the Med-GLIP grounding model.")

    @OptionGroup(title: "Data") var data: GroundingDataOptions
    @OptionGroup(title: "Model") var model: GroundingModelOptions
    @OptionGroup(title: "Training") var training: GroundingTrainingArguments
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if model.initFrom != nil, training.resume {
            throw ValidationError("--init-from starts a new run and --resume continues one: pass one of them")
        }
    }

    /// The grounder's input side: the pyramid's coarsest level has stride 32.
    static func validateImageSize(_ size: Int, option: String = "--image-size") throws {
        guard (64...2048).contains(size), size % 32 == 0 else {
            throw ValidationError("\(option) must be a multiple of 32 in 64...2048, got \(size)")
        }
    }

    /// `--resume` continues the model its run recorded: an option that shapes it must not ask for another.
    private func checkResumable(_ run: GroundingRunConfig) throws {
        var changed: [(String, String, String)] = []
        let asked = model.config
        if let imageSize = model.imageSize, imageSize != run.imageSize { changed.append(("--image-size", "\(run.imageSize)", "\(imageSize)")) }
        if model.experts != nil, asked.experts != run.model.experts {
            changed.append(("--experts", run.model.experts.rawValue, asked.experts.rawValue))
        }
        if model.strides != nil, asked.strides != run.model.strides {
            changed.append(("--strides", run.model.strides.map(String.init).joined(separator: ","), model.strides ?? ""))
        }
        if model.noFusion, run.model.fusion { changed.append(("--no-fusion", "fusion on", "off")) }
        if let (option, was, now) = changed.first {
            throw RunFolder.changedOnResume(option, was: was, now: now)
        }
    }

    func run() throws {
        let ranks = try Communicator.startTraining(
            batchSize: training.batchSize, threads: threadOptions, dataFolder: data.dataDir.map { URL(fileURLWithPath: $0) },
            annotation: data.format == .voc ? "ImageSets/Main/train.txt" : "train.json")
        let start = try start(ranks)
        let (grounder, folder, train, valFraction) = (start.grounder, start.folder, start.train, start.valFraction)
        let (trainSamples, selection) = try carve(subset(train.samples), fraction: valFraction)
        let trainer = GroundingTrainer(grounder, options: training.options(start.recipe), folder: folder)
        trainer.communicator = ranks
        if training.resume { try trainer.resume() }
        let modalities = Set(trainSamples.map { $0.modality ?? "unknown" }).sorted().joined(separator: ", ")
        let chooser = valFraction > 0 ? "\(selection.count) held out of train" : "the val split (\(selection.count))"
        print("training on \(trainSamples.count) images (\(modalities)), choosing the weights on \(chooser); run folder \(folder.path)")
        guard ranks.isRoot else { return try trainer.train(trainSamples, validation: selection, categories: train.categories) }
        let registry = try self.registry.open()
        let split = valFraction > 0 ? "selection" : "val"
        try trackRun(
            registry, task: "grounding", dataset: data.dataDir ?? "embedded", config: recorded(grounder.run),
            seed: training.seed, folder: folder, resumed: training.resume
        ) { record in
            trainer.onEpoch = { try registry.record(["AP": $0.valAP, "AP50": $0.valAP50], run: record.id, split: split, epoch: $0.epoch) }
            try trainer.train(trainSamples, validation: selection, categories: train.categories)
            try registry.addArtefact(run: record.id, kind: "checkpoint", path: folder.appendingPathComponent("model.safetensors"))
            if valFraction > 0 { try scoreHeldOut(folder, registry: registry, run: record.id) }
        }
    }

    /// What rank 0 decides and every rank trains with: the run folder, the run (model, recipe) and
    /// the held-out fraction; the other ranks take the weights from rank 0 when training starts.
    struct SharedStart: Codable {
        var folder: String
        var run: GroundingRunConfig
        var valFraction: Double
    }

    /// Rank 0 chooses the folder and the recipe and writes the new run; the others receive them.
    private func start(_ ranks: Communicator) throws -> (
        grounder: Grounder, folder: URL, train: GroundingSplit, valFraction: Double, recipe: GroundingRecipe
    ) {
        let split = training.subset == 0.1 && data.format ?? .coco == .coco ? "train_10pct" : "train"
        var root: (Grounder, SharedStart, GroundingSplit)?
        if ranks.isRoot {
            let base = URL(fileURLWithPath: "runs/grounding-\(Int(Date().timeIntervalSince1970))")
            let folder = try RunFolder.choose(resume: training.resume, out: training.out, default: base)
            // Rank 0 reads (and generates an embedded corpus) before the others read it.
            let train = try data.load(split)
            let earlier = training.resume ? try decodeJSON(GroundingRunConfig.self, from: folder.appendingPathComponent("config.json")).recipe : nil
            let valFraction = try heldOutFraction(resumed: training.resume ? earlier?.valFraction ?? 0 : nil)
            let (trainSamples, selection) = try carve(subset(train.samples), fraction: valFraction)
            var recipe = earlier.map(resumed) ?? self.recipe(trainSamples, valFraction: valFraction)
            for reason in recipe.reasons { print("recipe: \(reason)") }
            let grounder = try grounder(folder, train: train, imageSize: recipe.imageSize, checking: trainSamples + selection)
            recipe.imageSize = grounder.run.imageSize
            grounder.record(recipe: recipe)
            if !training.resume {
                grounder.record(data: data.source)
                try grounder.save(to: folder, weights: "last.safetensors")
            }
            root = (grounder, SharedStart(folder: folder.path, run: grounder.run, valFraction: valFraction), train)
        }
        guard let shared = try ranks.broadcast(root?.1), let recipe = shared.run.recipe else {
            throw ValidationError("rank 0 sent no run to train")
        }
        let grounder = try root?.0 ?? Grounder(shared.run, seed: training.seed)
        return (grounder, URL(fileURLWithPath: shared.folder), try root?.2 ?? data.load(split), shared.valFraction, recipe)
    }

    /// `fraction` of `samples` (seeded, at least one image) held out to choose the weights on; with
    /// 0, the val split is.
    private func carve(_ samples: [GroundingSample], fraction: Double) throws -> (train: [GroundingSample], selection: [GroundingSample]) {
        guard fraction > 0 else { return (samples, try data.load("val").samples) }
        var shuffled = samples
        RandomGenerator(seed: training.seed &+ 0x5e1).shuffle(&shuffled)
        let held = max(1, Int((Double(samples.count) * fraction).rounded()))
        guard held < samples.count else { throw DataError("--val-fraction \(fraction) leaves no training images of \(samples.count)") }
        return (Array(shuffled[held...]), Array(shuffled[..<held]))
    }

    /// The fraction of train held out to choose on: a resumed run's own (another would change its
    /// data), else `--val-fraction`, else 0.15 on a real dataset.
    private func heldOutFraction(resumed: Double?) throws -> Double {
        guard let resumed else { return training.valFraction ?? (data.dataDir != nil ? 0.15 : 0) }
        if let asked = training.valFraction, asked != resumed {
            throw RunFolder.changedOnResume("--val-fraction", was: "\(resumed)", now: "\(asked)")
        }
        return resumed
    }

    /// A resumed run's recipe, with what this command gives for how long and how it trains (the
    /// input size and the held-out images stay: they shape the model and its data).
    private func resumed(_ recorded: GroundingRecipe) -> GroundingRecipe {
        var recipe = recorded
        if let epochs = training.epochs { recipe.epochs = epochs }
        if let patience = training.patience { recipe.patience = patience }
        if let augment = training.augment { recipe.augmentation = GroundingAugmentation(augment.kinds) }
        recipe.reasons = []
        return recipe
    }

    /// The options as given, what a real dataset's defaults fill in, and why.
    private func recipe(_ samples: [GroundingSample], valFraction: Double) -> GroundingRecipe {
        let real = data.dataDir != nil
        var reasons: [String] = []
        var size = model.imageSize ?? 256
        if model.imageSize == nil && model.initFrom == nil && real {
            let (fitted, why) = GroundingRecipe.imageSize(for: samples, finestStride: model.levels.min() ?? 8)
            size = fitted; reasons.append("--image-size " + why)
        }
        var epochs = training.epochs ?? 12
        if training.epochs == nil && real {
            let (fitted, why) = GroundingRecipe.epochs(forTrainingImages: samples.count)
            epochs = fitted; reasons.append("--epochs " + why)
        }
        let patience = training.patience ?? (real ? 10 : nil)
        if training.patience == nil, let patience {
            reasons.append("--patience \(patience): stop when validation AP has not improved for \(patience) epochs")
        }
        let augmentation = training.augment.map { GroundingAugmentation($0.kinds) } ?? (real ? .realImages : .phantoms)
        if training.augment == nil && real {
            reasons.append("--augment \(augmentation.kinds.map(\.rawValue).joined(separator: ",")): real images")
        }
        if training.valFraction == nil && valFraction > 0 {
            reasons.append(
                "--val-fraction \(valFraction): the weights are chosen on training images held out, the val split is scored once at the end")
        }
        return GroundingRecipe(
            imageSize: size, epochs: epochs, patience: patience,
            augmentation: augmentation, valFraction: valFraction > 0 ? valFraction : nil, reasons: reasons)
    }

    /// The best weights on the dataset's val split, which chose nothing: the run's honest score.
    private func scoreHeldOut(_ folder: URL, registry: RunRegistry, run id: String) throws {
        let val = try data.load("val")
        let best = try Grounder(runFolder: folder)
        let result = try best.evaluate(val.samples, categories: val.categories).overall
        let ap = result[stat: "AP"]!, ap50 = result[stat: "AP50"]!
        try registry.record(["AP": ap, "AP50": ap50], run: id, split: "val")
        print(String(format: "val split (%d images, not used to choose the weights): AP %.3f  AP50 %.3f", val.samples.count, ap, ap50))
    }

    /// `--subset 0.1` of a VOC folder (COCO folders ship their own train_10pct.json): a seeded tenth.
    private func subset(_ samples: [GroundingSample]) -> [GroundingSample] {
        guard training.subset == 0.1, data.dataDir != nil, data.format ?? .coco == .voc else { return samples }
        var shuffled = samples
        RandomGenerator(seed: training.seed).shuffle(&shuffled)
        return Array(shuffled.prefix(max(1, shuffled.count / 10)))
    }

    /// The model to train: the run's own (`--resume`), another run's weights (`--init-from`), or a new one.
    private func grounder(_ folder: URL, train: GroundingSplit, imageSize: Int, checking samples: [GroundingSample]) throws -> Grounder {
        if training.resume {
            let grounder = try Grounder(runFolder: folder, weights: "last.safetensors")
            try checkResumable(grounder.run)
            return grounder
        }
        if let initFrom = model.initFrom {
            let grounder = try Grounder(runFolder: URL(fileURLWithPath: initFrom), imageSize: model.imageSize)
            try grounder.checkPromptsCover(samples)
            print("starting from the weights of \(initFrom)")
            return grounder
        }
        return try Grounder(for: train, config: model.config, imageSize: imageSize, seed: training.seed)
    }

    /// What the registry keeps of the run's settings.
    private func recorded(_ run: GroundingRunConfig) -> some Encodable {
        struct Recorded: Encodable {
            var model: GroundingConfig; var imageSize: Int; var subset: Double; var epochs: Int; var lr: Float; var dataDir: String?
            var initFrom: String?; var repeatThreshold: Double; var ambiguity: String; var recipe: GroundingRecipe?
        }
        return Recorded(
            model: run.model, imageSize: run.imageSize, subset: training.subset, epochs: run.recipe?.epochs ?? training.epochs ?? 12,
            lr: training.lr, dataDir: data.dataDir, initFrom: model.initFrom, repeatThreshold: training.repeatThreshold,
            ambiguity: training.ambiguity.rawValue, recipe: run.recipe)
    }
}

struct GroundEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ground-eval", abstract: "COCO AP of a grounding checkpoint, per modality and category.")

    @Option(help: "Run folder of ground-train.") var checkpoint: String
    @OptionGroup var data: GroundingDataOptions
    @Option(help: "Split to evaluate (train: of a held-out corpus, e.g. `corpus generate --kind grounding --seed 1`).")
    var split: DataSplit = .val
    @Flag(help: "Evaluate the untrained (initialised) model: the 'zero' row.") var zeroShot = false
    @Option(help: "Write the detections as COCO results JSON here.") var detections: String?
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try withJSONOutput(json) { emit in
            try threadOptions.apply()
            let folder = URL(fileURLWithPath: checkpoint)
            let grounder =
                zeroShot
                ? try Grounder(decodeJSON(GroundingRunConfig.self, from: folder.appendingPathComponent("config.json")), seed: 0)
                : try Grounder(runFolder: folder)
            let data = self.data.defaulting(to: grounder.run)
            if let source = grounder.run.data, self.data.dataDir == nil, self.data.count == nil {
                print(
                    "evaluating on the run's training data: \(source.dataDir ?? "embedded corpus, \(source.corpusCount ?? 0) images per modality")"
                        + (source.modalities.map { ", modalities \($0)" } ?? ""))
            }
            let split = self.split.rawValue
            let eval = try data.load(split)
            let (overall, perModality, found) = try grounder.evaluate(eval.samples, categories: eval.categories)
            if let detections {
                let ids = Dictionary(uniqueKeysWithValues: eval.categories.map { ($0.name, $0.id) })
                var results: [COCODetection] = []
                for (s, ds) in zip(eval.samples, found) {
                    for d in ds { results.append(COCODetection(imageID: s.imageID, categoryID: ids[d.label]!, box: d.box, score: d.score)) }
                }
                try COCO.writeDetections(results, to: URL(fileURLWithPath: detections))
            }
            if json {
                var obj: [String: Any] = ["AP": overall[stat: "AP"]!, "AP50": overall[stat: "AP50"]!]
                obj["per_modality"] = perModality.mapValues { ["AP": $0[stat: "AP"]!, "AP50": $0[stat: "AP50"]!] }
                obj["per_category"] = Dictionary(
                    overall.perCategory.map { ($0.name, ["AP": $0.ap, "AP50": $0.ap50]) }, uniquingKeysWith: { a, _ in a })
                emit(try jsonText(obj))
            } else {
                print(
                    String(format: "%@ split, %d images: AP %.3f  AP50 %.3f", split, eval.samples.count, overall[stat: "AP"]!, overall[stat: "AP50"]!)
                )
                for (m, r) in perModality.sorted(by: { $0.key < $1.key }) {
                    print(
                        "  " + m.padding(toLength: 12, withPad: " ", startingAt: 0)
                            + String(format: "AP %.3f  AP50 %.3f", r[stat: "AP"]!, r[stat: "AP50"]!))
                }
                for c in overall.perCategory where c.ap >= 0 {
                    print("  " + c.name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "AP %.3f  AP50 %.3f", c.ap, c.ap50))
                }
            }
        }
    }
}

struct GroundPredict: ParsableCommand {
    /// Corner coordinates, named as such; COCO's [x, y, w, h] stays in COCO files.
    static func json(_ found: [Detection]) throws -> Data {
        let rows = found.map { d -> [String: Any] in
            ["phrase": d.label, "score": Double(d.score), "box_xyxy": [d.box.x1, d.box.y1, d.box.x2, d.box.y2].map(Double.init)]
        }
        return try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
    }

    static let configuration = CommandConfiguration(commandName: "ground-predict", abstract: "Ground phrases in one image.")

    @Option(help: "Run folder of ground-train.") var checkpoint: String
    @Option(help: "Image file (PNG or JPEG).") var image: String
    @Option(help: "Phrases separated by '. ', e.g. \"nodule. pleural effusion.\"") var prompt: String
    @Option(help: "Modality whose image encoder to use (default: the model's only or first one).") var modality: String?
    @Option(help: "Write the image with the boxes drawn here (PNG).") var draw: String?
    @Option(help: "Keep boxes scoring at least this.") var minScore: Float = 0.05
    @Flag(help: "Print JSON: [{phrase, score, box_xyxy: [x1, y1, x2, y2]}] in image pixels.") var json = false

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws { try Check.within(minScore, 0...1, "--min-score") }

    func run() throws {
        try threadOptions.apply()
        let grounder = try Grounder(runFolder: URL(fileURLWithPath: checkpoint))
        let m = modality ?? grounder.modalities.first ?? "unknown"
        guard grounder.modalities.contains(m) else {
            throw DataError("--modality '\(m)': the run at \(checkpoint) has encoders for \(grounder.modalities.joined(separator: ", "))")
        }
        let picture = try ImageIO.read(URL(fileURLWithPath: image))
        let found = try grounder.predict(image: picture, prompt: prompt, modality: m).filter { $0.score >= minScore }
        if let draw {
            try ImageIO.writePNG(
                picture.drawing(found.map { Annotation(box: $0.box, label: $0.label, score: $0.score) }), to: URL(fileURLWithPath: draw))
        }
        if json {
            print(String(decoding: try Self.json(found), as: UTF8.self))
        } else {
            print("\(found.count) box(es) for \"\(prompt)\" (\(m) expert), score and [x1, y1, x2, y2] in image pixels:")
            for d in found {
                print(
                    "  " + d.label.padding(toLength: 24, withPad: " ", startingAt: 0)
                        + String(format: "%.3f  [%.0f, %.0f, %.0f, %.0f]", d.score, d.box.x1, d.box.y1, d.box.x2, d.box.y2))
            }
        }
    }
}
