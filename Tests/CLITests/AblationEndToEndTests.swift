import Foundation
import Injection
import Registry
import XCTest

@testable import CLI

/// The whole ablation at toy size: corpus, training and evaluation per mode, the registry, the
/// table and report.html; then a rerun that trains nothing.
final class AblationEndToEndTests: XCTestCase {
    func testTinyAblationRunsRecordsAndSkipsFinishedRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("MEDGLIP_CACHE", dir.appendingPathComponent("cache").path, 1)
        defer { unsetenv("MEDGLIP_CACHE") }
        let registry = dir.appendingPathComponent("registry.sqlite")
        let args = [
            "--modes", "none,oracle", "--seeds", "1", "--epochs", "1", "--count", "40", "--vqa-epochs", "1", "--vqa-count", "12",
            "--out", dir.appendingPathComponent("runs").path, "--registry", registry.path
        ]
        let first = try AblateDownstream.parse(args)
        try first.run()
        let reg = try RunRegistry(path: registry)
        for task in ["mrg", "vqa"] {
            let runs = try reg.runs(task: task, status: .finished)
            XCTAssertEqual(Set(runs.map { URL(fileURLWithPath: $0.folder).lastPathComponent }), ["\(task)-none-seed0", "\(task)-oracle-seed0"])
            for run in runs {
                let names = Set(try reg.metrics(run: run.id).filter { $0.split == "test" }.map(\.name))
                XCTAssertTrue(names.isSuperset(of: AblateDownstream.metrics[task]!), "\(run.folder): \(names)")
            }
        }
        let html = try String(contentsOf: dir.appendingPathComponent("runs/report.html"), encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, AblateDownstream.metrics.values.map(\.count).reduce(0, +))
        // The gallery: cases of both tasks, their drawings written beside the report.
        let images = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertTrue(images.contains { $0.hasPrefix("gallery/mrg-") } && images.contains { $0.hasPrefix("gallery/vqa-") }, "\(images)")
        for image in images {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").appendingPathComponent(image).path), image)
        }
        XCTAssertTrue(html.contains("<i>reference</i>") && html.contains("<i>oracle</i>"))
        // vqa-eval's predictions carry question_id, and its LLaVA-Med files score with `score vqa` as run_eval.py takes them.
        let vqa = dir.appendingPathComponent("runs/vqa-none-seed0")
        let merged = try String(contentsOf: vqa.appendingPathComponent("predictions-test.jsonl"), encoding: .utf8)
        XCTAssertTrue(
            merged.hasPrefix("{\"answer\"") && merged.contains("\"question_id\":") && !merged.contains("\"qid\""),
            String(merged.prefix(200)))
        try ScoreVQA.parse(["--pred", vqa.appendingPathComponent("predictions-test.jsonl").path]).run()
        try ScoreVQA.parse([
            "--gt", vqa.appendingPathComponent("llava-gt-test.json").path,
            "--pred", vqa.appendingPathComponent("llava-answers-test.jsonl").path
        ]).run()
        let again = try AblateDownstream.parse(args)
        try again.run()
        XCTAssertEqual(try reg.runs(task: "mrg").count + reg.runs(task: "vqa").count, 4, "the rerun trains nothing")
        // Other settings over the same folders: refused, naming the difference; nothing is reused or trained.
        var changed = args
        changed[changed.firstIndex(of: "--epochs")! + 1] = "2"
        XCTAssertThrowsError(try AblateDownstream.parse(changed).run()) { error in
            XCTAssertTrue("\(error)".contains("holds a run started with other settings: --epochs 1 then, 2 now"), "\(error)")
        }
        XCTAssertEqual(try reg.runs(task: "mrg").count + reg.runs(task: "vqa").count, 4, "nothing trained over the runs")
        // The final epoch's weights, scored beside the selected ones: own predictions file, metrics under that epoch.
        let none = dir.appendingPathComponent("runs/mrg-none-seed0")
        try MRGEval.parse(["--checkpoint", none.path, "--weights", "last", "--registry", registry.path]).run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: none.appendingPathComponent("predictions-last.jsonl").path))
        let run = try XCTUnwrap(reg.runs(task: "mrg").first { $0.folder.hasSuffix("mrg-none-seed0") })
        let test = try reg.metrics(run: run.id).filter { $0.split == "test" && $0.name == "BLEU_4" }
        XCTAssertEqual(test.map(\.epoch), [nil, 1], "the selected weights' row stays; the last epoch's is added")
        // An unreadable test image: vqa-eval fails naming the question, or with --on-missing skip scores the rest.
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: vqa.appendingPathComponent("config.json"))) as? [String: Any])
        let dataDir = URL(fileURLWithPath: try XCTUnwrap(config["dataDir"] as? String))
        let testFile = try Data(contentsOf: dataDir.appendingPathComponent("test.json"))
        let questions = try XCTUnwrap(JSONSerialization.jsonObject(with: testFile) as? [[String: Any]])
        try Data().write(to: dataDir.appendingPathComponent("imgs").appendingPathComponent(try XCTUnwrap(questions.first?["img_name"] as? String)))
        let evaluate = ["--dataset", "slake", "--checkpoint", vqa.path, "--registry", registry.path]
        XCTAssertThrowsError(try VQAEval.parse(evaluate).run()) { error in
            XCTAssertTrue("\(error)".contains("test questions cannot be answered (--on-missing skip scores the rest)"), "\(error)")
        }
        try VQAEval.parse(evaluate + ["--on-missing", "skip"]).run()
    }
}

