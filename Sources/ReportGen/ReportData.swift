import Datasets
import Foundation
import Imaging
import Injection
import Metrics
import Tensor

/// What to do with a study whose image is missing or unreadable.
public enum MissingImagePolicy: String, Sendable, CaseIterable {
    /// Report every such study (id, file, problem) and skip it.
    case skip
    /// Report every such study and stop.
    case fail
}

/// A study ready for the model: its views decoded to gray, resized to `loadSize` (a little larger
/// than the model input so training can crop at random), and its report as token ids.
public struct ReportExample: Sendable {
    public let id: String
    public let report: String
    let sequence: [Int]
    /// `views` planes of `loadSize x loadSize`, values in [0, 1].
    let pixels: [Float]
    /// The report's 14 CheXpert labels as 0/1 (positive mentions only), the visual extractor's extra target.
    let labels: [Float]
    /// Injected grounding: the frontal view's selected regions (boxes in [0, 1]) and the hint word ids.
    public let regions: [GroundedRegion]
    public let hints: [Int]
    /// The views' files while the study is pending: streamed datasets decode a study (and label its
    /// report) when its batch comes up, not when the dataset is read.
    let images: [URL]
    var isPending: Bool { pixels.isEmpty }

    public init(
        id: String, report: String, sequence: [Int], pixels: [Float], labels: [Float],
        regions: [GroundedRegion] = [], hints: [Int] = [], images: [URL] = []
    ) {
        self.id = id; self.report = report; self.sequence = sequence; self.pixels = pixels; self.labels = labels
        self.regions = regions; self.hints = hints; self.images = images
    }
}

/// Whether a split's images are decoded when it is read or streamed batch by batch.
public enum ImageLoading: String, Sendable, CaseIterable {
    /// Stream when the decoded training images would take more than 1 GiB.
    case auto
    case memory
    case stream

    /// Decoded bytes above which `auto` streams.
    public static let streamAbove = 1 << 30

    public func streams(studies: Int, loadSize: Int, views: Int) -> Bool {
        switch self {
        case .memory: false
        case .stream: true
        case .auto: studies.multipliedReportingOverflow(by: views * loadSize * loadSize * 4).partialValue > Self.streamAbove
        }
    }
}

/// A report dataset could not be loaded; lists every study that is wrong.
public struct ReportDataError: Error, CustomStringConvertible {
    public let problems: [String]
    public let advice: String
    public var description: String { problems.joined(separator: "\n") + (advice.isEmpty ? "" : "\n" + advice) }
}

public struct ReportLoader {
    public let config: ReportGenConfig
    public let tokenizer: ReportTokenizer
    public var onMissing: MissingImagePolicy = .fail
    public var log: (String) -> Void = { print($0) }
    /// Grounded regions of each study's frontal view (pixels of that image), by study id.
    public var regions: [String: [GroundedRegion]] = [:]
    /// Turns the selected regions into hint sentences when the model reads hints.
    public var hints: SpatialHints?

    public init(config: ReportGenConfig, tokenizer: ReportTokenizer) { self.config = config; self.tokenizer = tokenizer }

    /// Margin for random crops: images load at 8/7 of the input size (R2Gen: 256 -> crop 224).
    var loadSize: Int { config.imageSize * 8 / 7 }

    /// Whether `studies` training studies are streamed under `loading`.
    public func streams(_ loading: ImageLoading, studies: Int) -> Bool {
        loading.streams(studies: studies, loadSize: loadSize, views: config.dataset.viewsPerStudy)
    }

    /// Loads `studies` of `dataset`. Reports that clean to nothing are rejected (all ids listed);
    /// unreadable images follow `onMissing`. `stream`: only the reports are read now; the studies
    /// stay pending (missing files follow `onMissing` now, unreadable ones fail when decoded).
    public func load(_ studies: [ReportStudy], from dataset: ReportDataset, split: String, stream: Bool = false) throws -> [ReportExample] {
        // Each report is cleaned once here (over MIMIC-CXR that is most of the reading time).
        let cleaned = studies.map { tokenizer.clean($0.report) }
        // R2Gen's cleaning turns an empty report into " .", so "empty" means no word but the full stop.
        let empty = zip(studies, cleaned).filter { $1.split(separator: " ").allSatisfy { $0 == "." } }.map(\.0.id)
        guard empty.isEmpty else {
            throw ReportDataError(
                problems: empty.map { "study \($0) (\(split)): the report is empty after R2Gen's cleaning" },
                advice: "remove these studies from the annotation file or give them report text")
        }
        let sequences = cleaned.map { tokenizer.encode(cleaned: $0, maxLength: config.dataset.maxSequenceLength) }
        if stream { return try pending(studies, sequences: sequences, from: dataset, split: split) }
        var examples: [ReportExample] = [], problems: [String] = []
        let labeler = try CheXpertLabeler()
        let start = Date()
        for (i, study) in studies.enumerated() {
            do {
                let views = try dataset.imageURLs(study).prefix(config.dataset.viewsPerStudy).map(loadView)
                guard views.count == config.dataset.viewsPerStudy else {
                    throw DatasetError(study.id, "lists \(views.count) images, \(config.dataset.rawValue) needs \(config.dataset.viewsPerStudy)")
                }
                let (regions, hintIDs) = grounding(study.id, width: views[0].width, height: views[0].height)
                examples.append(
                    ReportExample(
                        id: study.id, report: study.report,
                        sequence: sequences[i],
                        pixels: views.flatMap(\.pixels), labels: Self.labelTargets(labeler.label(study.report)),
                        regions: regions, hints: hintIDs))
            } catch {
                problems.append("study \(study.id) (\(split)): \(error)")
            }
            if (i + 1) % 500 == 0 {
                log(String(format: "  %@: %d / %d studies loaded (%.0f s)", split, i + 1, studies.count, Date().timeIntervalSince(start)))
            }
        }
        if !problems.isEmpty {
            if onMissing == .fail {
                throw ReportDataError(
                    problems: problems,
                    advice: "\(problems.count) of \(studies.count) \(split) studies have unusable images; pass --on-missing skip to leave them out")
            }
            for p in problems { log("skipped " + p) }
            log("skipped \(problems.count) of \(studies.count) \(split) studies with unusable images")
        }
        return examples
    }

