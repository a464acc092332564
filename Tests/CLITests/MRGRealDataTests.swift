import Foundation
import ReportGen
import Tensor
import XCTest

@testable import CLI

/// `mrg-train --data-dir`: real data gets early stopping and epochs that follow its size by
/// default, recorded in config.json.
final class MRGRealDataTests: XCTestCase {
    func testEpochsFollowTheTrainingStudies() {
        XCTAssertEqual(ReportTrainingOptions.epochs(forTrainingStudies: 2_069).0, 14)
        XCTAssertEqual(ReportTrainingOptions.epochs(forTrainingStudies: 1_000).0, 15, "at most 15")
        XCTAssertEqual(ReportTrainingOptions.epochs(forTrainingStudies: 270_790).0, 3, "at least 3")
        XCTAssertEqual(ReportTrainingOptions.epochs(forTrainingStudies: 6_000).0, 5)
    }

    func testADataFolderGetsPatienceRecorded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mrgreal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("MEDGLIP_CACHE", dir.appendingPathComponent("cache").path, 1)
        defer { unsetenv("MEDGLIP_CACHE") }
        // The embedded corpus's folder is in R2Gen's layout: given as --data-dir, it is data like any other.
        let data = try ReportDataOptions.embeddedCorpus(count: 30)
        let registry = ["--registry", dir.appendingPathComponent("registry.sqlite").path]
        let common = ["--epochs", "1", "--pretrain-epochs", "0", "--batch-size", "8"] + registry
        try MRGTrain.parse(common + ["--data-dir", data.path, "--out", dir.appendingPathComponent("real").path]).run()
        // Without --epochs the real data's size picks them (24 training studies: the 15 maximum).
        let chosen = ["--pretrain-epochs", "0", "--batch-size", "8"] + registry + ["--data-dir", data.path]
        try MRGTrain.parse(chosen + ["--out", dir.appendingPathComponent("chosen").path]).run()
        try MRGTrain.parse(common + ["--count", "30", "--out", dir.appendingPathComponent("embedded").path]).run()
        func patience(_ run: String) throws -> Int? {
            try JSONDecoder().decode(ReportRunConfig.self, from: Data(contentsOf: dir.appendingPathComponent("\(run)/config.json"))).patience
        }
        XCTAssertEqual(try patience("real"), 5)
        XCTAssertNil(try patience("embedded"), "the embedded corpus trains every epoch")
        func epochs(_ run: String) throws -> Int? {
            try JSONDecoder().decode(ReportRunConfig.self, from: Data(contentsOf: dir.appendingPathComponent("\(run)/config.json"))).epochs
        }
        XCTAssertEqual(try epochs("chosen"), 15)
        XCTAssertNil(try epochs("real"), "--epochs given: nothing chosen")
    }
}

extension MRGRealDataTests {
    /// Streamed studies (decoded by the prefetcher's workers when their batch comes) train exactly
    /// as studies decoded up front.
    func testStreamingTrainsWhatDecodingUpFrontTrains() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mrgstream-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("MEDGLIP_CACHE", dir.appendingPathComponent("cache").path, 1)
        defer { unsetenv("MEDGLIP_CACHE") }
        let data = try ReportDataOptions.embeddedCorpus(count: 30)
        let common = [
            "--data-dir", data.path, "--epochs", "1", "--pretrain-epochs", "1", "--batch-size", "8", "--dropout", "0",
            "--registry", dir.appendingPathComponent("registry.sqlite").path
        ]
        for mode in ["memory", "stream"] {
            try MRGTrain.parse(common + ["--images", mode, "--out", dir.appendingPathComponent(mode).path]).run()
        }
        let weights = try ["memory", "stream"].map { try SafeTensors.read(dir.appendingPathComponent("\($0)/last.safetensors")).tensors }
        XCTAssertEqual(Set(weights[0].keys), Set(weights[1].keys))
        for (name, t) in weights[0] { XCTAssertEqual(t.data, weights[1][name]?.data, name) }
    }
}
