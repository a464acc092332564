import Foundation
import Injection
import Metrics

/// How well one set of regions matches another (a grounder's detections against true boxes),
/// scored as pycocotools scores detections.
public enum RegionAgreement {
    /// COCO AP / AP50 of `detections` against `truth` over `images` (keys of both maps).
    public static func coco(_ detections: [String: [GroundedRegion]], truth: [String: [GroundedRegion]], images: [String]) -> (Double, Double) {
        let names = Set(truth.values.flatMap { $0.map(\.phrase) }).union(detections.values.flatMap { $0.map(\.phrase) }).sorted()
        let category = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0 + 1) })
        var annotations: [COCOEvalGroundTruth.Annotation] = [], found: [COCOEvalDetection] = []
        for (i, image) in images.enumerated() {
            for r in truth[image] ?? [] {
                let box = r.box.xywh.map(Double.init)
                annotations.append(.init(id: annotations.count + 1, imageID: i, categoryID: category[r.phrase]!, bbox: box, area: box[2] * box[3]))
            }
            for r in detections[image] ?? [] {
                found.append(.init(imageID: i, categoryID: category[r.phrase]!, bbox: r.box.xywh.map(Double.init), score: Double(r.score)))
            }
        }
        let gt = COCOEvalGroundTruth(
            images: images.indices.map { .init(id: $0) }, annotations: annotations,
            categories: names.map { .init(id: category[$0]!, name: $0) })
        let result = COCOEval.evaluate(gt, found)
        return (result[stat: "AP"] ?? 0, result[stat: "AP50"] ?? 0)
    }
}
