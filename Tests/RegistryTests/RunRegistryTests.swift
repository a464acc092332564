import Foundation
import GRDB
import GRDBSQLite
import XCTest

@testable import Registry

final class RunRegistryTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var path: URL { dir.appendingPathComponent("runs/registry.sqlite") }

    func testMigrationCreatesTheSchemaOnceAndUsesWAL() throws {
        let registry = try RunRegistry(path: path)
        let tables = try registry.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        XCTAssertEqual(
            tables.filter { !$0.hasPrefix("grdb_") && !$0.hasPrefix("sqlite_") },
            ["artefacts", "grounding_cache", "metrics", "resumptions", "runs"])
        let mode = try registry.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
        // Reopening applies nothing twice and keeps the rows.
        let run = try registry.begin(task: "mrg", dataset: "iu-xray", config: "{}", seed: 3, folder: dir)
        let again = try RunRegistry(path: path)
        let applied = try again.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(applied, ["v1", "v2: resumptions"])
        XCTAssertEqual(try again.run(run.id)?.seed, 3)
    }

    func testRunLifecycleMetricsAndArtefacts() throws {
        let registry = try RunRegistry(path: path)
        let first = try registry.begin(task: "vqa", dataset: "slake", config: "{\"epochs\":2}", seed: 0, folder: dir)
        Thread.sleep(forTimeInterval: 0.01)
        let second = try registry.begin(task: "vqa", dataset: "slake", config: "{}", seed: 1, folder: dir)
        try registry.record(["closed": 0.5, "open": 0.25], run: first.id, split: "val", epoch: 1)
        try registry.record(["closed": 0.75], run: first.id, split: "val", epoch: 1)
        try registry.record(["closed": 0.8], run: first.id, split: "test")
        try registry.addArtefact(run: first.id, kind: "checkpoint", path: dir.appendingPathComponent("old.safetensors"))
        try registry.addArtefact(run: first.id, kind: "checkpoint", path: dir.appendingPathComponent("model.safetensors"))
        try registry.finish(first.id)
        let metrics = try registry.metrics(run: first.id)
        XCTAssertEqual(metrics.map(\.name), ["closed", "closed"])
        XCTAssertEqual(metrics.map(\.value), [0.8, 0.75])
        XCTAssertEqual(metrics.map(\.epoch), [nil, 1])
        XCTAssertEqual(try registry.artefacts(run: first.id).map(\.path), [dir.appendingPathComponent("model.safetensors").path])
        XCTAssertEqual(try registry.runs(task: "vqa").map(\.id), [second.id, first.id])
        XCTAssertEqual(try registry.runs(task: "vqa", status: .finished).map(\.id), [first.id])
        XCTAssertNotNil(try registry.run(first.id)?.finished)
    }

    /// `--resume` continues the interrupted run's row; its epochs stay with it and the resumption is listed.
    func testAResumedRunKeepsItsRowAndListsItsResumptions() throws {
        let registry = try RunRegistry(path: path)
        let run = try registry.begin(task: "grounding", dataset: "embedded", config: "{}", seed: 0, folder: dir.appendingPathComponent("g"))
        try registry.record(["AP": 0.1], run: run.id, split: "val", epoch: 1)
        try registry.finish(run.id, status: .interrupted)
        XCTAssertNil(try registry.resume(task: "grounding", folder: dir.appendingPathComponent("other")), "no run in that folder")
        let resumed = try XCTUnwrap(try registry.resume(task: "grounding", folder: dir.appendingPathComponent("g")))
        XCTAssertEqual(resumed.id, run.id)
        XCTAssertEqual(try registry.run(run.id)?.status, .running)
        try registry.record(["AP": 0.2], run: run.id, split: "val", epoch: 2)
        try registry.finish(run.id)
        XCTAssertEqual(try registry.runs(task: "grounding").count, 1)
        XCTAssertEqual(try registry.resumptions(run: run.id).count, 1)
        XCTAssertEqual(try registry.metrics(run: run.id).map(\.epoch), [1, 2])
    }

    func testARunWhoseProcessDiedIsMarkedInterruptedOnTheNextStart() throws {
        let registry = try RunRegistry(path: path)
        let run = try registry.begin(task: "mrg", dataset: "iu-xray", config: "{}", seed: 0, folder: dir)
        try registry.record(["BLEU_4": 0.1], run: run.id, split: "val", epoch: 1)
        // Make the run look like it belongs to a process that has exited.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run(); gone.waitUntilExit()
        try registry.write { db in try db.execute(sql: "UPDATE runs SET pid = ? WHERE id = ?", arguments: [gone.processIdentifier, run.id]) }
        let alive = try registry.begin(task: "mrg", dataset: "iu-xray", config: "{}", seed: 1, folder: dir)
        let reopened = try RunRegistry(path: path)
        XCTAssertEqual(try reopened.run(run.id)?.status, .interrupted)
        XCTAssertEqual(try reopened.run(alive.id)?.status, .running, "this process is alive")
        XCTAssertEqual(try reopened.metrics(run: run.id).map(\.value), [0.1])
    }

    /// A process killed inside its transaction leaves nothing half-written: the files copied while a
    /// writer holds an open transaction (what a crash leaves on disk) open to the committed rows only.
    func testAProcessKilledMidTransactionLeavesTheRegistryConsistent() throws {
        let registry = try RunRegistry(path: path)
        let run = try registry.begin(task: "mrg", dataset: "iu-xray", config: "{}", seed: 0, folder: dir)
        try registry.record(["BLEU_4": 0.2, "METEOR": 0.3], run: run.id, split: "val", epoch: 1)
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path.path, &handle), SQLITE_OK)
        // Enough rows that SQLite spills uncommitted pages into the WAL file.
        let rows = (0..<2000).map { "INSERT INTO metrics (run, split, epoch, name, value) VALUES ('\(run.id)', 'val', 2, 'm\($0)', \($0));" }
        XCTAssertEqual(sqlite3_exec(handle, "PRAGMA cache_size = 1; BEGIN IMMEDIATE; " + rows.joined(), nil, nil, nil), SQLITE_OK)
        let crashed = dir.appendingPathComponent("crashed")
        try FileManager.default.createDirectory(at: crashed, withIntermediateDirectories: true)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path.path + suffix) {
            try FileManager.default.copyItem(atPath: path.path + suffix, toPath: crashed.appendingPathComponent("registry.sqlite").path + suffix)
        }
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
        sqlite3_close(handle)
        let recovered = try RunRegistry(path: crashed.appendingPathComponent("registry.sqlite"))
        XCTAssertEqual(try recovered.metrics(run: run.id).map(\.name), ["BLEU_4", "METEOR"])
        XCTAssertEqual(try recovered.run(run.id)?.status, .running, "this test process is still alive")
    }

    func testGroundingCacheHitsAndMisses() throws {
        let registry = try RunRegistry(path: path)
        XCTAssertNil(try registry.groundingCache(dataset: "cxr", grounder: "abc"))
        try registry.storeGrounding(["img1": Data("[1]".utf8), "img2": Data("[2]".utf8)], dataset: "cxr", grounder: "abc")
        XCTAssertEqual(try registry.groundingCache(dataset: "cxr", grounder: "abc")?["img2"], Data("[2]".utf8))
        XCTAssertNil(try registry.groundingCache(dataset: "cxr", grounder: "other"))
        XCTAssertNil(try registry.groundingCache(dataset: "slake", grounder: "abc"))
    }

    func testAnUnopenableRegistrySaysWhichFile() throws {
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        XCTAssertThrowsError(try RunRegistry(path: path)) { error in
            XCTAssertTrue("\(error)".contains(self.path.path), "\(error)")
        }
    }
}
