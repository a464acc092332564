import Datasets
import Foundation
import Imaging
import Tensor

/// One generated chest study: its report, labels, findings and per-view boxes.
public struct CXRStudyRecord: Codable, Sendable {
    public struct ViewBox: Codable, Sendable { public var label: String; public var bbox: [Float] }
    public var labels: [String: Int?]
    public var findings: [ChestFinding]
    /// "frontal" and "lateral" -> boxes [x, y, w, h] in that view's pixels.
    public var boxes: [String: [ViewBox]]
}

/// The phantom chest X-ray report corpus in IU-Xray's R2Gen layout:
/// `annotation.json`, `images/<id>/0.png` (frontal) and `1.png` (lateral), and `labels.json`
/// (CheXpert labels, findings and every finding's box per view).
public enum CXRCorpus {
    public static func generate(to dir: URL, count: Int, size: Int, seed: UInt64, progress: (@Sendable (Int) -> Void)? = nil) throws {
        let renderer = try ChestXrayRenderer()
        let composer = try ReportComposer(spec: renderer.spec)
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        let ids = (0..<count).map { String(format: "SYN%05d", $0 + 1) }
        let made = try generateInParallel(count, progress: progress) { i in
            try study(ids[i], index: i, dir: dir, size: size, seed: seed, renderer, composer)
        }
        let (reports, records) = (made.map(\.0), made.map(\.1))
        // IU-Xray's R2Gen split is about 70/10/20.
        let split = { (i: Int) -> String in
            let r = Double(i) / Double(count); return r < 0.7 ? "train" : (r < 0.8 ? "val" : "test")
        }
        let studies = (0..<count).map {
            ReportStudy(id: ids[$0], report: reports[$0], imagePaths: ["\(ids[$0])/0.png", "\(ids[$0])/1.png"], split: split($0))
        }
        try R2Gen.write(
            ReportDataset(
                train: studies.filter { $0.split == "train" }, val: studies.filter { $0.split == "val" },
                test: studies.filter { $0.split == "test" }, imagesRoot: dir.appendingPathComponent("images")),
            to: dir.appendingPathComponent("annotation.json"))
        try writeJSON(Dictionary(uniqueKeysWithValues: zip(ids, records)), to: dir.appendingPathComponent("labels.json"))
    }

    static func study(
        _ id: String, index: Int, dir: URL, size: Int, seed: UInt64,
        _ renderer: ChestXrayRenderer, _ composer: ReportComposer
    ) throws -> (String, CXRStudyRecord) {
        let rng = RandomGenerator(seed: stableHash("cxr-\(index)", seed))
        let findings = renderer.spec.sample(rng: rng)
        let report = composer.compose(findings, rng: rng)
        return (report.text, try render(id: id, findings: findings, labels: report.labels, dir: dir, size: size, rng: rng, renderer))
    }

    /// Renders and writes both views of a study; returns its record with every region's box per view.
    static func render(
        id: String, findings: [ChestFinding], labels: [String: Int?], dir: URL, size: Int, rng: RandomGenerator,
        _ renderer: ChestXrayRenderer
    ) throws -> CXRStudyRecord {
        let anatomy = ChestAnatomy(rng: rng)
        let (frontal, frontalRegions) = renderer.frontal(size: size, anatomy: anatomy, findings: findings, rng: rng, anatomyRegions: false)
        let (lateral, lateralRegions) = renderer.lateral(size: size, anatomy: anatomy, findings: findings, rng: rng)
        let folder = dir.appendingPathComponent("images/\(id)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ImageIO.writePNG(frontal, to: folder.appendingPathComponent("0.png"), fast: true)
        try ImageIO.writePNG(lateral, to: folder.appendingPathComponent("1.png"), fast: true)
        var builder = MaskToGrounding()
        builder.grouping = .label
        builder.minAreaFraction = 0
        func boxes(_ regions: [RegionMask]) -> [CXRStudyRecord.ViewBox] {
            regions.flatMap { r in builder.boxes(r.inside, size, size, label: r.label).map { .init(label: r.label, bbox: $0.box.xywh) } }
        }
        return CXRStudyRecord(labels: labels, findings: findings, boxes: ["frontal": boxes(frontalRegions), "lateral": boxes(lateralRegions)])
    }
}
