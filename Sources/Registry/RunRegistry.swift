import Foundation
import GRDB

/// The run registry: every run's configuration, status, metrics and artefacts, and the grounding
/// cache, in one SQLite database (WAL mode, so readers never block the writer and a process that
/// dies mid-write loses at most its open transaction).
public final class RunRegistry: Sendable {
    public let path: URL
    let pool: DatabasePool

    /// `runs/registry.sqlite` unless `MEDGLIP_REGISTRY` names another file.
    public static var defaultPath: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["MEDGLIP_REGISTRY"] ?? "runs/registry.sqlite")
    }

    /// Opens (creating and migrating as needed) the registry, and marks runs whose process is gone as interrupted.
    public init(path: URL = RunRegistry.defaultPath) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path.path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw RegistryError(path: path.path, problem: "cannot open the run registry: \(error)")
        }
        try markInterrupted()
    }

    /// Versioned schema: add a migration, never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.primaryKey("id", .text)
                t.column("task", .text).notNull().indexed()
                t.column("dataset", .text).notNull()
                t.column("config", .text).notNull()
                t.column("seed", .integer).notNull()
                t.column("git_commit", .text).notNull()
                t.column("started", .datetime).notNull()
                t.column("finished", .datetime)
                t.column("status", .text).notNull()
                t.column("folder", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("host", .text).notNull()
            }
            try db.create(table: "metrics") { t in
                t.column("run", .text).notNull().indexed().references("runs", onDelete: .cascade)
                t.column("split", .text).notNull()
                t.column("epoch", .integer)
                t.column("name", .text).notNull()
                t.column("value", .double).notNull()
            }
            try db.create(table: "artefacts") { t in
                t.column("run", .text).notNull().indexed().references("runs", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.uniqueKey(["run", "kind"])
            }
            try db.create(table: "grounding_cache") { t in
                t.column("dataset", .text).notNull()
                t.column("grounder", .text).notNull()
                t.column("image", .text).notNull()
                t.column("boxes", .blob).notNull()
                t.primaryKey(["dataset", "grounder", "image"])
            }
        }
        m.registerMigration("v2: resumptions") { db in
            try db.create(table: "resumptions") { t in
                t.column("run", .text).notNull().indexed().references("runs", onDelete: .cascade)
                t.column("started", .datetime).notNull()
                t.column("pid", .integer).notNull()
                t.column("host", .text).notNull()
            }
        }
        return m
    }

    /// Runs left `running` by a process on this host that no longer exists become `interrupted`.
    func markInterrupted() throws {
        let host = ProcessInfo.processInfo.hostName
        try write { db in
            for run in try RunRecord.filter(Column("status") == RunRecord.Status.running.rawValue).fetchAll(db)
            where run.host == host && !Self.processIsAlive(run.pid) {
                var r = run
                r.status = .interrupted
                try r.update(db)
            }
        }
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        pid == ProcessInfo.processInfo.processIdentifier || kill(pid, 0) == 0 || errno == EPERM
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw RegistryError(path: path.path, problem: "write failed: \(error)") }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw RegistryError(path: path.path, problem: "read failed: \(error)") }
    }

    // MARK: runs

    /// Registers a new run as `running`; its id is `<task>-<dataset>-<time>-<random>`.
    public func begin(task: String, dataset: String, config: String, seed: UInt64, folder: URL) throws -> RunRecord {
        let now = Date()
        let stamp = Int(now.timeIntervalSince1970 * 1000)
        let run = RunRecord(
            id: "\(task)-\(dataset)-\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))",
            task: task, dataset: dataset, config: config, seed: Int64(bitPattern: seed), gitCommit: Self.gitCommit(),
            started: now, finished: nil, status: .running, folder: folder.path,
            pid: ProcessInfo.processInfo.processIdentifier, host: ProcessInfo.processInfo.hostName)
        try write { db in try run.insert(db) }
        return run
    }

    /// Continues the newest run of `task` in `folder` (`--resume`): the same row goes back to
    /// `running` under this process, and the resumption is listed with it. Nil when the folder has
    /// no recorded run (one written without a registry): the caller begins one.
    public func resume(task: String, folder: URL) throws -> RunRecord? {
        guard var run = try newestRun(task: task, folder: folder) else { return nil }
        let now = Date()
        run.status = .running
        run.finished = nil
        run.pid = ProcessInfo.processInfo.processIdentifier
        run.host = ProcessInfo.processInfo.hostName
        try write { db in
            try run.update(db)
            try db.execute(
                sql: "INSERT INTO resumptions (run, started, pid, host) VALUES (?, ?, ?, ?)",
                arguments: [run.id, now, run.pid, run.host])
        }
        return run
    }

    /// When the run was resumed, oldest first.
    public func resumptions(run: String) throws -> [Date] {
        try read { db in try Date.fetchAll(db, sql: "SELECT started FROM resumptions WHERE run = ? ORDER BY started", arguments: [run]) }
    }

    public func finish(_ id: String, status: RunRecord.Status = .finished) throws {
        try write { db in
            guard var run = try RunRecord.fetchOne(db, key: id) else { throw RegistryError(path: path.path, problem: "no run \(id)") }
            run.status = status
            run.finished = Date()
            try run.update(db)
        }
    }

    /// All of one split's and epoch's metrics in one transaction: all or none are stored.
    public func record(_ metrics: [String: Double], run: String, split: String, epoch: Int? = nil) throws {
        try write { db in
            try MetricRecord.filter(Column("run") == run && Column("split") == split && Column("epoch") == epoch).deleteAll(db)
            for (name, value) in metrics.sorted(by: { $0.key < $1.key }) {
                try MetricRecord(run: run, split: split, epoch: epoch, name: name, value: value).insert(db)
            }
        }
    }

    /// Records (or replaces) the run's artefact of this kind.
    public func addArtefact(run: String, kind: String, path: URL) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO artefacts (run, kind, path) VALUES (?, ?, ?)", arguments: [run, kind, path.path])
        }
    }

    /// Runs, newest first, optionally filtered.
    public func runs(task: String? = nil, dataset: String? = nil, status: RunRecord.Status? = nil) throws -> [RunRecord] {
        try read { db in
            var q = RunRecord.all()
            if let task { q = q.filter(Column("task") == task) }
            if let dataset { q = q.filter(Column("dataset") == dataset) }
            if let status { q = q.filter(Column("status") == status.rawValue) }
            return try q.order(Column("started").desc).fetchAll(db)
        }
    }

    /// The newest run of `task` that wrote to `folder`.
    public func newestRun(task: String, folder: URL, status: RunRecord.Status? = nil) throws -> RunRecord? {
        let path = folder.standardizedFileURL.path
        return try runs(task: task, status: status).first { URL(fileURLWithPath: $0.folder).standardizedFileURL.path == path }
    }

    public func run(_ id: String) throws -> RunRecord? { try read { db in try RunRecord.fetchOne(db, key: id) } }

    public func metrics(run: String) throws -> [MetricRecord] {
        try read { db in try MetricRecord.filter(Column("run") == run).order(Column("split"), Column("epoch"), Column("name")).fetchAll(db) }
    }

    public func artefacts(run: String) throws -> [ArtefactRecord] {
        try read { db in try ArtefactRecord.filter(Column("run") == run).order(Column("kind")).fetchAll(db) }
    }

    // MARK: grounding cache

    /// Cached grounding outputs per image for one dataset and grounder checkpoint, or nil when not cached.
    public func groundingCache(dataset: String, grounder: String) throws -> [String: Data]? {
        let rows = try read { db in
            try Row.fetchAll(db, sql: "SELECT image, boxes FROM grounding_cache WHERE dataset = ? AND grounder = ?", arguments: [dataset, grounder])
        }
        guard !rows.isEmpty else { return nil }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["image"] as String, $0["boxes"] as Data) })
    }

    /// Stores a whole dataset's grounding outputs in one transaction.
    public func storeGrounding(_ boxes: [String: Data], dataset: String, grounder: String) throws {
        try write { db in
            for (image, data) in boxes {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO grounding_cache (dataset, grounder, image, boxes) VALUES (?, ?, ?, ?)",
                    arguments: [dataset, grounder, image, data])
            }
        }
    }

    /// The checkout's commit, or "unknown" outside a git checkout.
    static func gitCommit() -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "--short", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        process.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !out.isEmpty ? out : "unknown"
    }
}

public struct RegistryError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

extension RunRegistry {
    /// An evaluation's metrics and predictions file: on the training run of `task` that wrote
    /// `folder`, or on a new finished `<task>-eval` run when no training run is recorded there
    /// (weights copied in from elsewhere).
    public func recordEvaluation(
        _ metrics: [String: Double], task: String, dataset: String, seed: UInt64, folder: URL, split: String,
        epoch: Int? = nil, predictions: URL
    ) throws {
        let id: String
        if let trained = try newestRun(task: task, folder: folder) {
            id = trained.id
        } else {
            let config = String(decoding: try JSONEncoder().encode(["checkpoint": folder.standardizedFileURL.path]), as: UTF8.self)
            id = try begin(task: "\(task)-eval", dataset: dataset, config: config, seed: seed, folder: folder).id
            try finish(id)
        }
        try record(metrics, run: id, split: split, epoch: epoch)
        try addArtefact(run: id, kind: epoch.map { "predictions-\(split)-epoch\($0)" } ?? "predictions-\(split)", path: predictions)
    }
}
