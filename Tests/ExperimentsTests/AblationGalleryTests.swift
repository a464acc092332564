import Foundation
import Registry
import XCTest

@testable import Experiments

final class AblationGalleryTests: XCTestCase {
    /// vqa-eval writes LLaVA-Med's `question_id`; files written before it say `qid`.
    func testEachModesAnswersAreReadUnderEitherIdName() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gallery-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let registry = try RunRegistry(path: out.appendingPathComponent("registry.sqlite"))
        let gallery = AblationGallery(out: out, modes: ["none", "both"], registry: registry)
        for (mode, line) in [("none", #"{"question_id": 7, "prediction": "yes"}"#), ("both", #"{"qid": 7, "prediction": "no"}"#)] {
            let folder = gallery.folder("vqa", mode)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data((line + "\n").utf8).write(to: folder.appendingPathComponent("predictions-test.jsonl"))
        }
        let outputs = gallery.predictions("vqa", file: "predictions-test.jsonl", keys: ["question_id", "qid"], value: "prediction")
        XCTAssertEqual(outputs, ["none": ["7": "yes"], "both": ["7": "no"]])
    }
}
