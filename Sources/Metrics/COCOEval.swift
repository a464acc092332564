import Dispatch
import Foundation

/// COCO bbox evaluation that reproduces pycocotools' `COCOeval` (iouType 'bbox', default parameters:
/// `evaluate()`, `accumulate()`, `summarize()`) to floating-point rounding: the 12 summary stats and the
/// per-category AP (precision over IoU .50:.95 and the 101 recall points, area 'all', 100 detections).
///
/// Reference: pycocotools/cocoeval.py (COCOeval, Params) and pycocotools/coco.py (`loadRes`), with
/// maskApi.c `bbIou` for the IoU. The work is split the same way: `COCOEvalMatching.swift` is
/// `computeIoU` + `evaluateImg`, `COCOEvalAccumulate.swift` is `accumulate`, `COCOEvalSummary.swift`
/// is `summarize`. As pycocotools, it evaluates the ground truth's images and categories (sorted ids)
/// and drops annotations and detections outside them.
public enum COCOEval {
    /// Evaluates `detections` against `groundTruth`. Boxes must have 4 values (`COCOEvalInputs` checks
    /// files). Categories are evaluated independently, on up to `threads` threads (default: all cores);
    /// the result does not depend on the thread count.
    public static func evaluate(_ groundTruth: COCOEvalGroundTruth, _ detections: [COCOEvalDetection], threads: Int? = nil) -> COCOEvalResult {
        let prepared = COCOEvalPrepared(groundTruth, detections)
        let categories = prepared.categoryIDs.count
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, categories))
        var curves: [COCOEvalCurves]
        if workers == 1 {
            curves = (0..<categories).map { COCOEvalCurves(COCOEvalMatches(prepared, category: $0)) }
        } else {
            // Workers take the next category from a shared counter (categories differ in size); each
            // category's curves depend only on its own data, so the assignment cannot change the result.
            let slots = COCOEvalSlots<COCOEvalCurves>(categories)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while let k = slots.next() { slots.store(k, COCOEvalCurves(COCOEvalMatches(prepared, category: k))) }
            }
            curves = slots.values()
        }
        return COCOEvalResult(categoryIDs: prepared.categoryIDs, categoryNames: prepared.categoryNames, curves: curves)
    }
}

/// Per-category results filled from several threads under a lock, plus the counter that hands out work.
private final class COCOEvalSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    private var nextIndex = 0

    init(_ count: Int) { slots = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < slots.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func store(_ i: Int, _ value: T) { lock.lock(); slots[i] = value; lock.unlock() }

    func values() -> [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

/// Ground truths and detections in flat arrays, grouped by (category, image) as pycocotools' `_gts` /
/// `_dts` dictionaries are, each group keeping file order (which decides ties). Group `k * images + i`
/// spans `start[g] ..< start[g + 1]`.
struct COCOEvalPrepared: Sendable {
    let imageCount: Int
    let categoryIDs: [Int]
    let categoryNames: [String]
    let gtStart: [Int32]
    let gtBox: [Double]  // 4 per ground truth: x, y, w, h
    let gtArea: [Double]
    let gtCrowd: [Bool]
    let gtID: [Int]
    let dtStart: [Int32]
    let dtBox: [Double]
    let dtArea: [Double]
    let dtScore: [Double]

    init(_ gt: COCOEvalGroundTruth, _ dts: [COCOEvalDetection]) {
        // p.imgIds / p.catIds: the ground truth's ids, unique and sorted (np.unique in evaluate()).
        let imageIDs = Array(Set(gt.images.map(\.id))).sorted()
        var names: [Int: String] = [:]
        for c in gt.categories where names[c.id] == nil { names[c.id] = c.name }
        categoryIDs = names.keys.sorted()
        categoryNames = categoryIDs.map { names[$0]! }
        imageCount = imageIDs.count
        let imageIndex = Dictionary(uniqueKeysWithValues: imageIDs.enumerated().map { ($1, $0) })
        let categoryIndex = Dictionary(uniqueKeysWithValues: categoryIDs.enumerated().map { ($1, $0) })
        let groups = categoryIDs.count * imageIDs.count

        func group(_ image: Int, _ category: Int) -> Int? {
            guard let i = imageIndex[image], let k = categoryIndex[category] else { return nil }
            return k * imageIDs.count + i
        }
        // A counting sort by group: stable, so each group keeps the file order.
        func layout(_ keys: [Int?]) -> (start: [Int32], slot: [Int]) {
            var start = [Int32](repeating: 0, count: groups + 1)
            for case let key? in keys { start[key + 1] += 1 }
            for g in 0..<groups { start[g + 1] += start[g] }
            var fill = start
            var slot = [Int](repeating: -1, count: keys.count)
            for (n, key) in keys.enumerated() {
                guard let key else { continue }
                slot[n] = Int(fill[key]); fill[key] += 1
            }
            return (start, slot)
        }

        let gtLayout = layout(gt.annotations.map { group($0.image_id, $0.category_id) })
        let gtCount = Int(gtLayout.start[groups])
        var gtBox = [Double](repeating: 0, count: 4 * gtCount), gtArea = [Double](repeating: 0, count: gtCount)
        var gtCrowd = [Bool](repeating: false, count: gtCount), gtID = [Int](repeating: 0, count: gtCount)
        for (n, a) in gt.annotations.enumerated() {
            let s = gtLayout.slot[n]
            guard s >= 0 else { continue }
            precondition(a.bbox.count == 4, "annotation \(a.id): bbox must have 4 values")
            for c in 0..<4 { gtBox[4 * s + c] = a.bbox[c] }
            gtArea[s] = a.area ?? a.bbox[2] * a.bbox[3]
            gtCrowd[s] = (a.iscrowd ?? 0) != 0
            gtID[s] = a.id
        }

        let dtLayout = layout(dts.map { group($0.image_id, $0.category_id) })
        let dtCount = Int(dtLayout.start[groups])
        var dtBox = [Double](repeating: 0, count: 4 * dtCount), dtArea = [Double](repeating: 0, count: dtCount)
        var dtScore = [Double](repeating: 0, count: dtCount)
        for (n, d) in dts.enumerated() {
            let s = dtLayout.slot[n]
            guard s >= 0 else { continue }
            precondition(d.bbox.count == 4, "detection \(n): bbox must have 4 values")
            for c in 0..<4 { dtBox[4 * s + c] = d.bbox[c] }
            dtArea[s] = d.bbox[2] * d.bbox[3]  // loadRes: ann['area'] = bb[2] * bb[3]
            dtScore[s] = d.score
        }
        self.gtStart = gtLayout.start; self.gtBox = gtBox; self.gtArea = gtArea; self.gtCrowd = gtCrowd; self.gtID = gtID
        self.dtStart = dtLayout.start; self.dtBox = dtBox; self.dtArea = dtArea; self.dtScore = dtScore
    }
}
