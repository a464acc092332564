import Foundation
import Imaging
import Registry
import VQA
import XCTest

@testable import CLI

/// vqa-train and vqa-eval on a tiny VQA-RAD-format folder: the validation split carved by question
/// is recorded in the run and re-carved the same way by vqa-eval, and `--choices` answers keep
/// their own predictions file and registry rows.
final class VQARADCommandTests: XCTestCase {
    func testQuestionGroupedRunAndChoiceAnswers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vqa-rad-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), run = dir.appendingPathComponent("run"),
            registry = dir.appendingPathComponent("registry.sqlite")
        try FileManager.default.createDirectory(at: data.appendingPathComponent("images"), withIntermediateDirectories: true)
        var records: [String] = []
        for image in 0..<8 {
            let bright = image % 2 == 0
            try ImageIO.writePNG(
                Image(width: 32, height: 32, channels: 1, pixels: [Float](repeating: bright ? 0.9 : 0.1, count: 32 * 32)),
                to: data.appendingPathComponent("images/synpic\(image).png"))
            for (q, (question, answer, type)) in [
                ("Is it bright?", bright ? "yes" : "no", "CLOSED"), ("Is the image bright or dark?", bright ? "bright" : "dark", "CLOSED"),
                ("Is it dark?", bright ? "no" : "yes", "CLOSED"), ("What organ is shown?", "brain", "OPEN")
            ].enumerated() {
                records.append(
                    #"{"qid": \#(image * 4 + q), "image_name": "synpic\#(image).png", "image_organ": "HEAD", "answer": "\#(answer)", "#
                        + #""answer_type": "\#(type)", "question_type": "COLOR", "question": "\#(question)", "phrase_type": "freeform"}"#
                )
            }
        }
        try Data(("[" + records.joined(separator: ",") + "]").utf8).write(to: data.appendingPathComponent("trainset.json"))
        try VQATrain.parse([
            "--dataset", "vqa-rad", "--data-dir", data.path, "--val-grouping", "question", "--epochs", "1", "--image-size", "32",
            "--vision-channels", "8,8", "--d-model", "16", "--layers", "1", "--out", run.path, "--registry", registry.path
        ]).run()
        let system = try VQASystem(runFolder: run)
        XCTAssertEqual(system.run.validationGrouping, .question)
        let splits = try system.run.splits()
        XCTAssertEqual(splits.train.count + splits.val.count + splits.test.count, 32, "8 images of 4 questions")
        XCTAssertTrue(splits.testCarved)
        XCTAssertFalse(splits.val.isEmpty)
        XCTAssertTrue(Set(splits.val.map(\.imageName)).isSubset(of: splits.train.map(\.imageName)), "every validation image is trained on")

        try VQAEval.parse(["--dataset", "vqa-rad", "--split", "val", "--checkpoint", run.path, "--choices", "--registry", registry.path]).run()
        let lines = try String(contentsOf: run.appendingPathComponent("predictions-val-choices.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, splits.val.count)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: run.appendingPathComponent("predictions-val.jsonl").path), "plain predictions are not overwritten")
        for line in lines {
            let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            if row["question"]!.contains(" or ") { XCTAssertTrue(["bright", "dark"].contains(row["prediction"]!), "\(row)") }
        }
        let reg = try RunRegistry(path: registry)
        let trained = try XCTUnwrap(reg.runs(task: "vqa").first)
        XCTAssertTrue(try reg.metrics(run: trained.id).contains { $0.split == "val-choices" && $0.name == "closed_accuracy" })
    }
}
