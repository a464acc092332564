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

    /// One row per threshold over `images` (keys of both maps; boxes in one coordinate frame per image).
    public static func measure(_ detections: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String],
                               anatomy: Set<String>, thresholds: [Float]) -> [HintQuality] {
        thresholds.map { threshold in
            var row = HintQuality(threshold: threshold, truePositives: 0, falsePositives: 0, falseNegatives: 0)
            for image in images {
                let boxes = (truth[image] ?? []).filter { !anatomy.contains($0.phrase) }
                var matched = [Bool](repeating: false, count: boxes.count)
                let kept = (detections[image] ?? []).filter { $0.score >= threshold && !anatomy.contains($0.phrase) }.sorted { $0.score > $1.score }
                for d in kept {
                    let hit = boxes.indices.first { !matched[$0] && boxes[$0].phrase == d.phrase && box(boxes[$0]).iou(box(d)) >= minimumIoU }
                    if let hit { matched[hit] = true; row.truePositives += 1 } else { row.falsePositives += 1 }
                }
                row.falseNegatives += matched.filter { !$0 }.count
            }
            return row
        }
    }

    static func box(_ r: GroundedRegion) -> Box { Box(x1: r.box[0], y1: r.box[1], x2: r.box[2], y2: r.box[3]) }
}
