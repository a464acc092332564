import Foundation
import Registry
import XCTest

@testable import Experiments

/// The grid through a task that is not the command line: each run trained and scored once, found
/// again on a second pass, and a run of other settings refused.
final class AblationGridTests: XCTestCase {
    /// Records a finished run whose score is its seed plus 10 for "both", and counts the calls.
    final class CountingTask: AblationTask {
        let registry: RunRegistry
        var epochs = 1
        var trained: [String] = [], evaluated: [String] = []
        init(registry: RunRegistry) { self.registry = registry }

        let name = "mrg"
        let metrics = ["BLEU_4"]
        let evaluationSplit = "test"
        func trainingArguments(mode: String, seed: Int, folder: URL) -> [String] {
            ["--mode", mode, "--seed", String(seed), "--epochs", String(epochs), "--out", folder.path]
        }
        func train(_ arguments: [String], resume: Bool) throws {
            let folder = URL(fileURLWithPath: arguments.last!)
            trained.append(folder.lastPathComponent)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
            let run = try registry.begin(task: name, dataset: "toy", config: "{}", seed: UInt64(arguments[3])!, folder: folder)
            try registry.finish(run.id)
        }
        func evaluate(folder: URL) throws {
            evaluated.append(folder.lastPathComponent)
            let run = try registry.newestRun(task: name, folder: folder, status: .finished)!
            let seed = Double(folder.lastPathComponent.last!.wholeNumberValue!)
            try registry.record(["BLEU_4": seed + (folder.lastPathComponent.contains("both") ? 10 : 0)], run: run.id, split: "test")
        }
    }

    func testEveryRunOnceThenReusedAndOtherSettingsRefused() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grid-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let registry = try RunRegistry(path: out.appendingPathComponent("registry.sqlite"))
        let grid = AblationGrid(out: out, modes: ["none", "both"], seeds: 2, registry: registry)
        let task = CountingTask(registry: registry)
        let first = try grid.results(task)
        XCTAssertEqual(task.trained, ["mrg-none-seed0", "mrg-none-seed1", "mrg-both-seed0", "mrg-both-seed1"])
        XCTAssertEqual(task.evaluated, task.trained)
        XCTAssertEqual(first.map { $0.metrics["BLEU_4"]! }, [0, 1, 10, 11])
        XCTAssertEqual(first.map(\.mode), ["none", "none", "both", "both"])

        let again = try grid.results(task)
        XCTAssertEqual(task.trained.count, 4, "finished runs with the same settings are not trained again")
        XCTAssertEqual(again.map { $0.metrics["BLEU_4"]! }, [0, 1, 10, 11])

        task.epochs = 2
        XCTAssertThrowsError(try grid.results(task)) { error in
            XCTAssertTrue("\(error)".contains("--epochs 1 then, 2 now"), "\(error)")
        }
    }
}
