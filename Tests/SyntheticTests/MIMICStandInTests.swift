import Datasets
import Foundation
import Imaging
import XCTest

@testable import Synthetic

/// `medglip data simulate --format mimic-cxr`: R2Gen's MIMIC-CXR layout, links into a phantom pool.
final class MIMICStandInTests: XCTestCase {
    func testWritesR2GensMIMICLayoutWithLinksIntoThePool() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mimic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try MIMICStandIn.write(to: dir, trainStudies: 1_000, poolSize: 3, imageSize: 64, seed: 0)
        let dataset = try R2Gen.read(dir.appendingPathComponent("annotation.json"))
        // R2Gen's proportions: 2,130 val and 3,858 test per 270,790 train studies.
        XCTAssertEqual([dataset.train.count, dataset.val.count, dataset.test.count], [1_000, 8, 14])
        let first = dataset.train[0]
        XCTAssertTrue(first.image_path[0].hasPrefix("p10/p10000000/s50000000/"), first.image_path[0])
        XCTAssertTrue(first.image_path[0].hasSuffix(".jpg"))
        let link = dataset.imageURLs(first)[0]
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link.path)
        XCTAssertTrue(target.hasPrefix("../../../../pool/"), target)
        let image = try ImageIO.read(link)
        XCTAssertEqual([image.width, image.height], [64, 64])
        // Studies cycle through the pool: the fourth reuses the first one's report.
        XCTAssertEqual(dataset.train[3].report, first.report)
        XCTAssertNotEqual(dataset.train[1].report, "")
        XCTAssertEqual(Set((dataset.train + dataset.val + dataset.test).map(\.id)).count, 1_022, "ids are unique")
        XCTAssertThrowsError(try MIMICStandIn.write(to: dir, trainStudies: 10, poolSize: 1, imageSize: 64, seed: 0)) {
            XCTAssertTrue("\($0)".contains("already holds an annotation.json"), "\($0)")
        }
    }
}
