import Datasets
import Foundation
import Grounding
import Imaging
import Injection
import Registry
import Synthetic

/// Grounded regions of a report dataset's studies (their frontal views, in that image's pixels):
/// the corpus's true boxes (`labels.json` beside `annotation.json`, the oracle) or a grounder's
/// detections through its X-ray expert.
public enum ReportRegions {
    /// The regions of `source` ("oracle" or grounding run folders) for every study, and the
    /// phrases they can name.
    public static func regions(
        source: String, _ dataset: ReportDataset, dataDir: URL,
        registry: RunRegistry
    ) throws -> (regions: [String: [GroundedRegion]], phrases: [String]) {
        guard source != "oracle" else {
            let regions = try trueBoxes(dataDir)
            return (regions, Set(regions.values.flatMap { $0.map(\.phrase) }).sorted())
        }
        let experts = try GrounderSet(source: source)
        guard let expert = experts.expert(for: "X-ray"), let phrases = experts.runs[expert.run].grounder.run.prompts[expert.modality] else {
            throw PipelineError("\(source): no X-ray expert in this grounder (it knows \(experts.modalities.joined(separator: ", ")))")
        }
        let run = experts.runs[expert.run]
        let studies = dataset.train + dataset.val + dataset.test
        let images = studies.compactMap { s in dataset.imageURLs(s).first.map { (key: s.id, url: $0, modality: expert.modality) } }
        let regions = try DetectionCache.detections(
            run.grounder, folder: run.folder, images: images, what: "frontal views",
            dataDir: dataDir, registry: registry)
        return (regions, phrases)
    }

    /// The frontal-view boxes of `labels.json` in `dataDir`, score 1.
    static func trueBoxes(_ dataDir: URL) throws -> [String: [GroundedRegion]] {
        let side = dataDir.appendingPathComponent("labels.json")
        guard FileManager.default.fileExists(atPath: side.path) else {
            throw PipelineError(
                "--grounding-source oracle needs the corpus's ground-truth boxes (labels.json), and \(dataDir.path) has none; "
                    + "use --grounding-source grounder")
        }
        let records = try decodeJSON([String: CXRStudyRecord].self, from: side)
        return try records.mapValues { r in
            try (r.boxes["frontal"] ?? []).map { v in
                guard v.bbox.count == 4 else {
                    throw PipelineError("\(side.path): a bbox of '\(v.label)' has \(v.bbox.count) numbers, not [x, y, w, h]")
                }
                return GroundedRegion(phrase: v.label, score: 1, box: Box(xywh: v.bbox))
            }
        }
    }
}
