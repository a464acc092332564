import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Synthetic

/// The seven-modality grounding corpus: files, determinism, labels against the spec, sizes of
/// findings. Small images and counts keep the whole file fast in a debug build.
final class GroundingCorpusTests: XCTestCase {
    static let size = 64, count = 10, seed: UInt64 = 11

    /// One corpus of the six spec'd modalities shared by the read-only tests (built once).
    static let shared: Result<URL, Error> = Result {
        let dir = scratch("shared")
        try GroundingCorpus.generate(to: dir, renderers: try renderers(), countPerModality: count, size: size, seed: seed)
        return dir
    }

    static func renderers() throws -> [any PhantomRenderer] { GroundingSpec.renderers(try GroundingSpec.load()) }

    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medglip-grounding-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    override class func tearDown() {
        for name in ["shared", "a", "b", "c", "one", "two", "bad"] { try? FileManager.default.removeItem(at: scratch(name)) }
    }

    func split(_ name: String) throws -> GroundingSplit {
        try COCO.read(try Self.shared.get().appendingPathComponent("\(name).json"))
    }

    /// Every file under `dir` by relative path, with its bytes.
    func contents(_ dir: URL) throws -> [String: Data] {
        let paths = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        var out: [String: Data] = [:]
        for p in paths where p.hasSuffix(".json") || p.hasSuffix(".png") {
            out[p] = try Data(contentsOf: dir.appendingPathComponent(p))
        }
        return out
    }

    func testSameSeedGivesIdenticalFilesAndAnotherSeedDoesNot() throws {
        let renderers = try Self.renderers()
        for (name, seed) in [("a", UInt64(3)), ("b", 3), ("c", 4)] {
            try GroundingCorpus.generate(to: Self.scratch(name), renderers: renderers, countPerModality: 2, size: 40, seed: seed)
        }
        let (a, b, c) = (try contents(Self.scratch("a")), try contents(Self.scratch("b")), try contents(Self.scratch("c")))
        XCTAssertEqual(a.count, 6 * 2 + 4)
        XCTAssertEqual(a, b, "same seed, same bytes")
        XCTAssertEqual(Set(a.keys), Set(c.keys))
        XCTAssertNotEqual(a["train.json"], c["train.json"])
        XCTAssertNotEqual(a["images/CT_0.png"], c["images/CT_0.png"])
    }

    func testAddingAModalityLeavesTheOthersImagesAlone() throws {
        let r = try Self.renderers()
        try GroundingCorpus.generate(to: Self.scratch("one"), renderers: [r[0]], countPerModality: 2, size: 40, seed: 9)
        try GroundingCorpus.generate(to: Self.scratch("two"), renderers: [r[5], r[0]], countPerModality: 2, size: 40, seed: 9)
        for i in 0..<2 {
            let file = "images/\(r[0].modality)_\(i).png"
            XCTAssertEqual(
                try Data(contentsOf: Self.scratch("one").appendingPathComponent(file)),
                try Data(contentsOf: Self.scratch("two").appendingPathComponent(file)))
        }
        XCTAssertNotEqual(GroundingCorpus.imageSeed(1, "CT", 0), GroundingCorpus.imageSeed(1, "MRI", 0))
        // Pinned (computed independently): the seed must not depend on the process or platform.
        XCTAssertEqual(GroundingCorpus.imageSeed(1, "CT", 0), 0x7016_a366_c0df_0134)
    }

    func testSplitsReadBackPartitionTheImagesWithBoxesInside() throws {
        let (train, val, test, tenth) = (try split("train"), try split("val"), try split("test"), try split("train_10pct"))
        let ids = [train, val, test].map { Set($0.samples.map(\.imageID)) }
        XCTAssertEqual(ids.map(\.count), [8 * 6, 6, 6], "80/10/10 per modality")
        XCTAssertEqual(ids[0].union(ids[1]).union(ids[2]).count, 6 * Self.count, "splits are disjoint and cover every image")
        XCTAssertEqual(tenth.samples.count, 6)
        XCTAssertTrue(Set(tenth.samples.map(\.imageID)).isSubset(of: ids[0]), "the 10% subset comes from train")
        XCTAssertEqual(Set(tenth.samples.compactMap(\.modality)).count, 6, "the 10% subset keeps every modality")
        for s in train.samples + val.samples + test.samples {
            XCTAssertEqual([s.width, s.height], [Self.size, Self.size])
            XCTAssertTrue(FileManager.default.fileExists(atPath: s.imageURL.path))
            XCTAssertTrue(s.imageURL.lastPathComponent.hasPrefix(s.modality! + "_"))
            XCTAssertFalse(s.regions.isEmpty)
            for r in s.regions {
                XCTAssertTrue(r.box.isValid && r.box.area >= 1, "\(r) is empty")
                XCTAssertTrue(r.box.isInside(width: Float(Self.size), height: Float(Self.size), tolerance: 0), "\(r) leaves its image")
            }
        }
    }

