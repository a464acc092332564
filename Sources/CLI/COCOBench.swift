import ArgumentParser
import Dispatch
import Foundation
import Metrics

/// A synthetic, seeded COCO evaluation workload: `images` images with 1-5 ground truths each (about 3;
/// 1% crowd), 100 detections per image (2-3 jittered copies of each ground truth, the rest random boxes),
/// 10 categories, box sizes spread over small / medium / large. The same data can be written out
/// (`medglip bench coco --write-data DIR`) to time pycocotools on it.
func cocoBenchmarkData(images: Int = 5000, detectionsPerImage: Int = 100, categories: Int = 10, seed: UInt64 = 1)
    -> (COCOEvalGroundTruth, [COCOEvalDetection])
{
    var rng = SplitMix64(seed: seed)
    var annotations: [COCOEvalGroundTruth.Annotation] = []
    var detections: [COCOEvalDetection] = []
    func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }
    for image in 1...images {
        var boxes: [(category: Int, box: [Double])] = []
        for _ in 0..<(1 + Int(rng.next() % 5)) {
            let size = [rng.uniform(4, 32), rng.uniform(32, 96), rng.uniform(96, 300)][Int(rng.next() % 3)]
            let box = [
                rounded(rng.uniform(0, 500)), rounded(rng.uniform(0, 500)), rounded(size * rng.uniform(0.6, 1.4)),
                rounded(size * rng.uniform(0.6, 1.4))
            ]
            let category = 1 + Int(rng.next() % UInt64(categories))
            annotations.append(
                .init(
                    id: annotations.count + 1, imageID: image, categoryID: category, bbox: box,
                    area: rounded(box[2] * box[3] * rng.uniform(0.7, 1)), iscrowd: rng.uniform(0, 1) < 0.01 ? 1 : 0))
            boxes.append((category, box))
        }
        var count = 0
        for (category, box) in boxes {
            for _ in 0..<(2 + Int(rng.next() % 2)) where count < detectionsPerImage {
                let jitter = rng.uniform(0, 0.3)
                let b = [
                    rounded(box[0] + box[2] * jitter * rng.uniform(-1, 1)), rounded(box[1] + box[3] * jitter * rng.uniform(-1, 1)),
                    rounded(box[2] * (1 + jitter * rng.uniform(-1, 1))), rounded(box[3] * (1 + jitter * rng.uniform(-1, 1)))
                ]
                detections.append(.init(imageID: image, categoryID: category, bbox: b, score: (rng.uniform(0.3, 1) * 1000).rounded() / 1000))
                count += 1
            }
        }
        while count < detectionsPerImage {
            let size = rng.uniform(4, 250)
            let b = [
                rounded(rng.uniform(0, 500)), rounded(rng.uniform(0, 500)), rounded(size * rng.uniform(0.6, 1.4)),
                rounded(size * rng.uniform(0.6, 1.4))
            ]
            detections.append(
                .init(
                    imageID: image, categoryID: 1 + Int(rng.next() % UInt64(categories)), bbox: b,
                    score: (rng.uniform(0, 0.7) * 1000).rounded() / 1000))
            count += 1
        }
    }
    let gt = COCOEvalGroundTruth(
        images: (1...images).map { .init(id: $0) }, annotations: annotations,
        categories: (1...categories).map { .init(id: $0, name: "class\($0)") })
    return (gt, detections)
}

/// Rows for `medglip bench`: median wall time of COCOEval (evaluate + accumulate + summarize) on
/// `cocoBenchmarkData()`, on all cores and on one, and the throughput.
func cocoEvalBenchmarkRows(seconds: Double) -> [(String, Double, String)] {
    let (gt, dts) = cocoBenchmarkData()
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let all = medianSeconds(seconds) { _ = COCOEval.evaluate(gt, dts) }
    let one = medianSeconds(seconds) { _ = COCOEval.evaluate(gt, dts, threads: 1) }
    let what = "5,000 images x 100 detections, 10 categories: evaluate + accumulate + summarize"
    return [
        ("coco_eval_s", all, "s, \(what), \(cores) threads"),
        ("coco_eval_1thread_s", one, "s, the same on one thread"),
        ("coco_eval_mdets_per_s", Double(dts.count) / all / 1e6, "million detections per second, \(cores) threads")
    ]
}

/// The benchmark's seeded generator (SplitMix64): fixed output on every platform, no shared state.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53) }
}
