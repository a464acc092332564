import Foundation
import Imaging
import XCTest

@testable import Datasets

/// Checks the loaders on the real datasets in `../shared/data`; skipped on machines without them.
final class RealDataTests: XCTestCase {
    func root() throws -> URL {
        guard let url = sharedData() else {
            throw XCTSkip("../shared/data is absent: real-data checks skipped (set MEDGLIP_SHARED_DATA to run them)")
        }
        return url
    }

    func testVQARAD() throws {
        let rad = try root().appendingPathComponent("vqa-rad")
        let items = try VQARAD.read(root: rad, split: "train")
        XCTAssertEqual(items.count, 3064)
        XCTAssertEqual(items.filter { $0.answerType == .closed }.count, 1823)
        XCTAssertEqual(Set(items.map(\.imageName)).count, 314, "the train questions cover 314 of the 315 images")
        let (train, val) = VQARAD.carveValidation(items)
        XCTAssertTrue(Set(train.map(\.imageName)).isDisjoint(with: val.map(\.imageName)))
        XCTAssertEqual(Double(val.count) / 3064, 0.15, accuracy: 0.05)
        let byQuestion = VQARAD.carveValidation(items, by: .question)
        XCTAssertTrue(Set(byQuestion.val.map(\.imageName)).isSubset(of: byQuestion.train.map(\.imageName)))
        XCTAssertEqual(Double(byQuestion.val.count) / 3064, 0.15, accuracy: 0.02)
        let image = try ImageIO.read(items[0].imageURL)
        XCTAssertGreaterThan(image.width, 100)
        XCTAssertEqual(try Inspection.run(format: .vqaRAD, dataDir: rad).problems, [])
    }

    func testBCCD() throws {
        let bccd = try root().appendingPathComponent("bccd")
        let train = try VOC.read(root: bccd, split: "train"), val = try VOC.read(root: bccd, split: "val")
        XCTAssertEqual(train.samples.count, 205)
        XCTAssertEqual(val.samples.count, 87)
        XCTAssertEqual(Set(train.categories.map(\.name)), ["Platelets", "RBC", "WBC"])
        let image = try ImageIO.read(train.samples[0].imageURL)
        XCTAssertEqual([image.width, image.height, image.channels], [640, 480, 3])
        XCTAssertEqual([train.samples[0].width, train.samples[0].height], [640, 480])
    }

    func testIUXrayReports() throws {
        let ds = try R2Gen.read(try root().appendingPathComponent("iu-xray/annotation.json"), viewsPerStudy: 2)
        XCTAssertEqual([ds.train.count, ds.val.count, ds.test.count], [2069, 296, 590])
        XCTAssertTrue(ds.train.allSatisfy { !$0.report.isEmpty })
    }
}
