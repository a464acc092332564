import Datasets
import Foundation
import Imaging
import Tensor
import XCTest

@testable import Synthetic

/// The SLAKE-format VQA corpus: determinism, SLAKE's layout read back by the real loader, masks and
/// boxes that agree, the question mix, and answers that follow from the image's own boxes.
/// Small images and counts keep the file fast in a debug build.
final class SlakeCorpusTests: XCTestCase {
    static let size = 96, count = 30, seed: UInt64 = 21

    static let shared: Result<URL, Error> = Result {
        let dir = scratch("shared")
        try SlakeCorpus.generate(to: dir, count: count, size: size, seed: seed)
        return dir
    }

    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medglip-slake-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    override class func tearDown() {
        for name in ["shared", "a", "b", "c"] { try? FileManager.default.removeItem(at: scratch(name)) }
    }

    func root() throws -> URL { try Self.shared.get() }

    func allItems() throws -> [VQAItem] { try ["train", "val", "test"].flatMap { try SLAKE.read(root: root(), split: $0) } }

    /// Raw records (the fields `VQAItem` does not keep).
    func records() throws -> [SLAKE.Record] {
        try ["train.json", "validate.json", "test.json"].flatMap { try decodeJSON([SLAKE.Record].self, from: root().appendingPathComponent($0)) }
    }

    /// Every JSON, JPEG and PNG under `dir` by relative path, with its bytes.
    func contents(_ dir: URL) throws -> [String: Data] {
        let paths = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        var out: [String: Data] = [:]
        for p in paths where [".json", ".jpg", ".png"].contains(where: p.hasSuffix) { out[p] = try Data(contentsOf: dir.appendingPathComponent(p)) }
        return out
    }

    func testSameSeedGivesIdenticalFilesAndAnotherSeedDoesNot() throws {
        for (name, seed) in [("a", UInt64(3)), ("b", 3), ("c", 4)] {
            try SlakeCorpus.generate(to: Self.scratch(name), count: 6, size: 64, seed: seed)
        }
        let (a, b, c) = (try contents(Self.scratch("a")), try contents(Self.scratch("b")), try contents(Self.scratch("c")))
        XCTAssertEqual(a.count, 6 * 3 + 3)
        XCTAssertEqual(a, b, "same seed, same bytes")
        XCTAssertEqual(Set(a.keys), Set(c.keys))
        for file in ["train.json", "imgs/xmlab0/source.jpg", "imgs/xmlab1/mask.png", "imgs/xmlab2/detection.json"] {
            XCTAssertNotEqual(a[file], c[file], file)
        }
    }

    func testSplitsReadBackByImageSeventyFifteenFifteen() throws {
        let splits = try ["train", "val", "test"].map { try SLAKE.read(root: root(), split: $0) }
        let images = splits.map { Set($0.map(\.imageName)) }
        XCTAssertEqual(images.map(\.count), [21, 5, 4])
        XCTAssertTrue(images[0].isDisjoint(with: images[1]) && images[0].isDisjoint(with: images[2]) && images[1].isDisjoint(with: images[2]))
        let items = splits.flatMap { $0 }
        XCTAssertEqual(Set(items.map(\.qid)).count, items.count, "qids are unique")
        XCTAssertEqual(Double(items.count) / Double(Self.count), 10, accuracy: 1)
        for item in items {
            XCTAssertTrue(item.imageName.hasPrefix("xmlab") && item.imageName.hasSuffix("/source.jpg"), item.imageName)
            XCTAssertTrue(FileManager.default.fileExists(atPath: item.imageURL.path))
            XCTAssertEqual(item.language, "en")
        }
        for r in try records() {
            XCTAssertEqual(r.base_type, "vqa")
            XCTAssertEqual("xmlab\(r.img_id.value)/source.jpg", r.img_name)
            XCTAssertTrue(["CT", "MRI", "X-Ray"].contains(r.modality ?? ""))
            XCTAssertTrue(["Abdomen", "Brain", "Chest"].contains(r.location ?? ""))
        }
    }

