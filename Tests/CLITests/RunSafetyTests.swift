import ArgumentParser
import Foundation
import Imaging
import ReportGen
import Tensor
import Text
import XCTest

@testable import CLI
@testable import Grounding

/// Counts, sizes and rates are refused when parsed; a folder holding a run is never overwritten.
final class RunSafetyTests: XCTestCase {
    func assertRefused<C: ParsableCommand>(
        _ command: C.Type, _ arguments: [String], _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try command.parse(arguments), "\(arguments)", file: file, line: line) { error in
            XCTAssertTrue(command.message(for: error).contains(message), "\(arguments): \(command.message(for: error))", file: file, line: line)
        }
    }

    func testZeroNegativeAndNaNValuesAreRefusedAtParse() {
        assertRefused(GroundTrain.self, ["--image-size", "0"], "--image-size must be a multiple of 32 in 64...2048, got 0")
        assertRefused(GroundTrain.self, ["--image-size", "100"], "--image-size must be a multiple of 32")
        assertRefused(GroundTrain.self, ["--batch-size", "0"], "--batch-size must be at least 1, got 0")
        assertRefused(GroundTrain.self, ["--epochs", "0"], "--epochs must be at least 1, got 0")
        assertRefused(GroundTrain.self, ["--epochs=-1"], "--epochs must be at least 1, got -1")
        assertRefused(GroundTrain.self, ["--lr", "nan"], "--lr must be a finite number > 0, got nan")
        assertRefused(GroundTrain.self, ["--count", "0"], "--count must be at least 1, got 0")
        assertRefused(
            GroundPredict.self, ["--checkpoint", "r", "--image", "i.png", "--prompt", "p", "--min-score", "nan"],
            "--min-score must be in [0.0, 1.0], got nan")
        assertRefused(MRGTrain.self, ["--epochs", "0"], "--epochs must be at least 1, got 0")
        assertRefused(MRGTrain.self, ["--lr=-1"], "--lr must be a finite number > 0, got -1.0")
        assertRefused(MRGTrain.self, ["--count", "0"], "--count must be at least 1, got 0")
        assertRefused(MRGTrain.self, ["--grounding-threshold", "nan"], "--grounding-threshold must be in [0.0, 1.0], got nan")
        assertRefused(MRGEval.self, ["--checkpoint", "r", "--beam", "0"], "--beam must be at least 1, got 0")
        assertRefused(VQATrain.self, ["--epochs", "0"], "--epochs must be at least 1, got 0")
        assertRefused(VQATrain.self, ["--images-per-batch", "0"], "--images-per-batch must be at least 1, got 0")
        assertRefused(VQAEval.self, ["--dataset", "slake", "--beam", "0"], "--beam must be at least 1, got 0")
        assertRefused(AblateDownstream.self, ["--epochs", "0"], "--epochs must be at least 1, got 0")
        assertRefused(AblateGrounding.self, ["--image-size", "0"], "--image-size must be a multiple of 32")
    }

    func testBothSpellingsOfTheReportDatasetsAreAccepted() throws {
        XCTAssertEqual(try MRGTrain.parse(["--dataset", "iu_xray"]).data.dataset, .iuXray)
        XCTAssertEqual(try MRGTrain.parse(["--dataset", "mimic-cxr"]).data.dataset, .mimicCXR)
        XCTAssertEqual(try ScoreNLG.parse(["--refs", "r", "--hyps", "h", "--dataset", "iu-xray"]).dataset, .iuXray)
        XCTAssertEqual(try ScoreNLG.parse(["--refs", "r", "--hyps", "h", "--dataset", "mimic_cxr"]).dataset, .mimicCXR)
        assertRefused(ScoreNLG.self, ["--refs", "r", "--hyps", "h", "--tokenize", "words"], "--tokenize")
    }

    /// Every trainer refuses `--out` holding a run before it reads any data, and leaves the run as it was.
    func testTrainersRefuseAFolderHoldingARun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runsafety-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let config = Data(#"{"kept": true}"#.utf8)
        try config.write(to: run.appendingPathComponent("config.json"))
        let registry = ["--registry", dir.appendingPathComponent("registry.sqlite").path]
        let commands: [ParsableCommand] = [
            try GroundTrain.parse(["--out", run.path, "--data-dir", dir.appendingPathComponent("missing").path] + registry),
            try MRGTrain.parse(["--out", run.path, "--data-dir", dir.appendingPathComponent("missing").path] + registry),
            try VQATrain.parse(["--out", run.path, "--data-dir", dir.appendingPathComponent("missing").path] + registry)
        ]
        for var command in commands {
            XCTAssertThrowsError(try command.run(), "\(type(of: command))") { error in
                XCTAssertTrue("\(error)".contains("already holds a run (config.json)"), "\(type(of: command)): \(error)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.path), ["config.json"])
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("config.json")), config)
    }

    /// A data error is the message alone with exit status 1, not a usage error (64) with the usage line.
    func testDataErrorsAreNotUsageErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dataerr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.json")
        try Data("{}".utf8).write(to: empty)
        let missing = dir.appendingPathComponent("missing.json").path
        let failures: [(ParsableCommand, String)] = [
            (try LabelCommand.parse(["--reports", missing]), "missing.json: no such file"),
            (try ScoreCE.parse(["--refs", empty.path, "--hyps", empty.path]), "empty.json: no reports"),
            (try ScoreVQA.parse(["--pred", missing]), "missing.json: no such file"),
            (try RunsShow.parse(["nope", "--registry", missing]), "no run registry at")
        ]
        for (command, message) in failures {
            var command = command
            XCTAssertThrowsError(try command.run()) { error in
                XCTAssertFalse(error is ValidationError, "\(type(of: command)): \(error)")
                XCTAssertEqual(type(of: command).exitCode(for: error), .failure, "\(type(of: command))")
                XCTAssertTrue(type(of: command).message(for: error).contains(message), type(of: command).message(for: error))
            }
        }
    }

    /// ground-predict's JSON names its box format and keeps the corners (COCO's [x, y, w, h] is for COCO files).
    func testGroundPredictLabelsItsBoxFormat() throws {
        let found = [Detection(phrase: 0, label: "nodule", box: Box(x1: 10, y1: 20, x2: 40, y2: 60), score: 0.5)]
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: GroundPredict.json(found)) as? [[String: Any]])
        XCTAssertEqual(rows.first?["box_xyxy"] as? [Double], [10, 20, 40, 60])
        XCTAssertNil(rows.first?["box"])
    }

    /// Splits are typed: help lists them, and a wrong one is a usage error naming the values.
    func testSplitsAreTypedAndListTheirValues() throws {
        XCTAssertEqual(try MRGEval.parse(["--checkpoint", "r", "--split", "train"]).split, .train)
        XCTAssertTrue(MRGEval.helpMessage().contains("values: train, val, test"), MRGEval.helpMessage())
        XCTAssertTrue(VQAEval.helpMessage().contains("values: val, test"), VQAEval.helpMessage())
        assertRefused(VQAEval.self, ["--dataset", "slake", "--split", "train"], "The value 'train' is invalid for '--split <split>'")
        assertRefused(GroundEval.self, ["--checkpoint", "r", "--split", "validate"], "The value 'validate' is invalid for '--split <split>'")
    }

    /// The ablation's modes are typed: a comma list of known names, each once.
    func testAblationModesAreTyped() throws {
        XCTAssertEqual(try AblateDownstream.parse(["--modes", "none, both,oracle"]).modes.list, [.none, .both, .oracle])
        XCTAssertEqual(try AblateDownstream.parse([]).modeList, ["none", "tokens", "hints", "both", "oracle"])
        for bad in ["none,foo", "both,both", ""] {
            assertRefused(AblateDownstream.self, ["--modes", bad], "is invalid for '--modes <modes>'")
        }
    }
}
