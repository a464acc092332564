/// The baselines a generated report must beat: one report for every study, or a retrieved one.
public enum ReportBaselines {
    /// The most frequent training report (ties: the first in order).
    public static func mostFrequent(_ reports: [String]) -> String {
        var counts: [String: Int] = [:], order: [String] = []
        for r in reports { if counts[r] == nil { order.append(r) }; counts[r, default: 0] += 1 }
        var best = "", bestCount = 0
        for r in order where counts[r]! > bestCount { (best, bestCount) = (r, counts[r]!) }
        return best
    }

    /// For each query, the report of the training study with the most similar (cosine) features.
    public static func nearestNeighbour(queries: [[Float]], keys: [[Float]], reports: [String]) -> [String] {
        func unit(_ v: [Float]) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / max(n, 1e-12) } }
        let k = keys.map(unit)
        return queries.map { q in
            let u = unit(q)
            let best = k.indices.max { a, b in dot(u, k[a]) < dot(u, k[b]) }!
            return reports[best]
        }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}
