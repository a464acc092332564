import Imaging

/// How far hints from a grounder can be trusted at one score threshold: precision and recall of
/// its finding detections (anatomy left out, as hints leave it out) against ground-truth boxes.
/// A detection is right when it names the phrase of a ground-truth box it overlaps by at least
/// `minimumIoU`, each box counting once (detections taken best first). Measured on validation
/// images, this is how `--grounding-threshold` is chosen.
public struct HintQuality: Sendable, Equatable {
    public var threshold: Float
    public var truePositives: Int, falsePositives: Int, falseNegatives: Int

    public var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
    public var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
    public var f1: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }

    public static let minimumIoU: Float = 0.3

    /// One row per threshold over `images` (keys of both maps; boxes in one coordinate frame per
    /// image), counting the boxes of `phrase` only when given.
    public static func measure(
        _ detections: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String],
        anatomy: Set<String>, thresholds: [Float], phrase: String? = nil
    ) -> [HintQuality] {
        let counted = { (r: GroundedRegion) in !anatomy.contains(r.phrase) && (phrase == nil || r.phrase == phrase) }
        return thresholds.map { threshold in
            var row = HintQuality(threshold: threshold, truePositives: 0, falsePositives: 0, falseNegatives: 0)
            for image in images {
                let boxes = (truth[image] ?? []).filter(counted)
                var matched = [Bool](repeating: false, count: boxes.count)
                let kept = (detections[image] ?? []).filter { $0.score >= threshold && counted($0) }.sorted { $0.score > $1.score }
                for d in kept {
                    let hit = boxes.indices.first { !matched[$0] && boxes[$0].phrase == d.phrase && box(boxes[$0]).iou(box(d)) >= minimumIoU }
                    if let hit { matched[hit] = true; row.truePositives += 1 } else { row.falsePositives += 1 }
                }
                row.falseNegatives += matched.filter { !$0 }.count
            }
            return row
        }
    }

    /// A phrase whose hints are wrong more often than right at every threshold is left out.
    public static let minimumPrecision = 0.5
    /// The threshold of a phrase left out: above every score.
    public static let never = Float.greatestFiniteMagnitude
    /// The thresholds `--grounding-threshold-per-phrase` chooses among: 0.20 to 0.80 by 0.05.
    public static let phraseThresholdGrid: [Float] = (4...16).map { Float($0) * 0.05 }

    /// Per finding phrase with true boxes on `images`, the threshold of `thresholds` with the best F1
    /// of that phrase's boxes (the higher one on ties) among those with precision >=
    /// `minimumPrecision`, else `never`: a grounder's scores are not calibrated alike across phrases
    /// (small nodules score lower than effusions), so one threshold drops some phrases' true boxes
    /// while keeping others' false ones. Phrases without true boxes there cannot be judged and get
    /// no entry (the caller's default threshold).
    public static func bestThresholds(
        _ detections: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String],
        anatomy: Set<String>, thresholds: [Float]
    ) -> [String: Float] {
        let phrases = Set(images.flatMap { truth[$0] ?? [] }.map(\.phrase)).subtracting(anatomy)
        return Dictionary(
            uniqueKeysWithValues: phrases.map { phrase in
                let rows = measure(detections, truth: truth, images: images, anatomy: anatomy, thresholds: thresholds.sorted(), phrase: phrase)
                let usable = rows.reversed().filter { $0.truePositives > 0 && $0.precision >= minimumPrecision }
                return (phrase, usable.max { $0.f1 < $1.f1 }?.threshold ?? never)
            })
    }

    static func box(_ r: GroundedRegion) -> Box { r.box }
}
