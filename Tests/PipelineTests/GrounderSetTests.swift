import Datasets
import Foundation
import Grounding
import Imaging
import Registry
import XCTest

@testable import Pipeline

/// `--grounder A,B`: experts from separate runs serve one dataset, each modality from the first
/// run that knows it.
final class GrounderSetTests: XCTestCase {
    /// A tiny untrained grounder knowing `modalities` (one phrase each), saved in `dir/name`.
    func run(_ name: String, modalities: [String: String], in dir: URL) throws -> URL {
        var samples: [GroundingSample] = []
        for (i, (modality, phrase)) in modalities.sorted(by: { $0.key < $1.key }).enumerated() {
            let url = dir.appendingPathComponent("\(name)-\(i).png")
            try ImageIO.writePNG(Image(width: 48, height: 48, channels: 1), to: url)
            samples.append(
                GroundingSample(
                    imageID: i, imageURL: url, width: 48, height: 48, modality: modality,
                    regions: [LabeledBox(label: phrase, box: Box(x1: 8, y1: 8, x2: 24, y2: 24))]))
        }
        let names = Array(Set(modalities.values)).sorted()
        let split = GroundingSplit(samples: samples, categories: names.enumerated().map { Datasets.Category(id: $0 + 1, name: $1) })
        var config = GroundingConfig()
        config.dModel = 16; config.heads = 2; config.channels = [8, 8, 16, 16, 16]; config.textLayers = 1
        let folder = dir.appendingPathComponent(name)
        try Grounder(for: split, config: config, imageSize: 32, seed: 1).save(to: folder)
        return folder
    }

    func testEachModalityGoesToTheFirstRunThatKnowsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grounder-set-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let xray = try run("xray", modalities: ["X-ray": "nodule"], in: dir)
        let both = try run("ctmri", modalities: ["CT": "liver lesion", "X-ray": "mass"], in: dir)
        let set = try GrounderSet(source: "\(xray.path),\(both.path)")
        XCTAssertEqual(set.expert(for: "X-Ray")?.run, 0, "SLAKE's spelling finds the first run's X-ray expert")
        XCTAssertEqual(set.expert(for: "X-Ray")?.modality, "X-ray")
        XCTAssertEqual(set.expert(for: "ct")?.run, 1)
        XCTAssertNil(set.expert(for: "MRI"))
        XCTAssertEqual(set.modalities, ["CT", "X-ray"])
        XCTAssertEqual(GrounderSet.name("\(xray.path),\(both.path)"), "xray+ctmri")
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(GrounderSet.absolute("runs/a,/tmp/b"), "\(cwd)/runs/a,/tmp/b", "recorded sources work from any directory")

        // A VQA dataset of one X-ray, one CT and one MRI image: the X-ray's regions come from the
        // first run (phrase "nodule", never the second run's "mass"), the CT's from the second,
        // the MRI gets none; the phrases are those of the serving experts.
        var items: [VQAItem] = []
        for (i, modality) in ["X-Ray", "CT", "MRI"].enumerated() {
            let url = dir.appendingPathComponent("q\(i).png")
            var image = Image(width: 64, height: 64, channels: 1)
            for y in 16..<40 { for x in 16..<40 { image[0, y, x] = 1 } }
            try ImageIO.writePNG(image, to: url)
            items.append(
                VQAItem(
                    qid: "\(i)", imageName: "q\(i).png", imageURL: url, question: "?", answer: "yes", answerType: .closed,
                    category: "Abnormality", modality: modality))
        }
        let registry = try RunRegistry(path: dir.appendingPathComponent("registry.sqlite"))
        let found = try VQARegions.regions(source: "\(xray.path),\(both.path)", items: items, dataDir: dir, registry: registry)
        XCTAssertEqual(found.phrases, ["liver lesion", "nodule"])
        let key = { (i: Int) in items[i].imageURL.standardizedFileURL.path }
        XCTAssertFalse(found.regions[key(0)]!.isEmpty, "an untrained grounder still scores every point above nothing")
        XCTAssertEqual(Set(found.regions[key(0)]!.map(\.phrase)), ["nodule"])
        XCTAssertEqual(Set(found.regions[key(1)]!.map(\.phrase)), ["liver lesion"])
        XCTAssertNil(found.regions[key(2)])
        // The second run's cache entry covers both images it knows, so it serves the X-ray alone later.
        let alone = try VQARegions.regions(source: both.path, items: items, dataDir: dir, registry: registry)
        XCTAssertEqual(Set(alone.regions[key(0)]!.map(\.phrase)), ["mass"])
        XCTAssertEqual(alone.regions[key(1)], found.regions[key(1)])
    }
}