    /// Studies per second the streaming workers decode (views, labels, grounding) from `examples`
    /// (streamed, as `load(..., stream: true)` gives them).
    public func decodeRate(_ examples: [ReportExample], batchSize: Int) throws -> Double {
        try ReportPrefetcher.decodeRate(loader: self, examples: examples, batchSize: batchSize)
    }

    /// Studies with their token ids and image files only.
    func pending(_ studies: [ReportStudy], sequences: [[Int]], from dataset: ReportDataset, split: String) throws -> [ReportExample] {
        var examples: [ReportExample] = [], problems: [String] = []
        examples.reserveCapacity(studies.count)
        for (study, sequence) in zip(studies, sequences) {
            let images = Array(dataset.imageURLs(study).prefix(config.dataset.viewsPerStudy))
            if let missing = images.first(where: { !FileManager.default.fileExists(atPath: $0.path) }) {
                problems.append("study \(study.id) (\(split)): \(missing.path): no such file")
                continue
            }
            examples.append(ReportExample(id: study.id, report: study.report, sequence: sequence, pixels: [], labels: [], images: images))
        }
        if !problems.isEmpty {
            if onMissing == .fail {
                throw ReportDataError(
                    problems: problems, advice: "\(problems.count) of \(studies.count) \(split) studies have missing images; pass --on-missing skip")
            }
            log("skipped \(problems.count) of \(studies.count) \(split) studies with missing images")
        }
        return examples
    }

    /// A pending study decoded: its views, its report's labels and its grounding.
    func decoded(_ example: ReportExample, labeler: CheXpertLabeler) throws -> ReportExample {
        guard example.isPending else { return example }
        let views = try example.images.map(loadView)
        guard views.count == config.dataset.viewsPerStudy else {
            throw DatasetError(example.id, "lists \(views.count) images, \(config.dataset.rawValue) needs \(config.dataset.viewsPerStudy)")
        }
        let (regions, hintIDs) = grounding(example.id, width: views[0].width, height: views[0].height)
        return ReportExample(
            id: example.id, report: example.report, sequence: example.sequence, pixels: views.flatMap(\.pixels),
            labels: Self.labelTargets(labeler.label(example.report)), regions: regions, hints: hintIDs)
    }

    static func labelTargets(_ labels: [String: Int?]) -> [Float] {
        chexpertObservations.map { (labels[$0] ?? nil) == 1 ? 1 : 0 }
    }

    private func loadView(_ url: URL) throws -> (pixels: [Float], width: Int, height: Int) {
        let image = try ImageIO.read(url).grayscale()
        return (image.resized(width: loadSize, height: loadSize).pixels, image.width, image.height)
    }

    /// The study's regions kept by the injection options, boxes scaled to [0, 1], and their hint ids.
    func grounding(_ id: String, width: Int, height: Int) -> ([GroundedRegion], [Int]) {
        let options = config.injection
        guard options.mode != .none else { return ([], []) }
        let confident = options.confident(regions[id] ?? [])
        let kept = Array(confident.prefix(options.topK))
        let hintIDs =
            options.mode.usesHints
            ? options.hintIDs(hints?.sentences(for: confident, imageWidth: width, imageHeight: height, hedgeBelow: options.hedgeBelow) ?? []) : []
        let normalized = kept.map { $0.normalized(width: width, height: height) }
        return (options.mode.usesTokens ? normalized : [], hintIDs)
    }

    /// Model input `[B * views, 1, S, S]`, normalised like the grounding stage (mean 0.5, std 0.25):
    /// when training each study is cropped at random by its own generator (so its crop does not
    /// depend on the batch, or the rank, it is in), otherwise centred.
    public func batch(_ examples: [ReportExample], rngs: [RandomGenerator]?) -> Tensor {
        let (s, l, views) = (config.imageSize, loadSize, config.dataset.viewsPerStudy)
        var out = [Float](repeating: 0, count: examples.count * views * s * s)
        // Horizontal flips (R2Gen's augmentation) are left out: they would swap the report's left and right.
        for (e, example) in examples.enumerated() {
            for v in 0..<views {
                let (ox, oy) = rngs.map { ($0[e].int(l - s + 1), $0[e].int(l - s + 1)) } ?? ((l - s) / 2, (l - s) / 2)
                let base = (e * views + v) * s * s, plane = v * l * l
                for y in 0..<s {
                    for x in 0..<s { out[base + y * s + x] = (example.pixels[plane + (y + oy) * l + x + ox] - 0.5) / 0.25 }
                }
            }
        }
        return Tensor(shape: [examples.count * views, 1, s, s], data: out)
    }
}
