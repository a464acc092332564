import Datasets
import Foundation
import Imaging
import Injection
import Metrics
import Pipeline
import Registry
import ReportGen
import VQA

/// The parts of `report.html` beyond the charts, read back from the seed-0 runs of an ablation:
/// how good the injected boxes were on the test images (COCO AP against the corpus's own boxes,
/// where it has them) and a gallery of test cases with the boxes drawn, the hint, the reference
/// and every mode's output.
public struct AblationGallery {
    let out: URL
    let modes: [String]
    let registry: RunRegistry
    /// The VQA split scored (no run chooses its weights on it).
    let vqaSplit = "test"
    /// Cases per task.
    public var cases = 4

    public init(out: URL, modes: [String], registry: RunRegistry) {
        self.out = out; self.modes = modes; self.registry = registry
    }

    func folder(_ task: String, _ mode: String) -> URL { out.appendingPathComponent("\(task)-\(mode)-seed0") }

    /// The seed-0 run folders of `modes` that exist (hold a config.json), in mode order.
    func ran(_ task: String, modes: [String]) -> [URL] {
        modes.map { folder(task, $0) }.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
    }

    /// The injection options (grounder folder, threshold) of the first grounder-driven mode that
    /// ran (nil: only none / oracle ran).
    func grounderOptions(_ task: String, config: (URL) throws -> InjectionOptions) throws -> InjectionOptions? {
        try ran(task, modes: modes.filter { !["none", "oracle"].contains($0) }).first.map(config)
    }

    /// Draws `regions` on `image` into `gallery/<name>.png` and returns the path relative to the report.
    func drawing(_ image: URL, regions: [GroundedRegion], name: String) throws -> String {
        let picture = try ImageIO.read(image)
        let annotations = regions.map { Annotation(box: $0.box, label: $0.phrase, score: $0.score) }
        let relative = "gallery/\(name).png"
        try FileManager.default.createDirectory(at: out.appendingPathComponent("gallery"), withIntermediateDirectories: true)
        try ImageIO.writePNG(picture.drawing(annotations), to: out.appendingPathComponent(relative))
        return relative
    }

    /// Each mode's outputs from its seed-0 run's predictions file, keyed by the first of `keys` a line has.
    /// `keys`: the id field's names, newest first (vqa-eval wrote `qid` before LLaVA-Med's `question_id`).
    func predictions(_ task: String, file: String, keys: [String], value: String) -> [String: [String: String]] {
        var byMode: [String: [String: String]] = [:]
        for mode in modes {
            guard let text = try? String(contentsOf: folder(task, mode).appendingPathComponent(file), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let k = keys.lazy.compactMap({ obj[$0] }).first.map({ "\($0)" }), let v = obj[value] as? String
                else { continue }
                byMode[mode, default: [:]][k] = v
            }
        }
        return byMode
    }

    /// Score thresholds the hint table shows (besides the one the runs used).
    static let thresholds: [Float] = [0.3, 0.35, 0.4, 0.45, 0.5, 0.6]

