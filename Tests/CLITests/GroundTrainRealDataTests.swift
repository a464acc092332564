import Foundation
import Grounding
import Imaging
import Registry
import XCTest

@testable import CLI

/// `ground-train --data-dir` on a real-format (VOC) folder: the defaults it fills in are recorded,
/// the weights are chosen on held-out training images and the val split is scored once at the end.
final class GroundTrainRealDataTests: XCTestCase {
    func testRealFolderGetsTheRecipeAndAHeldOutScore() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("voc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in ["Annotations", "JPEGImages", "ImageSets/Main"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        var ids: [String] = []
        for i in 0..<13 {
            var image = Image(width: 64, height: 48, channels: 3, fill: 0.1)
            let x = 4 + (i * 3) % 30, y = 6 + i % 10
            for c in 0..<3 { for yy in y..<(y + 16) { for xx in x..<(x + 16) { image[c, yy, xx] = 0.9 } } }
            try ImageIO.writePNG(image, to: dir.appendingPathComponent("JPEGImages/c\(i).png"))
            let xml = """
                <annotation><filename>c\(i).png</filename><size><width>64</width><height>48</height><depth>3</depth></size>
                <object><name>cell</name><bndbox><xmin>\(x + 1)</xmin><ymin>\(y + 1)</ymin><xmax>\(x + 16)</xmax><ymax>\(y + 16)</ymax></bndbox>\
                </object>
                </annotation>
                """
            try Data(xml.utf8).write(to: dir.appendingPathComponent("Annotations/c\(i).xml"))
            ids.append("c\(i)")
        }
        try Data((ids.prefix(10).joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("ImageSets/Main/train.txt"))
        try Data((ids.suffix(3).joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("ImageSets/Main/val.txt"))
        let run = dir.appendingPathComponent("run"), registry = dir.appendingPathComponent("registry.sqlite")
        try GroundTrain.parse([
            "--data-dir", dir.path, "--format", "voc", "--epochs", "1", "--image-size", "64", "--batch-size", "4",
            "--out", run.path, "--registry", registry.path
        ]).run()

        let config = try JSONDecoder().decode(GroundingRunConfig.self, from: Data(contentsOf: run.appendingPathComponent("config.json")))
        let recipe = try XCTUnwrap(config.recipe)
        XCTAssertEqual(recipe.imageSize, 64, "given options win")
        XCTAssertEqual(recipe.epochs, 1)
        XCTAssertEqual(recipe.patience, 10)
        XCTAssertEqual(recipe.augmentation.kinds, [.flip, .scale, .intensity])
        XCTAssertEqual(recipe.valFraction, 0.15)
        XCTAssertTrue(recipe.reasons.contains { $0.hasPrefix("--val-fraction 0.15") }, "\(recipe.reasons)")
        XCTAssertFalse(recipe.reasons.contains { $0.hasPrefix("--image-size") }, "a given size needs no reason")

        let reg = try RunRegistry(path: registry)
        let id = try XCTUnwrap(reg.runs(task: "grounding").first?.id)
        let metrics = try reg.metrics(run: id)
        XCTAssertEqual(Set(metrics.filter { $0.split == "selection" && $0.epoch == 1 }.map(\.name)), ["AP", "AP50"], "chosen on held-out train")
        XCTAssertEqual(Set(metrics.filter { $0.split == "val" && $0.epoch == nil }.map(\.name)), ["AP", "AP50"], "val scored once")
        XCTAssertTrue(metrics.filter { $0.split == "val" }.allSatisfy { $0.epoch == nil }, "no epoch chose on val")

        // A resumed run keeps its held-out images: another fraction would change its data.
        let resume = ["--data-dir", dir.path, "--format", "voc", "--out", run.path, "--registry", registry.path, "--resume", "--batch-size", "4"]
        XCTAssertThrowsError(try GroundTrain.parse(resume + ["--epochs", "2", "--val-fraction", "0.3"]).run()) { error in
            XCTAssertTrue("\(error)".contains("--val-fraction"), "\(error)")
        }
        try GroundTrain.parse(resume + ["--epochs", "2"]).run()
        let after = try reg.metrics(run: id)
        XCTAssertEqual(Set(after.filter { $0.split == "selection" }.compactMap(\.epoch)), [1, 2], "the second epoch chose on the same images")
    }
}