    func testEveryModalityIsPresentWithItsSpecHierarchy() throws {
        let spec = try GroundingSpec.load()
        let train = try split("train")
        let rendered = Set(try Self.renderers().map(\.modality))
        XCTAssertEqual(Set(train.modalities), rendered)
        let parent = Dictionary(uniqueKeysWithValues: train.categories.map { ($0.name, $0.parent) })
        for (modality, m) in spec where rendered.contains(modality) {
            for (child, p) in m.hierarchy { XCTAssertEqual(parent[child], p, "\(modality): \(child) -> \(p)") }
        }
        XCTAssertEqual(train.categories.map(\.id), Array(1...train.categories.count))
        XCTAssertEqual(train.categories.map(\.name), train.categories.map(\.name).sorted())
        XCTAssertEqual(try split("val").categories, train.categories, "every split lists the same categories")
    }

    func testEmittedLabelsAreDeclaredInTheSpec() throws {
        let spec = try GroundingSpec.load()
        for r in try GroundingCorpus.defaultRenderers() {
            let m = try XCTUnwrap(spec[r.modality], "\(r.modality) has no spec entry")
            XCTAssertEqual(r.hierarchy, m.hierarchy)
            XCTAssertTrue(Set(m.hierarchy.keys).isSubset(of: m.labels), "\(r.modality): hierarchy children are labels")
            XCTAssertTrue(Set(m.findings).isSubset(of: m.labels))
            XCTAssertEqual(Set(m.prompts.keys), Set(m.labels), "\(r.modality): one prompt phrase per label")
            var emitted = Set<String>()
            for i in 0..<12 {
                emitted.formUnion(r.render(size: 48, rng: RandomGenerator(seed: UInt64(i))).regions.map(\.label))
            }
            XCTAssertTrue(emitted.isSubset(of: m.labels), "\(r.modality) emits undeclared \(emitted.subtracting(m.labels))")
        }
        let train = try split("train")
        for s in train.samples {
            let declared = Set(spec[s.modality!]!.labels)
            for r in s.regions { XCTAssertTrue(declared.contains(r.label), "\(s.modality!): \(r.label)") }
        }
    }

    func testChannelsFollowTheModality() throws {
        let spec = try GroundingSpec.load()
        for r in try Self.renderers() {
            let p = r.render(size: 32, rng: RandomGenerator(seed: 1))
            XCTAssertEqual(p.image.channels, spec[r.modality]!.channels, r.modality)
            XCTAssertEqual([p.image.width, p.image.height], [32, 32])
            XCTAssertTrue(p.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(r.modality) pixels in [0, 1]")
            XCTAssertTrue(p.regions.allSatisfy { $0.inside.count == 32 * 32 })
            XCTAssertEqual(p.modality, r.modality)
        }
        for s in try split("val").samples {
            XCTAssertEqual(try ImageIO.read(s.imageURL).channels, spec[s.modality!]!.channels, s.imageURL.lastPathComponent)
        }
    }

    func testFindingsAreSmallAndSomeImagesHaveNone() throws {
        let spec = try GroundingSpec.load()
        let samples = try ["train", "val", "test"].flatMap { try split($0).samples }
        var widths: [Float] = [], without = 0, with = 0
        for s in samples where !spec[s.modality!]!.findings.isEmpty {
            let findings = s.regions.filter { spec[s.modality!]!.findings.contains($0.label) }
            widths += findings.map { $0.box.width / Float(s.width) }
            if findings.isEmpty { without += 1 } else { with += 1 }
        }
        XCTAssertGreaterThan(widths.count, 10)
        XCTAssertLessThan(widths.sorted()[widths.count / 2], 0.15, "median finding box width")
        XCTAssertGreaterThan(without, 0, "some images show no finding")
        XCTAssertGreaterThan(with, without, "most show one")
        // Lesion-type findings that are small by nature stay small one by one.
        for (modality, label) in [("CT", "liver lesion"), ("Fundus", "hemorrhage"), ("Fundus", "exudate")] {
            for s in samples where s.modality == modality {
                for r in s.regions where r.label == label {
                    XCTAssertLessThan(r.box.width / Float(s.width), 0.15, "\(label) in \(s.imageURL.lastPathComponent)")
                }
            }
        }
    }

    func testDefaultRenderersCoverSevenModalities() throws {
        let modalities = try GroundingCorpus.defaultRenderers().map(\.modality)
        XCTAssertEqual(Set(modalities), ["X-ray", "CT", "MRI", "Ultrasound", "Endoscopy", "Dermoscopy", "Fundus"])
        XCTAssertEqual(modalities.count, 7)
    }

    func testConflictingParentsAreRejected() throws {
        let r = try Self.renderers()
        let clash = EndoscopyPhantom(hierarchy: ["lumen": "colon", "polyp": "stomach"])
        let odd = StubRenderer(modality: "Odd", hierarchy: ["polyp": "colon"])
        XCTAssertThrowsError(try GroundingCorpus.generate(to: Self.scratch("bad"), renderers: [clash, odd], countPerModality: 1, size: 24, seed: 1))
        XCTAssertThrowsError(try GroundingCorpus.generate(to: Self.scratch("bad"), renderers: [r[0], r[0]], countPerModality: 1, size: 24, seed: 1))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: Self.scratch("bad").appendingPathComponent("images/Odd_0.png").path),
            "inconsistent renderers are refused before anything is rendered")
    }
}

/// A renderer with an empty image, for checks on the corpus writer itself.
struct StubRenderer: PhantomRenderer {
    let modality: String
    let hierarchy: [String: String]
    func render(size: Int, rng: RandomGenerator) -> Phantom {
        Phantom(image: Image(width: size, height: size, channels: 1), regions: [], modality: modality)
    }
}
