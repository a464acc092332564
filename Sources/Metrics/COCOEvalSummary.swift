/// The 12 numbers of pycocotools' `COCOeval.summarize()` for bbox (`_summarizeDets`) and per-category AP.
public struct COCOEvalResult: Sendable, Equatable {
    /// Names of `stats`, in pycocotools' order.
    public static let statNames = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]

    public struct CategoryAP: Sendable, Equatable {
        public var id: Int
        public var name: String
        /// Mean of precision over IoU .50:.95 and the 101 recall points, area 'all', 100 detections
        /// (`precision[:, :, k, 0, -1]`, as detectron2's per-category table); -1 without ground truth.
        public var ap: Double
        /// The same at IoU .50 only (`precision[0, :, k, 0, -1]`).
        public var ap50: Double
    }

    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; -1 where nothing counts.
    public var stats: [Double]
    /// By ascending category id.
    public var perCategory: [CategoryAP]

    public subscript(stat name: String) -> Double? { Self.statNames.firstIndex(of: name).map { stats[$0] } }

    init(categoryIDs: [Int], categoryNames: [String], curves: [COCOEvalCurves]) {
        let thresholds = COCOEvalParameters.iouThresholds
        let T = thresholds.count, R = COCOEvalParameters.recallThresholds.count, M = COCOEvalParameters.maxDetections.count

        // _summarize: the mean of the selected entries that are > -1, or -1 if there are none.
        func summarize(ap: Bool, iou: Double? = nil, area a: Int = 0, maxDets: Int = 100, categories: Range<Int>? = nil) -> Double {
            // np.where(iouThr == p.iouThrs): exact equality, which .5 and .75 meet.
            let ts = iou.map { v in thresholds.indices.filter { thresholds[$0] == v } } ?? Array(0..<T)
            let m = COCOEvalParameters.maxDetections.firstIndex(of: maxDets)!
            var sum = 0.0, count = 0
            for k in categories ?? curves.indices {
                for t in ts {
                    let cell = (a * M + m) * T + t
                    if ap {
                        for r in 0..<R where curves[k].precision[cell * R + r] > -1 { sum += curves[k].precision[cell * R + r]; count += 1 }
                    } else if curves[k].recall[cell] > -1 {
                        sum += curves[k].recall[cell]; count += 1
                    }
                }
            }
            return count == 0 ? -1 : sum / Double(count)
        }
        stats = [
            summarize(ap: true),
            summarize(ap: true, iou: 0.5),
            summarize(ap: true, iou: 0.75),
            summarize(ap: true, area: 1),
            summarize(ap: true, area: 2),
            summarize(ap: true, area: 3),
            summarize(ap: false, maxDets: 1),
            summarize(ap: false, maxDets: 10),
            summarize(ap: false),
            summarize(ap: false, area: 1),
            summarize(ap: false, area: 2),
            summarize(ap: false, area: 3)
        ]
        perCategory = categoryIDs.indices.map { k in
            CategoryAP(
                id: categoryIDs[k], name: categoryNames[k], ap: summarize(ap: true, categories: k..<k + 1),
                ap50: summarize(ap: true, iou: 0.5, categories: k..<k + 1))
        }
    }
}