    /// Boxes inside the image; every labelled mask pixel inside a box of its label; every box
    /// holding some pixels of its own label.
    func testDetectionsAndMaskAgree() throws {
        let spec = try SlakeSpec.load()
        let names = Dictionary(uniqueKeysWithValues: spec.structures.map { ($0.value.id, $0.key) })
        for n in 0..<Self.count {
            let source = try root().appendingPathComponent("imgs/xmlab\(n)/source.jpg")
            let image = try ImageIO.read(source)
            XCTAssertEqual([image.width, image.height, image.channels], [Self.size, Self.size, 1])
            let boxes = try SLAKE.detections(imageURL: source)
            XCTAssertFalse(boxes.isEmpty)
            for b in boxes {
                XCTAssertTrue(b.box.isValid && b.box.isInside(width: Float(image.width), height: Float(image.height), tolerance: 0), "\(b)")
            }
            let mask = try ImageIO.readLabelMask(source.deletingLastPathComponent().appendingPathComponent("mask.png"))
            XCTAssertEqual([mask.width, mask.height], [Self.size, Self.size])
            for (i, v) in mask.labels.enumerated() where v != 0 {
                let (x, y) = (Float(i % mask.width) + 0.5, Float(i / mask.width) + 0.5)
                let label = try XCTUnwrap(names[v], "unknown mask value \(v)")
                XCTAssertTrue(
                    boxes.contains { $0.label == label && $0.box.x1 < x && x < $0.box.x2 && $0.box.y1 < y && y < $0.box.y2 },
                    "xmlab\(n): \(label) pixel at (\(x), \(y)) outside its boxes")
            }
            for b in boxes {
                let id = try XCTUnwrap(spec.structures[b.label]?.id, b.label)
                let hit = (Int(b.box.y1)..<Int(b.box.y2)).contains { y in
                    (Int(b.box.x1)..<Int(b.box.x2)).contains { mask.labels[y * mask.width + $0] == id }
                }
                XCTAssertTrue(hit, "xmlab\(n): no \(b.label) pixel inside its box")
            }
        }
    }

    func testQuestionMixCoversContentTypesBalancesYesNoAndAsksWhereAndHowBig() throws {
        let items = try allItems()
        XCTAssertEqual(Set(items.map(\.category)), ["Organ", "Position", "Abnormality", "Modality", "Plane", "Quantity", "Size", "Shape", "Color"])
        XCTAssertEqual(Set(items.map(\.answerType)), [.open, .closed])
        let yes = items.filter { $0.answer == "Yes" }.count, no = items.filter { $0.answer == "No" }.count
        let share = Double(yes) / Double(yes + no)
        XCTAssertTrue((0.4...0.6).contains(share), "yes share \(share)")
        let located = items.filter { ["Position", "Size"].contains($0.category) }.count
        XCTAssertGreaterThanOrEqual(Double(located) / Double(items.count), 0.3)
        XCTAssertEqual(Set(items.map(\.modality)), ["CT", "MRI", "X-Ray"])
    }