    /// Precision / recall of the grounder's finding boxes on `images` per threshold, marking `used`.
    static func hintTable(
        _ detected: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String],
        anatomy: Set<String>, used: Float
    ) -> HintTable {
        let rows = HintQuality.measure(detected, truth: truth, images: images, anatomy: anatomy, thresholds: Array(Set(thresholds + [used])).sorted())
        return HintTable(
            rows: rows.map { .init(threshold: Double($0.threshold), precision: $0.precision, recall: $0.recall) }, used: Double(used),
            rule: "finding boxes; right when the phrase matches a true box it overlaps by IoU >= \(HintQuality.minimumIoU)")
    }

    /// Report generation: the first test studies with a finding in the corpus's boxes.
    public func reportGeneration() throws -> (grounding: [(String, Double, Double)], hints: HintTable?, gallery: [GalleryCase]) {
        guard let anyRun = ran("mrg", modes: modes).first else { return ([], nil, []) }
        let run = try decodeJSON(ReportRunConfig.self, from: anyRun.appendingPathComponent("config.json"))
        let dataDir = URL(fileURLWithPath: run.dataDir)
        let dataset = try run.model.dataset.read(dataDir)
        let oracle =
            FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("labels.json").path)
            ? try ReportRegions.regions(source: "oracle", dataset, dataDir: dataDir, registry: registry).regions : nil
        let grounded = try grounderOptions("mrg") {
            try decodeJSON(ReportRunConfig.self, from: $0.appendingPathComponent("config.json")).model.injection
        }
        let source = grounded?.source, options = grounded ?? InjectionOptions()
        let detected = try source.map { try ReportRegions.regions(source: $0, dataset, dataDir: dataDir, registry: registry).regions }
        let hints = try SpatialHints(named: "chest")
        var table: [(String, Double, Double)] = [], hintTable: HintTable?
        if let detected, let oracle {
            let (ap, ap50) = RegionAgreement.coco(detected, truth: oracle, images: dataset.test.map(\.id))
            table.append(("grounder (\(GrounderSet.name(source!))) on the test studies' frontal views", ap, ap50))
            hintTable = Self.hintTable(
                detected, truth: oracle, images: dataset.val.map(\.id), anatomy: Set(hints.templates.anatomy), used: options.scoreThreshold)
        }
        let shown = detected ?? oracle ?? [:]
        let outputs = predictions("mrg", file: "predictions.jsonl", keys: ["id"], value: "generated")
        let references = predictions("mrg", file: "predictions.jsonl", keys: ["id"], value: "reference").values.first ?? [:]
        var gallery: [GalleryCase] = []
        for study in dataset.test where !(oracle?[study.id] ?? []).isEmpty || oracle == nil {
            guard gallery.count < cases, let frontal = dataset.imageURLs(study).first, let size = try? ImageIO.read(frontal) else { continue }
            let regions = options.confident(shown[study.id] ?? [])
            var lines = [
                (
                    "hint",
                    hints.sentences(for: regions, imageWidth: size.width, imageHeight: size.height, hedgeBelow: options.hedgeBelow).joined(
                        separator: "; ")
                ),
                ("reference", references[study.id] ?? study.report)
            ]
            lines += modes.compactMap { m in outputs[m]?[study.id].map { (m, $0) } }
            gallery.append(
                GalleryCase(title: "study \(study.id)", image: try drawing(frontal, regions: regions, name: "mrg-\(study.id)"), lines: lines))
        }
        return (table, hintTable, gallery)
    }

    /// VQA: test images with a finding first, two questions each.
    public func questionAnswering() throws -> (grounding: [(String, Double, Double)], hints: HintTable?, gallery: [GalleryCase]) {
        guard let anyRun = ran("vqa", modes: modes).first else { return ([], nil, []) }
        let run = try decodeJSON(VQARunConfig.self, from: anyRun.appendingPathComponent("config.json"))
        let dataDir = URL(fileURLWithPath: run.dataDir)
        let splits = try run.splits()
        let all = splits.train + splits.val + splits.test, scored = splits.split(vqaSplit) ?? []
        let hasBoxes =
            scored.first.map {
                FileManager.default.fileExists(atPath: $0.imageURL.deletingLastPathComponent().appendingPathComponent("detection.json").path)
            } ?? false
        let oracle = hasBoxes ? try VQARegions.regions(source: "oracle", items: all, dataDir: dataDir, registry: registry).regions : nil
        let grounded = try grounderOptions("vqa") {
            try decodeJSON(VQARunConfig.self, from: $0.appendingPathComponent("config.json")).model.injection
        }
        let source = grounded?.source, options = grounded ?? InjectionOptions()
        let detected = try source.map { try VQARegions.regions(source: $0, items: all, dataDir: dataDir, registry: registry).regions }
        let testImages = Array(Set(scored.map { $0.imageURL.standardizedFileURL.path })).sorted()
        let hints = try ModalityHints.load()
        var table: [(String, Double, Double)] = [], hintTable: HintTable?
        if let detected, let oracle {
            let (ap, ap50) = RegionAgreement.coco(detected, truth: oracle, images: testImages)
            table.append(("grounder (\(GrounderSet.name(source!))) on the \(vqaSplit) images", ap, ap50))
            let valImages = Array(Set(splits.val.map { $0.imageURL.standardizedFileURL.path })).sorted()
            hintTable = Self.hintTable(detected, truth: oracle, images: valImages, anatomy: hints.anatomy, used: options.scoreThreshold)
        }
        let shown = detected ?? oracle ?? [:]
        let outputs = predictions("vqa", file: "predictions-\(vqaSplit).jsonl", keys: ["question_id", "qid"], value: "prediction")
        var gallery: [GalleryCase] = []
        let byImage = Dictionary(grouping: scored) { $0.imageURL.standardizedFileURL.path }
        func hasFinding(_ path: String) -> Bool {
            let anatomy = hints[byImage[path]![0].groundingModality]?.templates.anatomy ?? []
            return (oracle?[path] ?? []).contains { !anatomy.contains($0.phrase) }
        }
        for path in testImages.filter(hasFinding) + testImages.filter({ !hasFinding($0) }) where gallery.count < cases {
            let questions = byImage[path]!
            guard let size = try? ImageIO.read(questions[0].imageURL) else { continue }
            let regions = options.confident(shown[path] ?? [])
            let hint =
                hints[questions[0].groundingModality]?.sentences(
                    for: regions, imageWidth: size.width, imageHeight: size.height, hedgeBelow: options.hedgeBelow
                ).joined(separator: "; ") ?? ""
            var lines = [("hint", hint)]
            for q in questions.prefix(2) {
                lines.append(("Q", "\(q.question) (answer: \(q.answer))"))
                lines += modes.compactMap { m in outputs[m]?[q.qid].map { (m, $0) } }
            }
            gallery.append(
                GalleryCase(
                    title: "\(questions[0].imageName) (\(questions[0].modality ?? questions[0].organ ?? ""))",
                    image: try drawing(questions[0].imageURL, regions: regions, name: "vqa-\(gallery.count)"), lines: lines))
        }
        return (table, hintTable, gallery)
    }
}
