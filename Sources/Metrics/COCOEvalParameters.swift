/// The default detection parameters of pycocotools (`cocoeval.Params.setDetParams`), computed the way
/// numpy computes them so that threshold comparisons agree bit for bit.
public enum COCOEvalParameters {
    /// `np.linspace(.5, .95, 10)`: numpy forms `i * step + start` with `step = (stop - start) / 9` and
    /// then sets the last value to `stop` exactly (so the ninth threshold is 0.8999999999999999).
    public static let iouThresholds: [Double] = linspace(0.5, 0.95, 10)
    /// `np.linspace(0, 1, 101)`: the 101 recall points precision is sampled at.
    public static let recallThresholds: [Double] = linspace(0, 1, 101)
    /// `maxDets`, ascending as `evaluate()` sorts them; the last one also cuts detections per image.
    public static let maxDetections = [1, 10, 100]
    /// `areaRng` for all / small / medium / large; bounds are inclusive on both sides.
    public static let areaRanges: [(lo: Double, hi: Double)] = [(0, 1e10), (0, 1024), (1024, 9216), (9216, 1e10)]
    public static let areaNames = ["all", "small", "medium", "large"]

    static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }
}
