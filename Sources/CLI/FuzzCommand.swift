import ArgumentParser
import Foundation
import Fuzzing

/// `medglip fuzz`: mutated files through the real loaders (`make fuzz` runs 100,000).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Feed mutated PNG, JPEG, COCO, SLAKE, VQA-RAD, R2Gen, VOC and safetensors files to the loaders; a trap fails the run.")

    @Option(help: "Mutated inputs, spread round robin over the eight loaders.") var inputs = 100_000
    @Option(help: "Random seed of the mutations.") var seed: UInt64 = 0
    @Option(help: "Folder for the mutated files (default: a temporary one, removed afterwards).") var workDir: String?

    func validate() throws { try Check.atLeast(inputs, 1, "--inputs") }

    func run() throws {
        let name = "medglip-fuzz-\(ProcessInfo.processInfo.processIdentifier)"
        let dir = URL(fileURLWithPath: workDir ?? NSTemporaryDirectory()).appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        let report = try LoaderFuzzer(seed: seed, workDir: dir).run(inputs: inputs) { r in
            print(String(format: "%d inputs, %.0f s, peak memory %.0f MB", r.inputs, Date().timeIntervalSince(start), r.peakResidentMB))
        }
        print(
            String(
                format: "%d inputs, no trap; %.0f s; peak resident memory %.0f MB", report.inputs, Date().timeIntervalSince(start),
                report.peakResidentMB))
        for loader in report.tried.keys.sorted() {
            let counts = "\(report.tried[loader]!) tried, \(report.rejected[loader] ?? 0) rejected with an error"
            print("  " + loader.padding(toLength: 12, withPad: " ", startingAt: 0) + counts)
        }
    }
}
