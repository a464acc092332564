import ArgumentParser
import Distributed
import Foundation
import Tensor

/// A command that trains data-parallel under mpirun; any other, started as several ranks, would
/// only repeat its work N times and race on its output files.
protocol DataParallelCommand: ParsableCommand {}

extension GroundTrain: DataParallelCommand {}
extension MRGTrain: DataParallelCommand {}
extension VQATrain: DataParallelCommand {}

extension ParsableCommand {
    /// `main()`; under mpirun a failure on any rank ends the whole job with the rank and the reason
    /// (the other ranks would otherwise wait for it forever in their next collective call).
    public static func mainAcrossRanks() {
        guard Communicator.launchedByMPI else { return main() }
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        // Checked before MPI starts: every rank refuses alike and exits on its own.
        let ranks = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) } ?? 1
        guard command is DataParallelCommand || ranks == 1 else {
            let name = type(of: command).configuration.commandName ?? "this command"
            exit(
                withError: ValidationError(
                    "\(name) runs in one process; only ground-train, mrg-train and vqa-train train across mpirun's ranks"))
        }
        do {
            try command.run()
        } catch {
            if exitCode(for: error) != .success, let ranks = try? Communicator.world(), ranks.isDistributed {
                let message = fullMessage(for: error)
                ranks.abort(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
            }
            exit(withError: error)
        }
    }
}

extension Communicator {
    /// The start of a data-parallel training command: only rank 0 prints; every rank must have the
    /// same options and data (`annotation`, the file in `dataFolder` that lists it; nil: an embedded
    /// corpus, which the options determine, or the run's recorded data); a global batch must give
    /// every rank at least one example; each rank gets its share of this machine's cores unless
    /// `--threads` says otherwise.
    static func startTraining(batchSize: Int, threads: ThreadOptions, dataFolder: URL?, annotation: String) throws -> Communicator {
        let ranks = try Communicator.world()
        ranks.quietOtherRanks()
        try threads.apply()
        var facts = [(name: "the options", fingerprint: Fingerprint.of(CommandLine.arguments.dropFirst().joined(separator: "\u{1}")))]
        if let file = dataFolder?.appendingPathComponent(annotation), FileManager.default.fileExists(atPath: file.path) {
            facts.append((name: "the data (\(file.path))", fingerprint: try Fingerprint.of(file: file)))
        }
        try ranks.requireAgreement(facts)
        guard ranks.isDistributed else { return ranks }
        guard batchSize >= ranks.size else {
            throw ValidationError("--batch-size \(batchSize) is smaller than the \(ranks.size) ranks: every rank needs a part of each global batch")
        }
        if threads.threads == nil { Threads.set(max(1, ProcessInfo.processInfo.processorCount / ranks.localSize)) }
        print(
            "data-parallel: \(ranks.size) ranks, global batch \(batchSize) (about \(batchSize / ranks.size) per rank), "
                + "\(Threads.count) threads per rank")
        return ranks
    }
}
