import ArgumentParser
import Datasets
import Foundation
import Grounding
import Injection
import Pipeline
import Registry

extension InjectionMode: ExpressibleByArgument {}

enum GroundingSource: String, ExpressibleByArgument, CaseIterable {
    /// The corpus's ground-truth boxes (labels.json beside annotation.json): the upper bound.
    case oracle
    /// A trained grounding run's detections.
    case grounder
}

/// `--with-grounding` and its knobs, shared by the downstream training commands.
struct GroundingInjectionOptions: ParsableArguments {
    @Flag(help: "Inject grounding into the model (region tokens and spatial hints unless --grounding says otherwise).") var withGrounding = false
    @Option(help: "What to inject: none, tokens, hints or both (default: both with --with-grounding, else none).") var grounding: InjectionMode?
    @Option(help: "Where boxes come from: grounder (a trained grounding run) or oracle (the corpus's ground truth).") var groundingSource:
        GroundingSource = .grounder
    @Option(
        help: ArgumentHelp(
            "Grounding run folder, or several separated by commas (each modality from the first that knows it; default: the newest "
                + "finished grounding run in the registry).")
    ) var grounder: String?
    @Option(help: "Regions kept per image (best first).") var groundingTopK = 8
    @Option(help: "Lowest detection score kept.") var groundingThreshold: Float = 0.3
    @Option(help: "Training: chance that an image's grounding is withheld for a step, so the model keeps reading the pixels.")
    var groundingDropout: Float = 0
    @Option(help: "Hints of detections scoring below this start with \"possible\", so the model can learn how far to trust each one (0: none).")
    var groundingHedge: Float = 0
    @Flag(
        help: ArgumentHelp(
            "A threshold per finding phrase in place of --grounding-threshold: the one with the best hint F1 on the validation split's "
                + "true boxes (the corpus's labels.json, SLAKE's detection.json).")
    ) var groundingThresholdPerPhrase = false

    var mode: InjectionMode { grounding ?? (withGrounding ? .both : .none) }

    func validate() throws {
        try Self.validate(dropout: groundingDropout, hedge: groundingHedge)
        try Check.atLeast(groundingTopK, 1, "--grounding-top-k")
        try Check.within(groundingThreshold, 0...1, "--grounding-threshold")
    }

    /// The ranges of `--grounding-dropout` and `--grounding-hedge` (also checked by `ablate` before it trains anything).
    static func validate(dropout: Float, hedge: Float) throws {
        guard dropout.isFinite, (0..<1).contains(dropout) else { throw ValidationError("--grounding-dropout must be in [0, 1), got \(dropout)") }
        guard hedge.isFinite, (0...1).contains(hedge) else { throw ValidationError("--grounding-hedge must be a score in [0, 1], got \(hedge)") }
    }

    func injectionOptions(phrases: [String], hintVocabulary: [String], source: String, phraseThresholds: [String: Float] = [:]) -> InjectionOptions {
        var o = InjectionOptions()
        o.mode = mode; o.topK = groundingTopK; o.scoreThreshold = groundingThreshold
        o.phrases = phrases; o.hintVocabulary = hintVocabulary; o.source = source; o.dropout = groundingDropout
        o.hedgeBelow = groundingHedge; o.phraseThresholds = phraseThresholds
        return o
    }

    /// With `--grounding-threshold-per-phrase` and a grounder: each finding phrase's threshold,
    /// chosen on `images` (the validation split) against `truth`, and printed.
    func phraseThresholds(
        detected: [String: [GroundedRegion]], truth: () throws -> [String: [GroundedRegion]], images: [String],
        anatomy: Set<String>
    ) throws -> [String: Float] {
        guard groundingThresholdPerPhrase, groundingSource == .grounder else { return [:] }
        let boxes: [String: [GroundedRegion]]
        do { boxes = try truth() } catch {
            throw ValidationError("--grounding-threshold-per-phrase needs true boxes for the validation images: \(error)")
        }
        let chosen = HintQuality.bestThresholds(detected, truth: boxes, images: images, anatomy: anatomy, thresholds: HintQuality.phraseThresholdGrid)
        print(
            "grounding: thresholds with the best hint F1 on \(images.count) validation images: "
                + chosen.sorted { $0.key < $1.key }.map {
                    "\($0.key) " + ($0.value == HintQuality.never ? "left out" : String(format: "%.2f", $0.value))
                }.joined(separator: ", ")
                + "; phrases without true boxes there keep \(groundingThreshold)")
        return chosen
    }

    /// "oracle" or the grounder's folder(s).
    func sourceName(_ registry: RunRegistry) throws -> String {
        if groundingSource == .oracle { return "oracle" }
        if let grounder { return GrounderSet.absolute(grounder) }
        return try grounderFolder(registry).path
    }

    /// Every study's frontal-view regions (pixels of that image), the phrases they can name, and
    /// the source to record ("oracle" or the grounder's folder).
    func regions(_ dataset: ReportDataset, dataDir: URL, registry: RunRegistry) throws -> (
        regions: [String: [GroundedRegion]], phrases: [String], source: String
    ) {
        let source = try sourceName(registry)
        let (regions, phrases) = try ReportRegions.regions(source: source, dataset, dataDir: dataDir, registry: registry)
        return (regions, phrases, source)
    }

    /// The newest finished grounding run in the registry, else one trained now
    /// on the embedded X-ray, CT and MRI phantoms (the modalities the downstream corpora show).
    func grounderFolder(_ registry: RunRegistry) throws -> URL {
        if let newest = try registry.runs(task: "grounding", status: .finished).first {
            print("grounder: \(newest.folder) (run \(newest.id))")
            return URL(fileURLWithPath: newest.folder)
        }
        let folder = registry.path.deletingLastPathComponent().appendingPathComponent("grounding-auto")
        let arguments = ["--modality", "X-ray,CT,MRI", "--epochs", "6", "--out", folder.path, "--registry", registry.path.path]
        print(
            """
            no finished grounding run in \(registry.path.path) and no --grounder given: training one now on the embedded
            X-ray, CT and MRI phantoms (about 20 minutes on two cores), as
              medglip ground-train \(arguments.joined(separator: " "))
            name an existing one with --grounder RUNDIR, or use --grounding-source oracle, to skip this
            """)
        let resume = FileManager.default.fileExists(atPath: folder.appendingPathComponent("last.safetensors").path) ? ["--resume"] : []
        try GroundTrain.parse(arguments + resume).run()
        return folder
    }
}
