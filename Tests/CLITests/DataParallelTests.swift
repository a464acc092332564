import Foundation
import Tensor
import XCTest

@testable import CLI

/// Training under `mpirun` (the pattern of PyTorch's DDP tests): N ranks with the global batch
/// split N ways end with the weights of one process that computes the same N parts; one rank is
/// one process. (Against one process with the whole batch the weights agree only to round-off,
/// which R2Gen's relational memory amplifies: docs/experiments/scaling.md.)
final class DataParallelTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        guard let mpirun = Self.mpirun else { throw XCTSkip("mpirun is not installed (make deps installs Open MPI)") }
        _ = mpirun
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        setenv("MEDGLIP_CACHE", scratch.appendingPathComponent("cache").path, 1)
    }

    override func tearDownWithError() throws {
        unsetenv("MEDGLIP_CACHE")
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    static let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The folder with the package's executables (the test bundle is built beside them).
    static var executables: URL { Bundle.main.executableURL!.deletingLastPathComponent() }

    /// Runs `arguments` (under mpirun with `ranks`; 0: the arguments give mpirun's own -np), returning
    /// the exit status and all output.
    func run(_ arguments: [String], ranks: Int? = nil) throws -> (Int32, String) {
        let process = Process()
        var environment = ProcessInfo.processInfo.environment
        // Open MPI refuses root unless told; CI containers run as root.
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // Containers often forbid the cross-memory attach shared-memory transfers use by default.
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        process.environment = environment
        process.currentDirectoryURL = scratch
        if let ranks {
            process.executableURL = URL(fileURLWithPath: Self.mpirun!)
            process.arguments = ["--oversubscribe"] + (ranks > 0 ? ["-np", "\(ranks)"] : []) + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// `common` trained four ways: two parts in one process (`parts`), two ranks (`ranks`), one
    /// process (`alone`), one rank under mpirun (`rank`).
    func trainFourWays(_ common: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for (arguments, ranks) in [
            (common + ["--micro-batches", "2", "--out", "parts"], nil), (common + ["--out", "ranks"], 2),
            (common + ["--out", "alone"], nil), (common + ["--out", "rank"], 1)
        ] as [([String], Int?)] {
            let (status, output) = try run(arguments, ranks: ranks)
            XCTAssertEqual(status, 0, output, file: file, line: line)
        }
    }

    func weights(_ run: String) throws -> [String: Tensor] {
        try SafeTensors.read(scratch.appendingPathComponent("\(run)/last.safetensors")).tensors
    }

    /// Every tensor of `a` within `tolerance` of `b`'s (relative L2), except those `skipping` names.
    func assertSameWeights(
        _ a: String, _ b: String, tolerance: Float, skipping: (String) -> Bool = { _ in false }, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (x, y) = (try weights(a), try weights(b))
        XCTAssertEqual(Set(x.keys), Set(y.keys), file: file, line: line)
        for (name, t) in x where !skipping(name) {
            let u = try XCTUnwrap(y[name])
            let difference = zip(t.data, u.data).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let norm = max(u.data.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            XCTAssertLessThanOrEqual(difference / norm, tolerance, "\(name): \(a) against \(b)", file: file, line: line)
        }
    }

    func testMRGTrainRanksEqualMicroBatchesAndOneRankEqualsNoMPI() throws {
        let data = try ReportDataOptions.embeddedCorpus(count: 30)
        let train = Self.executables.appendingPathComponent("mrg-train").path
        // Three steps of pre-training and three of training (21 studies, global batch 8), no dropout.
        let common = [
            train, "--data-dir", data.path, "--epochs", "1", "--pretrain-epochs", "1", "--batch-size", "8", "--dropout", "0",
            "--threads", "1", "--registry", scratch.appendingPathComponent("registry.sqlite").path
        ]
        try trainFourWays(common)
        try assertSameWeights("ranks", "parts", tolerance: 1e-5)
        try assertSameWeights("rank", "alone", tolerance: 0)
        let (_, listing) = try run([Self.executables.appendingPathComponent("medglip").path, "runs", "list", "--registry", "registry.sqlite"])
        XCTAssertEqual(listing.components(separatedBy: "\n").filter { $0.contains("/ranks") }.count, 1, "rank 0 alone records the run: \(listing)")
    }

    func testVQATrainRanksEqualMicroBatchesAndTheWholeBatch() throws {
        let train = Self.executables.appendingPathComponent("vqa-train").path
        // 24 images, 4 per step: 5 steps of training (the embedded SLAKE-format corpus), no dropout.
        let common = [
            train, "--dataset", "slake", "--count", "24", "--epochs", "1", "--dropout", "0", "--images-per-batch", "4", "--threads", "1",
            "--registry", scratch.appendingPathComponent("registry.sqlite").path
        ]
        try trainFourWays(common)
        try assertSameWeights("ranks", "parts", tolerance: 1e-5)
        try assertSameWeights("rank", "alone", tolerance: 0)
        // Against the whole batch in one process: round-off only, except the attention key biases,
        // whose gradient is zero in exact arithmetic (softmax ignores a shift shared by all keys), so
        // Adam turns round-off into steps of the learning rate's size.
        try assertSameWeights("ranks", "alone", tolerance: 1e-5, skipping: { $0.hasSuffix("k_proj.bias") })
    }

    func testGroundTrainRanksEqualMicroBatchesAndTheWholeBatch() throws {
        let medglip = Self.executables.appendingPathComponent("medglip").path
        // 24 phantom X-rays (about 17 train after the split), 8 per step at 64 px, no augmentation.
        let common = [
            medglip, "ground-train", "--modality", "X-ray", "--count", "24", "--image-size", "64", "--epochs", "1", "--augment", "none",
            "--batch-size", "8", "--threads", "1", "--registry", scratch.appendingPathComponent("registry.sqlite").path
        ]
        try trainFourWays(common)
        try assertSameWeights("ranks", "parts", tolerance: 1e-5)
        try assertSameWeights("rank", "alone", tolerance: 0)
        try assertSameWeights("ranks", "alone", tolerance: 1e-5, skipping: { $0.hasSuffix("k_proj.bias") })
    }

    func testAFailingRankEndsTheJobNamingItselfAndTheFile() throws {
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.copyItem(at: try ReportDataOptions.embeddedCorpus(count: 30), to: data)
        let broken = data.appendingPathComponent("images/SYN00006/0.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00]).write(to: broken)
        let (status, output) = try run(
            [
                Self.executables.appendingPathComponent("mrg-train").path, "--data-dir", data.path, "--images", "stream", "--epochs", "1",
                "--pretrain-epochs", "0", "--batch-size", "8", "--threads", "1", "--registry", "r.sqlite", "--out", "failing"
            ], ranks: 2)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("of 2 failed: \(broken.path)"), output)
    }

    func testRanksStartedDifferentlyOrWithTooSmallABatchAreRefused() throws {
        let data = try ReportDataOptions.embeddedCorpus(count: 30)
        let train = Self.executables.appendingPathComponent("mrg-train").path
        let common = [train, "--data-dir", data.path, "--epochs", "1", "--pretrain-epochs", "0", "--threads", "1", "--registry", "r.sqlite"]
        let (status, output) = try run(common + ["--batch-size", "1", "--out", "small"], ranks: 2)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("--batch-size 1 is smaller than the 2 ranks"), output)
        // Two programs in one job (mpirun's colon syntax), one with another learning rate.
        let (mixed, message) = try run(
            ["-np", "1"] + common + ["--batch-size", "8", "--out", "mixed"] + [":", "-np", "1"] + common
                + ["--batch-size", "8", "--out", "mixed", "--lr", "0.01"], ranks: 0)
        XCTAssertNotEqual(mixed, 0)
        XCTAssertTrue(message.contains("the options differs from rank 0's on rank(s) 1"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("mixed/last.safetensors").path))
        // A command that does not train data-parallel refuses several ranks instead of running N times.
        let (evaluated, refusal) = try run([Self.executables.appendingPathComponent("mrg-eval").path, "--checkpoint", "mixed"], ranks: 2)
        XCTAssertNotEqual(evaluated, 0)
        XCTAssertTrue(refusal.contains("mrg-eval runs in one process"), refusal)
    }
}
