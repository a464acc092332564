import Foundation
import Tensor
import XCTest

@testable import Distributed

/// The parts of data-parallel training that do not need mpirun (the mpirun runs are in CLITests).
final class CommunicatorTests: XCTestCase {
    func testShardsCoverTheBatchInOrderWithSizesOneApart() {
        let parts = (0..<3).map { Communicator(rank: $0, size: 3, localSize: 3, usesMPI: false).shard(10) }
        XCTAssertEqual(parts, [0..<4, 4..<7, 7..<10])
        let items = Communicator(rank: 1, size: 3, localSize: 3, usesMPI: false).shard(["a", "b", "c", "d", "e"])
        XCTAssertEqual(items, ["c", "d"])
        XCTAssertEqual(Communicator(rank: 2, size: 3, localSize: 3, usesMPI: false).shard(2), 2..<2, "more ranks than items: an empty part")
    }

    func testBucketsHoldConsecutiveTensorsUpToTheLimit() {
        let limit = Communicator.bucketFloats
        let buckets = Communicator.buckets([limit / 2, limit / 2, 1, 3 * limit, 5])
        XCTAssertEqual(buckets.map(\.tensors), [0..<2, 2..<3, 3..<4, 4..<5])
        XCTAssertEqual(buckets.map(\.floats), [limit, 1, 3 * limit, 5])
        XCTAssertTrue(Communicator.buckets([]).isEmpty)
    }

    func testOneProcessLeavesEverythingAsItIs() throws {
        let one = Communicator.single
        var values: [Float] = [1, 2, 3]
        try one.sum(&values)
        XCTAssertEqual(values, [1, 2, 3])
        XCTAssertEqual(try one.allGather(["x", "y"]), ["x", "y"])
        XCTAssertEqual(try one.broadcast(["k": 4]), ["k": 4])
        let p = Tensor(shape: [2], data: [1, 2])
        p.grad = [0.5, -0.5]
        try one.sumGradients([p])
        XCTAssertEqual(p.grad, [0.5, -0.5])
        XCTAssertEqual(one.shard(7), 0..<7)
    }

    func testFingerprintsFollowTheBytes() throws {
        // FNV-1a 64 of "a" is af63dc4c8601ec8c (the published test vector).
        XCTAssertEqual(Fingerprint.of("a"), "af63dc4c8601ec8c")
        XCTAssertNotEqual(Fingerprint.of("--epochs 3"), Fingerprint.of("--epochs 4"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("a".utf8).write(to: file)
        XCTAssertEqual(try Fingerprint.of(file: file), "af63dc4c8601ec8c")
    }
}

extension CommunicatorTests {
    func testSplitGivesTheFirstPiecesTheRemainder() {
        XCTAssertEqual(Communicator.split(0..<5, into: 2), [0..<3, 3..<5])
        XCTAssertEqual(Communicator.split(10..<14, into: 4), [10..<11, 11..<12, 12..<13, 13..<14])
        XCTAssertEqual(Communicator.split(0..<1, into: 3), [0..<1, 1..<1, 1..<1])
    }
}

extension CommunicatorTests {
    func testPartsCutTheBatchIntoRanksTimesMicroBatches() {
        let rank1 = Communicator(rank: 1, size: 2, localSize: 2, usesMPI: false)
        XCTAssertEqual(rank1.parts(10, microBatches: 2), [6..<8, 8..<10])
        XCTAssertEqual(Communicator.single.parts(10, microBatches: 4), [0..<3, 3..<6, 6..<8, 8..<10], "one process: the 4 ranks' pieces")
        XCTAssertEqual(rank1.parts(1, microBatches: 1), [], "no piece for this rank")
    }
}
