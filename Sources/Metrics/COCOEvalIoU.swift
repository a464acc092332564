/// Box IoU exactly as pycocotools' `maskUtils.iou` computes it for boxes (`bbIou` in maskApi.c):
/// boxes are [x, y, w, h], areas are w*h with no +1, a non-overlap (width or height <= 0) is 0, and a
/// crowd ground truth divides the intersection by the detection's area alone. The operations keep
/// maskApi.c's order so that IoUs landing exactly on a threshold compare the same way.
@inline(__always)
func cocoBoxIoU(_ d: ArraySlice<Double>, _ g: ArraySlice<Double>, crowd: Bool) -> Double {
    let d = (d[d.startIndex], d[d.startIndex + 1], d[d.startIndex + 2], d[d.startIndex + 3])
    let g = (g[g.startIndex], g[g.startIndex + 1], g[g.startIndex + 2], g[g.startIndex + 3])
    let w = min(d.2 + d.0, g.2 + g.0) - max(d.0, g.0)
    if w <= 0 { return 0 }
    let h = min(d.3 + d.1, g.3 + g.1) - max(d.1, g.1)
    if h <= 0 { return 0 }
    let intersection = w * h
    let detectionArea = d.2 * d.3
    let union = crowd ? detectionArea : detectionArea + g.2 * g.3 - intersection
    return intersection / union
}
