import ArgumentParser
import Foundation
import Registry

/// `--registry`: where runs are recorded (default runs/registry.sqlite, or MEDGLIP_REGISTRY).
struct RegistryOptions: ParsableArguments {
    @Option(help: "Run registry (SQLite) file.") var registry: String?

    func open() throws -> RunRegistry {
        try RunRegistry(path: registry.map { URL(fileURLWithPath: $0) } ?? RunRegistry.defaultPath)
    }

    /// For commands that only read: a registry file that does not exist is an error, not a new empty registry.
    func openExisting() throws -> RunRegistry {
        let path = registry.map { URL(fileURLWithPath: $0) } ?? RunRegistry.defaultPath
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw DataError("no run registry at \(path.path)\(registry == nil ? " (no run recorded yet in this folder)" : "")")
        }
        return try RunRegistry(path: path)
    }
}

/// Records a training run in the registry: `running` now, then `finished` or `failed`.
/// A resumed run continues its own registry row (listed with its resumptions).
func trackRun<T>(
    _ registry: RunRegistry, task: String, dataset: String, config: some Encodable, seed: UInt64, folder: URL, resumed: Bool = false,
    _ body: (RunRecord) throws -> T
) throws -> T {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let run: RunRecord
    if resumed, let earlier = try registry.resume(task: task, folder: folder) {
        run = earlier
        print("registry: run \(run.id) resumed in \(registry.path.path)")
    } else {
        run = try registry.begin(
            task: task, dataset: dataset, config: String(decoding: try encoder.encode(config), as: UTF8.self),
            seed: seed, folder: folder)
        print("registry: run \(run.id) in \(registry.path.path)")
    }
    do {
        let result = try body(run)
        try registry.finish(run.id)
        return result
    } catch {
        try? registry.finish(run.id, status: .failed)
        throw error
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Read the run registry.",
        subcommands: [RunsList.self, RunsShow.self, RunsCompare.self])
}

struct RunsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Runs, newest first.")
    @Option(help: "Only this task (grounding, mrg, vqa, ...).") var task: String?
    @Option(help: "Only this dataset.") var dataset: String?
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let runs = try registry.openExisting().runs(task: task, dataset: dataset)
        guard !runs.isEmpty else { print("no runs recorded"); return }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        print("id".padding(toLength: 44, withPad: " ", startingAt: 0) + "task       dataset      seed  status       started           folder")
        for r in runs {
            print(
                r.id.padding(toLength: 44, withPad: " ", startingAt: 0) + r.task.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + r.dataset.padding(toLength: 13, withPad: " ", startingAt: 0) + String(r.seed).padding(toLength: 6, withPad: " ", startingAt: 0)
                    + r.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0) + f.string(from: r.started) + "  " + r.folder)
        }
    }
}

struct RunsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One run: configuration, metrics, artefacts.")
    @Argument(help: "Run id.") var id: String
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let reg = try registry.openExisting()
        guard let r = try reg.run(id) else { throw DataError("no run \(id) in \(reg.path.path) (see `medglip runs list`)") }
        print("run \(r.id): \(r.task) on \(r.dataset), seed \(r.seed), \(r.status.rawValue), commit \(r.gitCommit)")
        print("started \(r.started)" + (r.finished.map { ", ended \($0)" } ?? "") + "; folder \(r.folder)")
        for date in try reg.resumptions(run: id) { print("resumed \(date)") }
        print("config \(r.config)")
        for a in try reg.artefacts(run: id) { print("artefact \(a.kind): \(a.path)") }
        for m in try reg.metrics(run: id) {
            print("  \(m.split) \(m.epoch.map { "epoch \($0)" } ?? "final")  \(m.name) = \(String(format: "%.4f", m.value))")
        }
    }
}

struct RunsCompare: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Two runs' final (else last-epoch) metrics side by side.")
    @Argument(help: "First run id.") var first: String
    @Argument(help: "Second run id.") var second: String
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let reg = try registry.openExisting()
        func latest(_ id: String) throws -> [String: Double] {
            guard try reg.run(id) != nil else { throw DataError("no run \(id) in \(reg.path.path)") }
            let metrics = try reg.metrics(run: id)
            let final = metrics.filter { $0.epoch == nil }
            let chosen = final.isEmpty ? metrics.filter { $0.epoch == metrics.compactMap(\.epoch).max() } : final
            return Dictionary(chosen.map { ("\($0.split)/\($0.name)", $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        let (a, b) = (try latest(first), try latest(second))
        print("metric".padding(toLength: 36, withPad: " ", startingAt: 0) + "first     second    delta")
        for key in Set(a.keys).union(b.keys).sorted() {
            let (x, y) = (a[key], b[key])
            let delta = x.flatMap { x in y.map { String(format: "%+.4f", $0 - x) } } ?? ""
            print(
                key.padding(toLength: 36, withPad: " ", startingAt: 0) + (x.map { String(format: "%-10.4f", $0) } ?? "-         ")
                    + (y.map { String(format: "%-10.4f", $0) } ?? "-         ") + delta)
        }
    }
}