    /// The template text of `id` with its one placeholder turned into a capture group.
    func patterns(_ id: String, _ spec: SlakeSpec) throws -> [NSRegularExpression] {
        try spec.templates.first { $0.id == id }!.texts.map { text in
            let marked = text.replacingOccurrences(of: #"\{[^}]*\}"#, with: "\u{1}", options: .regularExpression)
            let escaped = NSRegularExpression.escapedPattern(for: marked).replacingOccurrences(of: "\u{1}", with: "(.+)")
            return try NSRegularExpression(pattern: "^" + escaped + "$")
        }
    }

    func capture(_ question: String, _ patterns: [NSRegularExpression]) -> String? {
        for p in patterns {
            if let m = p.firstMatch(in: question, range: NSRange(question.startIndex..., in: question)), m.numberOfRanges > 1 {
                return Range(m.range(at: 1), in: question).map { String(question[$0]) }
            }
        }
        return nil
    }

    /// Heart box width over the lungs' outer width, from detection.json alone.
    func cardiothoracicRatio(_ boxes: [LabeledBox]) -> Float? {
        let lungs = boxes.filter { $0.label.hasSuffix(" lung") }.map(\.box)
        guard let heart = boxes.first(where: { $0.label == "heart" })?.box, !lungs.isEmpty else { return nil }
        return heart.width / (lungs.map(\.x2).max()! - lungs.map(\.x1).min()!)
    }

    /// "Is there a nodule?" is yes exactly when a nodule has a box (cardiomegaly: when the measured
    /// ratio says so), "How many kidneys..." counts boxes, and "Which side ..." matches the box
    /// centre against the body's midline with the patient's right on the image's left.
    func testAnswersFollowFromTheBoxes() throws {
        let spec = try SlakeSpec.load()
        let byIndefinite = Dictionary(uniqueKeysWithValues: spec.structures.compactMap { k, v in v.indefinite.map { ($0, k) } })
        let byPlural = Dictionary(uniqueKeysWithValues: spec.structures.compactMap { k, v in v.plural.map { ($0, k) } })
        let byNoun = Dictionary(uniqueKeysWithValues: spec.structures.map { ($0.value.noun, $0.key) })
        let (present, count, side) = (try patterns("finding_present", spec), try patterns("finding_count", spec), try patterns("finding_side", spec))
        var checked = [0, 0, 0]
        for item in try allItems() {
            let boxes = try SLAKE.detections(imageURL: item.imageURL)
            if let phrase = capture(item.question, present) {
                let truth: Bool
                if phrase == "cardiomegaly" {
                    truth = try XCTUnwrap(cardiothoracicRatio(boxes)) > spec.thresholds.cardiothoracic_ratio
                } else {
                    truth = boxes.contains { $0.label == byIndefinite[phrase] }
                }
                XCTAssertEqual(item.answer, truth ? "Yes" : "No", item.question)
                checked[0] += 1
            } else if let plural = capture(item.question, count), let label = byPlural[plural] {
                XCTAssertEqual(item.answer, String(boxes.filter { $0.label == label }.count), item.question)
                checked[1] += 1
            } else if let noun = capture(item.question, side), let label = byNoun[noun] {
                let frameLabels = spec.modalities.values.first { $0.answer == item.modality }!.frame
                let frame = boxes.filter { frameLabels.contains($0.label) }.map(\.box)
                let mid = (frame.map(\.x1).min()! + frame.map(\.x2).max()!) / 2
                let xs = boxes.filter { $0.label == label }.map { $0.box.center.x }
                XCTAssertFalse(xs.isEmpty)
                XCTAssertTrue(xs.allSatisfy { ($0 < mid) == (item.answer == "Right") }, "\(item.question) \(item.answer)")
                checked[2] += 1
            }
        }
        XCTAssertTrue(checked.allSatisfy { $0 > 0 }, "questions checked per kind: \(checked)")
    }

    func testModalityAndPlaneAnswersMatchTheImage() throws {
        for item in try allItems() where ["Modality", "Plane"].contains(item.category) && item.answerType == .open {
            let plane = item.modality == "X-Ray" ? "Coronal Plane" : "Transverse Plane"
            XCTAssertEqual(item.answer, item.category == "Modality" ? item.modality : plane, item.question)
        }
    }

    func testSpecNamesEveryLabelTheRenderersEmit() throws {
        let spec = try SlakeSpec.load()
        let grounding = try GroundingSpec.load()
        let labels = Set(["CT", "MRI"].flatMap { grounding[$0]!.labels }).union(try ChestXrayRenderer().hierarchy.keys).union(["heart"])
        let missing = labels.subtracting(spec.structures.keys).subtracting(spec.ignored_labels)
        XCTAssertEqual(missing, [], "renderer labels without a structure entry")
    }
}
