import Foundation
import GRDB

/// One training or evaluation run: what was run, on what, and how it ended.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case running, finished, failed
        /// Found `running` by a later process although its own process is gone (killed, crashed).
        case interrupted
    }

    public static let databaseTableName = "runs"

    public var id: String
    /// "grounding", "mrg", "vqa", ...
    public var task: String
    public var dataset: String
    /// The run's configuration as JSON.
    public var config: String
    public var seed: Int64
    public var gitCommit: String
    public var started: Date
    public var finished: Date?
    public var status: Status
    public var folder: String
    public var pid: Int32
    public var host: String

    enum CodingKeys: String, CodingKey {
        case id, task, dataset, config, seed, gitCommit = "git_commit", started, finished, status, folder, pid, host
    }
}

/// A metric value of a run, per split and epoch (epoch nil: the final evaluation).
public struct MetricRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metrics"
    public var run: String
    public var split: String
    public var epoch: Int?
    public var name: String
    public var value: Double
}

/// A file a run produced: "checkpoint", "predictions", "history", "report", ...
public struct ArtefactRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artefacts"
    public var run: String
    public var kind: String
    public var path: String
}
