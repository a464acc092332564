import ArgumentParser
import Datasets
import Foundation
import Injection
import Pipeline
import Registry
import ReportGen
import VQA

/// `medglip hints`: how far a grounder's hints can be trusted on a dataset's validation images,
/// per score threshold, before any downstream training: the table `--grounding-threshold` is
/// chosen from. Needs a dataset with true boxes (the embedded corpora, SLAKE's detection.json).
struct HintsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hints", abstract: "Precision / recall of a grounder's finding boxes per score threshold, on a dataset with true boxes.",
        discussion: """
            A detection is right when it names the phrase of a true box it overlaps by IoU >= \(HintQuality.minimumIoU); \
            anatomy is left out, as the hints leave it out. Detections are cached in the run registry, so \
            downstream training with the same grounder reuses them.
            """)

    enum Task: String, ExpressibleByArgument { case vqa, mrg }

    @Option(help: "vqa (a SLAKE-format dataset) or mrg (the embedded report corpus).") var task: Task = .vqa
    @Option(help: "Grounding run folder, or several separated by commas (each modality from the first that knows it).") var grounder: String
    @Option(help: "Folder of the dataset (default: the embedded corpus of --task).") var dataDir: String?
    @Option(help: "Split whose images are scored.") var split: EvaluationSplit = .val
    @Option(help: "Thresholds, comma-separated.") var thresholds = "0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.7"
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    func levels() throws -> [Float] {
        try thresholds.split(separator: ",").map { part -> Float in
            guard let t = Float(part.trimmingCharacters(in: .whitespaces)), (0...1).contains(t) else {
                throw ValidationError("--thresholds: '\(part)' is not a number in [0, 1]")
            }
            return t
        }
    }

    func validate() throws {
        _ = try levels()
    }

    func run() throws {
        try threadOptions.apply()
        let levels = try levels()
        let registry = try self.registry.open()
        let source = GrounderSet.absolute(grounder)
        let (detected, truth, images, anatomy) = try task == .vqa ? vqa(source, registry: registry) : mrg(source, registry: registry)
        let rows = HintQuality.measure(detected, truth: truth, images: images, anatomy: anatomy, thresholds: levels)
        let (ap, ap50) = RegionAgreement.coco(detected, truth: truth, images: images)
        let best = rows.max { $0.f1 < $1.f1 }!
        if json {
            let object: [String: Any] = [
                "images": images.count, "AP": ap, "AP50": ap50, "best_f1_threshold": Double(best.threshold),
                "rows": rows.map {
                    [
                        "threshold": Double($0.threshold), "precision": $0.precision, "recall": $0.recall, "f1": $0.f1,
                        "true_positives": $0.truePositives, "false_positives": $0.falsePositives, "false_negatives": $0.falseNegatives
                    ]
                }
            ]
            try printJSON(object, pretty: true)
            return
        }
        print(
            "\(GrounderSet.name(source)) on \(images.count) \(split) images: COCO AP \(String(format: "%.3f", ap)), AP50 "
                + "\(String(format: "%.3f", ap50)) (every box, anatomy included)"
        )
        print("threshold  precision  recall  F1     (finding boxes: tp / fp / fn)")
        for r in rows {
            print(
                String(
                    format: "%-9.2f  %-9.3f  %-6.3f  %.3f  %d / %d / %d", r.threshold, r.precision, r.recall, r.f1, r.truePositives, r.falsePositives,
                    r.falseNegatives)
                    + (r == best ? "  <- best F1" : ""))
        }
        // The grid training chooses on, not --thresholds, so the table shows what a run will use.
        print(
            "per phrase, the threshold of 0.20, 0.25, ..., 0.80 with the best F1 at precision >= \(HintQuality.minimumPrecision) "
                + "(--grounding-threshold-per-phrase):"
        )
        for (phrase, threshold) in HintQuality.bestThresholds(
            detected, truth: truth, images: images, anatomy: anatomy,
            thresholds: HintQuality.phraseThresholdGrid
        ).sorted(by: { $0.key < $1.key }) {
            guard threshold != HintQuality.never else {
                print(
                    "  " + phrase.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + " left out: precision below \(HintQuality.minimumPrecision) at every threshold");
                continue
            }
            let r = HintQuality.measure(detected, truth: truth, images: images, anatomy: anatomy, thresholds: [threshold], phrase: phrase)[0]
            print(
                "  " + phrase.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(
                        format: " %.2f  precision %.3f  recall %.3f  F1 %.3f  (%d / %d / %d)", threshold, r.precision, r.recall, r.f1,
                        r.truePositives, r.falsePositives, r.falseNegatives))
        }
    }

    typealias Boxes = (detected: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String], anatomy: Set<String>)

    func vqa(_ source: String, registry: RunRegistry) throws -> Boxes {
        let dir = try dataDir.map { URL(fileURLWithPath: $0) } ?? VQADataOptions.embeddedSlake()
        let splits = try VQASplits.read(.slake, root: dir)
        let all = splits.train + splits.val + splits.test
        let truth = try VQARegions.regions(source: "oracle", items: all, dataDir: dir, registry: registry).regions
        let detected = try VQARegions.regions(source: source, items: all, dataDir: dir, registry: registry).regions
        let images = Set((splits.split(split.rawValue) ?? []).map { $0.imageURL.standardizedFileURL.path }).sorted()
        return (detected, truth, images, try ModalityHints.load().anatomy)
    }

    func mrg(_ source: String, registry: RunRegistry) throws -> Boxes {
        let dir = try dataDir.map { URL(fileURLWithPath: $0) } ?? ReportDataOptions.embeddedCorpus()
        let dataset = try ReportDatasetKind.iuXray.read(dir)
        let truth = try ReportRegions.regions(source: "oracle", dataset, dataDir: dir, registry: registry).regions
        let detected = try ReportRegions.regions(source: source, dataset, dataDir: dir, registry: registry).regions
        let images = (split == .val ? dataset.val : dataset.test).map(\.id)
        return (detected, truth, images, Set(try SpatialHints(named: "chest").templates.anatomy))
    }
}
