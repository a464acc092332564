import Foundation
import Registry
import XCTest

@testable import CLI

/// A tiny grounding run through the commands: epochs recorded as they finish, evaluation on the
/// run's own data by default, a resume that keeps its registry row and refuses a changed model.
final class GroundingRunLifecycleTests: XCTestCase {
    func testEvaluationDefaultsToTheRunsDataAndResumeKeepsTheRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("groundlife-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("MEDGLIP_CACHE", dir.appendingPathComponent("cache").path, 1)
        defer { unsetenv("MEDGLIP_CACHE") }
        let run = dir.appendingPathComponent("run"), registry = dir.appendingPathComponent("registry.sqlite")
        let common = ["--modality", "CT", "--count", "6", "--image-size", "64", "--batch-size", "4", "--out", run.path, "--registry", registry.path]
        try GroundTrain.parse(common + ["--epochs", "1"]).run()
        let reg = try RunRegistry(path: registry)
        let recorded = try XCTUnwrap(reg.runs(task: "grounding").first)
        XCTAssertEqual(Set(try reg.metrics(run: recorded.id).filter { $0.epoch == 1 }.map(\.name)), ["AP", "AP50"], "epoch 1 recorded")
        // No --modality or --count: the run's CT images of its 6-per-modality corpus (a CT-only model has no other prompts).
        try GroundEval.parse(["--checkpoint", run.path]).run()
        XCTAssertThrowsError(try GroundTrain.parse(common + ["--epochs", "2", "--resume", "--image-size", "128"]).run()) { error in
            XCTAssertTrue("\(error)".contains("--resume: the run was trained with --image-size 64, this command asks for 128"), "\(error)")
        }
        var resume = common + ["--epochs", "2", "--resume"]
        resume.removeSubrange(resume.firstIndex(of: "--image-size")!...resume.firstIndex(of: "--image-size")! + 1)
        try GroundTrain.parse(resume).run()
        XCTAssertEqual(try reg.runs(task: "grounding").map(\.id), [recorded.id], "one run, resumed")
        XCTAssertEqual(try reg.resumptions(run: recorded.id).count, 1)
        XCTAssertEqual(Set(try reg.metrics(run: recorded.id).compactMap(\.epoch)), [1, 2])
        XCTAssertEqual(try reg.run(recorded.id)?.status, .finished)
    }

    func testReadingCommandsRefuseARegistryThatDoesNotExist() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("typo-\(UUID().uuidString)/x.sqlite")
        XCTAssertThrowsError(try RunsList.parse(["--registry", missing.path]).run()) { error in
            XCTAssertTrue("\(error)".contains("no run registry at \(missing.path)"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path), "nothing created")
    }
}
