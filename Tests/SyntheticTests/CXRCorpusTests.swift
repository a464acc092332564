import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Synthetic

final class CXRCorpusTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-cxr-\(UUID().uuidString)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func generate(_ name: String, count: Int = 60, seed: UInt64 = 5) throws -> URL {
        let out = dir.appendingPathComponent(name)
        try CXRCorpus.generate(to: out, count: count, size: 128, seed: seed)
        return out
    }

    func testSameSeedSameBytesDifferentSeedDifferentCorpus() throws {
        let a = try generate("a", count: 12), b = try generate("b", count: 12), c = try generate("c", count: 12, seed: 6)
        for file in ["annotation.json", "labels.json", "images/SYN00007/0.png", "images/SYN00007/1.png"] {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(file)), try Data(contentsOf: b.appendingPathComponent(file)), file)
        }
        XCTAssertNotEqual(
            try Data(contentsOf: a.appendingPathComponent("annotation.json")), try Data(contentsOf: c.appendingPathComponent("annotation.json")))
    }

    func testReadsBackWithTheR2GenLoaderAndEveryFindingIsBoxedAndMentioned() throws {
        let out = try generate("corpus", count: 120)
        let ds = try R2Gen.read(out.appendingPathComponent("annotation.json"), viewsPerStudy: 2)
        XCTAssertEqual(ds.train.count + ds.val.count + ds.test.count, 120)
        XCTAssertEqual(ds.train.count, 84)
        let records = try decodeJSON([String: CXRStudyRecord].self, from: out.appendingPathComponent("labels.json"))
        let study = ds.train[0]
        for url in ds.imageURLs(study) {
            let image = try ImageIO.read(url)
            XCTAssertEqual([image.width, image.height, image.channels], [128, 128, 1])
        }
        // Words by which each finding must show in its report.
        let words = [
            "nodule": ["nodul"], "mass": ["mass"], "effusion": ["effusion"], "pneumothorax": ["pneumothorax", "pleural line"],
            "consolidation": ["consolidation"], "opacity": ["opacity"], "atelectasis": ["atelectasis"], "edema": ["edema", "congestion"],
            "cardiomegaly": ["enlarged", "cardiomegaly"], "mediastinum": ["widen", "enlarged"], "fracture": ["fracture"],
            "device": ["pacemaker", "pacing"]
        ]
        var findingCount = 0
        for s in ds.train + ds.val + ds.test {
            let record = try XCTUnwrap(records[s.id])
            let report = s.report.lowercased()
            XCTAssertFalse(report.isEmpty)
            for f in record.findings {
                findingCount += 1
                XCTAssertTrue(words[f.kind]!.contains { report.contains($0) }, "\(s.id): \(f.kind) not mentioned in '\(s.report)'")
                if f.side == "right" || f.side == "left", f.kind != "device" {
                    XCTAssertTrue(report.contains(f.side), "\(s.id): side of \(f.kind) missing")
                }
                let label = ChestXrayRenderer.label(f.kind)
                XCTAssertTrue(record.boxes["frontal"]!.contains { $0.label == label }, "\(s.id): no frontal box for \(f.kind)")
            }
            for (_, boxes) in record.boxes {
                for b in boxes {
                    let box = Box(xywh: b.bbox)
                    XCTAssertTrue(box.isValid && box.isInside(width: 128, height: 128, tolerance: 0), "\(s.id): \(b.label) box \(b.bbox)")
                }
            }
        }
        XCTAssertGreaterThan(findingCount, 60, "findings are common enough to learn from")
    }

    func testLabelStatisticsAreInExpectedRanges() throws {
        let out = try generate("stats", count: 300, seed: 9)
        let records = try decodeJSON([String: CXRStudyRecord].self, from: out.appendingPathComponent("labels.json"))
        func share(_ observation: String, _ value: Int) -> Double {
            Double(records.values.filter { $0.labels[observation] == .some(value) }.count) / Double(records.count)
        }
        XCTAssertEqual(share("Pleural Effusion", 1) + share("Pleural Effusion", -1), 0.18, accuracy: 0.06)
        XCTAssertEqual(share("Cardiomegaly", 1), 0.15, accuracy: 0.06)
        XCTAssertEqual(share("No Finding", 1), 0.33, accuracy: 0.12)
        XCTAssertGreaterThan(share("Pleural Effusion", 0), 0.6, "absent effusions are negated in most reports")
        XCTAssertGreaterThan(share("Lung Lesion", -1) + share("Consolidation", -1) + share("Pleural Effusion", -1), 0, "some findings are hedged")
        // Small findings: nodules are a few percent of the image width.
        let nodules = records.values.flatMap { $0.boxes["frontal"]!.filter { $0.label == "nodule" } }
        XCTAssertFalse(nodules.isEmpty)
        for n in nodules { XCTAssertLessThan(n.bbox[2], 0.07 * 128) }
    }
}

final class ReportConditionedTests: XCTestCase {
    func testFindingsAreReadFromReportWordsWithNegation() throws {
        let reader = ReportFindingReader(spec: try ChestXrayRenderer().spec)
        let rng = RandomGenerator(seed: 1)
        let found = reader.findings(
            in:
                "The heart is enlarged. Small left pleural effusion. No pneumothorax. There is a nodule in the right upper lobe. Lungs without "
                + "consolidation.",
            rng: rng)
        XCTAssertEqual(found.map(\.kind).sorted(), ["cardiomegaly", "effusion", "nodule"])
        let effusion = try XCTUnwrap(found.first { $0.kind == "effusion" })
        XCTAssertEqual([effusion.side, effusion.size], ["left", "small"])
        let nodule = try XCTUnwrap(found.first { $0.kind == "nodule" })
        XCTAssertEqual([nodule.side, nodule.zone], ["right", "upper"])
        XCTAssertEqual(reader.findings(in: "No pleural effusion or pneumothorax. The lungs are clear.", rng: rng).count, 0)
    }

    func testRealIUXrayReportsRenderWithTheirOwnText() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = repo.deletingLastPathComponent().appendingPathComponent("shared/data/iu-xray/annotation.json")
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw XCTSkip("../shared/data/iu-xray is absent: real-report rendering not checked")
        }
        // A small slice of the real file keeps the test fast.
        let real = try R2Gen.read(source)
        let slice = ReportDataset(
            train: Array(real.train.prefix(30)), val: Array(real.val.prefix(5)), test: Array(real.test.prefix(5)), imagesRoot: real.imagesRoot)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-iu-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try R2Gen.write(slice, to: dir.appendingPathComponent("source.json"))
        try CXRCorpus.generate(fromAnnotation: dir.appendingPathComponent("source.json"), to: dir.appendingPathComponent("out"), size: 96, seed: 0)
        let out = try R2Gen.read(dir.appendingPathComponent("out/annotation.json"), viewsPerStudy: 2)
        XCTAssertEqual(out.train.map(\.report), slice.train.map(\.report))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.imageURLs(out.test[0])[1].path))
    }
}
