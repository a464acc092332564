import Datasets
import Foundation
import Imaging
import Tensor

/// Findings read from a real report's words, so phantoms can be rendered for real report text.
/// A sentence's finding counts when its keyword is not negated earlier in the sentence
/// ("no", "without", "free of", "negative for"); side and zone come from the same sentence.
struct ReportFindingReader: Sendable {
    static let keywords: [(kind: String, words: [String])] = [
        ("cardiomegaly", ["cardiomegaly", "heart is enlarged", "enlarged heart", "cardiac silhouette is enlarged", "heart size is enlarged"]),
        ("mediastinum", ["mediastinum is widened", "widened mediastinum", "mediastinal widening"]),
        ("mass", [" mass"]), ("nodule", ["nodule", "nodular"]), ("effusion", ["effusion"]), ("pneumothorax", ["pneumothorax"]),
        ("consolidation", ["consolidation"]), ("opacity", ["opacity", "opacities"]), ("atelectasis", ["atelectasis"]),
        ("edema", ["edema"]), ("fracture", ["fracture"]), ("device", ["pacemaker", "pacer", "catheter", "port "])
    ]
    static let negations = ["no ", "without", "free of", "negative for", "not ", "resolved", "clear of"]

    let spec: ChestFindingsFile

    func findings(in report: String, rng: RandomGenerator) -> [ChestFinding] {
        var out: [ChestFinding] = []
        let sentences = report.lowercased().split(whereSeparator: { ".;".contains($0) }).map { " " + $0 + " " }
        for (kind, words) in Self.keywords where !out.contains(where: { $0.kind == kind || ($0.kind == "nodule" && kind == "mass") }) {
            for sentence in sentences {
                guard let hit = words.compactMap({ sentence.range(of: $0) }).first else { continue }
                let before = sentence[..<hit.lowerBound]
                if Self.negations.contains(where: { before.contains($0) }) { continue }
                let fs = spec.findings[kind]!
                let side =
                    sentence.contains("bilateral") && fs.sides.contains("bilateral")
                    ? "bilateral"
                    : sentence.contains("left") && fs.sides.contains("left")
                        ? "left"
                        : sentence.contains("right") && fs.sides.contains("right") ? "right" : fs.sides[rng.int(fs.sides.count)]
                let zoneWords = [("upper", "upper"), ("apex", "apic"), ("lower", "lower"), ("base", "bas"), ("middle", "mid")]
                let zone = zoneWords.first { fs.zones.contains($0.0) && sentence.contains($0.1) }?.0 ?? fs.zones[rng.int(fs.zones.count)]
                let sizeName =
                    ["large", "small", "moderate"].first { fs.sizes[$0] != nil && sentence.contains($0) }
                    ?? fs.sizes.keys.sorted()[rng.int(fs.sizes.count)]
                let range = fs.sizes[sizeName]!
                out.append(
                    ChestFinding(
                        kind: kind, side: side, zone: zone, size: sizeName, extent: rng.uniform(range[0], range[1]),
                        along: rng.uniform(0.25, 0.75), across: rng.uniform(0.3, 0.7), depth: rng.uniform(0.25, 0.75),
                        uncertain: false))
                break
            }
        }
        return out
    }
}

extension CXRCorpus {
    /// Renders phantom studies for the reports of a real R2Gen `annotation.json`: same ids, splits
    /// and report text, with findings taken from each report's own words.
    public static func generate(
        fromAnnotation source: URL, to dir: URL, size: Int, seed: UInt64,
        progress: (@Sendable (Int) -> Void)? = nil
    ) throws {
        let real = try R2Gen.read(source)
        let renderer = try ChestXrayRenderer()
        let reader = ReportFindingReader(spec: renderer.spec)
        let studies = real.train + real.val + real.test
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        let records = try generateInParallel(studies.count, progress: progress) { i in
            let s = studies[i]
            let rng = RandomGenerator(seed: stableHash("cxr-text-\(s.id)", seed))
            let findings = reader.findings(in: s.report, rng: rng)
            return try render(id: s.id, findings: findings, labels: [:], dir: dir, size: size, rng: rng, renderer)
        }
        let rewrite = { (list: [ReportStudy]) in
            list.map { ReportStudy(id: $0.id, report: $0.report, imagePaths: ["\($0.id)/0.png", "\($0.id)/1.png"], split: $0.split) }
        }
        try R2Gen.write(
            ReportDataset(
                train: rewrite(real.train), val: rewrite(real.val), test: rewrite(real.test),
                imagesRoot: dir.appendingPathComponent("images")), to: dir.appendingPathComponent("annotation.json"))
        try writeJSON(Dictionary(uniqueKeysWithValues: zip(studies.map(\.id), records)), to: dir.appendingPathComponent("labels.json"))
    }
}