/// What the ablation hands to each run's training command.
final class AblationCommandLineTests: XCTestCase {
    func testGrounderModesGetTheInjectionKnobsAndTheOracleOnlyItsBoxes() throws {
        let ablate = try AblateDownstream.parse([
            "--task", "mrg", "--grounder", "/g", "--grounding-threshold", "0.35", "--grounding-hedge", "0.55",
            "--grounding-dropout", "0.5", "--grounding-threshold-per-phrase", "--epochs", "7"
        ])
        let folder = URL(fileURLWithPath: "/runs/mrg-both-seed2")
        let train = try MRGTrain.parse(ablate.trainingArguments("mrg", mode: "both", seed: 2, folder: folder, registryPath: "/r.sqlite"))
        XCTAssertEqual(train.injection.mode, .both)
        XCTAssertEqual(train.injection.grounder, "/g")
        XCTAssertEqual(train.injection.groundingThreshold, 0.35)
        XCTAssertEqual(train.injection.groundingHedge, 0.55)
        XCTAssertEqual(train.injection.groundingDropout, 0.5)
        XCTAssertTrue(train.injection.groundingThresholdPerPhrase)
        XCTAssertEqual(train.training.seed, 2)
        XCTAssertEqual(
            ablate.evaluationArguments("mrg", folder: folder, registryPath: "/r.sqlite"), ["--checkpoint", folder.path, "--registry", "/r.sqlite"])
        let oracle = try MRGTrain.parse(ablate.trainingArguments("mrg", mode: "oracle", seed: 0, folder: folder, registryPath: "/r.sqlite"))
        XCTAssertEqual(oracle.injection.groundingSource, .oracle)
        XCTAssertEqual(oracle.injection.groundingDropout, 0)
        XCTAssertEqual(oracle.injection.groundingHedge, 0)
        XCTAssertEqual(
            try MRGTrain.parse(ablate.trainingArguments("mrg", mode: "none", seed: 0, folder: folder, registryPath: "/r.sqlite")).injection.mode,
            .none)
    }

    func testVQARunsGetTheLocalizationRecipe() throws {
        let ablate = try AblateDownstream.parse(["--task", "vqa", "--vqa-localization-loss", "1", "--vqa-localization-pretrain", "100"])
        let folder = URL(fileURLWithPath: "/runs/vqa-oracle-seed1")
        let train = try VQATrain.parse(ablate.trainingArguments("vqa", mode: "oracle", seed: 1, folder: folder, registryPath: "/r.sqlite"))
        XCTAssertEqual(train.pretraining.localizationLoss, 1)
        XCTAssertEqual(train.pretraining.localizationPretrain, 100)
        let plain = try VQATrain.parse(
            AblateDownstream.parse(["--task", "vqa"]).trainingArguments("vqa", mode: "none", seed: 0, folder: folder, registryPath: "/r.sqlite"))
        XCTAssertEqual(plain.pretraining.localizationLoss, 0)
        XCTAssertThrowsError(try AblateDownstream.parse(["--task", "vqa", "--vqa-localization-pretrain", "100"]))
    }
}
