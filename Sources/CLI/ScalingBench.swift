import ArgumentParser
import Datasets
import Distributed
import Foundation
import Grounding
import ReportGen
import Tensor
import VQA

/// `medglip bench scaling`: training throughput of one trainer on this machine with 1, 2, ... ranks
/// under mpirun (one thread each) against one process using as many threads, with the time per step
/// spent in the gradient allreduce and the bytes it sums. Each setting trains one epoch of the
/// embedded corpus in its own folder; the numbers come from the runs' `history.json`.
struct ScalingBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scaling", abstract: "Data-parallel training throughput under mpirun.")

    enum Task: String, ExpressibleByArgument, CaseIterable { case mrg, ground, vqa }

    @Option(help: "Trainer: \(Task.allCases.map(\.rawValue).joined(separator: ", ")).") var task: Task = .mrg
    @Option(help: "Largest number of ranks (default: the cores).") var maxRanks = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Projection: studies in an epoch (R2Gen's MIMIC-CXR train split).") var projectStudies = 270_790
    @Option(help: "Projection: network bandwidth between nodes, Gbit/s.") var bandwidthGbps = 10.0
    @Option(help: "Work folder (default: a temporary one, removed afterwards).") var out: String?

    func validate() throws {
        try Check.atLeast(maxRanks, 1, "--max-ranks")
        try Check.positive(bandwidthGbps, "--bandwidth-gbps")
    }

    /// One epoch's numbers of a finished setting.
    struct Measured {
        var label: String
        var itemsPerSecond: Double
        var dataParallel: DataParallelEpoch?
    }

    func run() throws {
        guard let mpirun = Self.findMPIRun() else { throw ValidationError("mpirun is not installed (make deps installs Open MPI)") }
        let folder =
            out.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("scaling-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if out == nil { try? FileManager.default.removeItem(at: folder) } }
        var rows: [Measured] = []
        // One process first: it also generates the embedded corpus the ranks then share.
        rows.append(try measure("1 process, \(maxRanks) threads", ranks: nil, threads: maxRanks, folder: folder, mpirun: mpirun))
        for ranks in 1...maxRanks {
            rows.append(try measure("\(ranks) rank\(ranks > 1 ? "s" : ""), 1 thread each", ranks: ranks, threads: 1, folder: folder, mpirun: mpirun))
        }
        report(rows)
    }

    /// The trainer's arguments: one epoch of a small embedded corpus, nothing but training steps timed.
    var trainerArguments: (command: [String], unit: String) {
        switch task {
        case .mrg: (["mrg-train", "--count", "240", "--epochs", "1", "--pretrain-epochs", "0", "--batch-size", "16"], "studies/s")
        case .vqa: (["vqa-train", "--dataset", "slake", "--count", "64", "--epochs", "1", "--images-per-batch", "4"], "questions/s")
        case .ground:
            (["ground-train", "--modality", "X-ray", "--count", "96", "--image-size", "128", "--epochs", "1", "--batch-size", "8"], "images/s")
        }
    }

    func measure(_ label: String, ranks: Int?, threads: Int, folder: URL, mpirun: String) throws -> Measured {
        let run = folder.appendingPathComponent(label.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: ",", with: ""))
        let arguments =
            trainerArguments.command + [
                "--threads", "\(threads)", "--out", run.path, "--registry", folder.appendingPathComponent("registry.sqlite").path
            ]
        let process = Process()
        let me = Bundle.main.executableURL!
        if let ranks {
            process.executableURL = URL(fileURLWithPath: mpirun)
            process.arguments = ["--oversubscribe", "-np", "\(ranks)", me.path] + arguments
        } else {
            process.executableURL = me
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // Containers often forbid the cross-memory attach shared-memory transfers use by default.
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        process.environment = environment
        let log = folder.appendingPathComponent("\(run.lastPathComponent).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw ValidationError("cannot create \(log.path)") }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        print("\(label): training one epoch (log: \(log.path))")
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(label) failed (exit \(process.terminationStatus)); see \(log.path)")
        }
        let history = run.appendingPathComponent("history.json")
        switch task {
        case .mrg:
            let epoch = try decodeJSON([ReportTrainer.EpochRecord].self, from: history)[0]
            return Measured(label: label, itemsPerSecond: epoch.studiesPerSecond ?? 0, dataParallel: epoch.dataParallel)
        case .vqa:
            let epoch = try decodeJSON([VQATrainer.EpochRecord].self, from: history)[0]
            return Measured(label: label, itemsPerSecond: epoch.questionsPerSecond, dataParallel: epoch.dataParallel)
        case .ground:
            let epoch = try decodeJSON([GroundingTrainer.EpochRecord].self, from: history)[0]
            return Measured(label: label, itemsPerSecond: epoch.imagesPerSecond, dataParallel: epoch.dataParallel)
        }
    }

    func report(_ rows: [Measured]) {
        let unit = trainerArguments.unit, oneProcess = rows[0].itemsPerSecond, oneRank = rows[1].itemsPerSecond
        print("\n\(task.rawValue): training throughput on \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(
            "setting".padding(toLength: 28, withPad: " ", startingAt: 0) + "  \(unit)  vs 1 rank  vs 1 process  allreduce ms/step  gradient MB/step")
        for row in rows {
            let dp = row.dataParallel
            print(
                row.label.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %8.2f  %8.2f  %12.2f  %17@  %16@", row.itemsPerSecond, row.itemsPerSecond / oneRank,
                        row.itemsPerSecond / oneProcess, dp.map { String(format: "%.1f", $0.allreduceSecondsPerStep * 1e3) } ?? "-",
                        dp.map { String(format: "%.2f", Double($0.gradientBytesPerStep) / 1e6) } ?? "-"))
        }
        guard task == .mrg, let bytes = rows.compactMap(\.dataParallel).last?.gradientBytesPerStep else { return }
        // A ring allreduce sends and receives 2 (N - 1) / N of the gradient per step on each node.
        let batch = 16.0, best = rows.max { $0.itemsPerSecond < $1.itemsPerSecond }!, node = best.itemsPerSecond
        print(
            String(
                format: "\nprojection, a MIMIC-CXR epoch (%d studies, batch %.0f, %.2f MB of gradients per step, %.0f Gbit/s between nodes,"
                    + " each node as fast as '%@' here):", projectStudies, batch, Double(bytes) / 1e6, bandwidthGbps, best.label))
        for nodes in [1, 2, 4, 8, 16, 32] {
            let steps = Double(projectStudies) / batch
            let compute = Double(projectStudies) / (node * Double(nodes))
            let network = nodes > 1 ? steps * 2 * Double(nodes - 1) / Double(nodes) * Double(bytes) * 8 / (bandwidthGbps * 1e9) : 0
            print(
                String(
                    format: "  %2d nodes like this one: %6.1f h (compute %.1f h, allreduce %.2f h)", nodes, (compute + network) / 3600,
                    compute / 3600, network / 3600))
        }
    }

    static func findMPIRun() -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/mpirun" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
