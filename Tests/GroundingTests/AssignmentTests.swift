import Imaging
import XCTest

@testable import Grounding

final class AssignmentTests: XCTestCase {
    func testGridPointsSitAtCellCentresPerLevel() {
        let grid = PointGrid(imageWidth: 64, imageHeight: 32)
        XCTAssertEqual(grid.levels.map(\.stride), [8, 16, 32])
        XCTAssertEqual(grid.levels.map { $0.width * $0.height }, [32, 8, 2])
        XCTAssertEqual(grid.count, 42)
        XCTAssertEqual(grid.points[0].x, 4); XCTAssertEqual(grid.points[9].y, 12)
        XCTAssertEqual(grid.level(of: 33).stride, 16)
        XCTAssertEqual(grid.anchor(0), Box(x1: -28, y1: -28, x2: 36, y2: 36), "side 8 x stride around the point")
    }

    func testBoxCodingRoundTripsAndCenterness() {
        let box = Box(x1: 10, y1: 20, x2: 50, y2: 44)
        let ltrb = BoxCoding.encode(box, point: (30, 32), stride: 8)
        XCTAssertEqual(ltrb, [2.5, 1.5, 2.5, 1.5])
        XCTAssertEqual(BoxCoding.decode(ltrb, point: (30, 32), stride: 8), box)
        XCTAssertEqual(BoxCoding.centerness(ltrb), 1, accuracy: 1e-6)
        XCTAssertEqual(BoxCoding.centerness(BoxCoding.encode(box, point: (20, 32), stride: 8)), (10.0 / 30.0).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(BoxCoding.centerness(BoxCoding.encode(box, point: (5, 32), stride: 8)), 0, "outside the box")
    }

    func testATSSPicksNearbyPointsInsideTheBoxAtTheRightLevel() {
        let grid = PointGrid(imageWidth: 128, imageHeight: 128)
        // A small box (24 px) should be served by the stride-8 level; a large one (100 px) by coarser levels.
        let small = Box(x1: 20, y1: 20, x2: 44, y2: 44), large = Box(x1: 14, y1: 14, x2: 114, y2: 114)
        let assigned = ATSSAssigner().assign(grid, boxes: [small, large])
        let smallPoints = assigned.indices.filter { assigned[$0] == 0 }, largePoints = assigned.indices.filter { assigned[$0] == 1 }
        XCTAssertFalse(smallPoints.isEmpty); XCTAssertFalse(largePoints.isEmpty)
        XCTAssertTrue(smallPoints.allSatisfy { grid.level(of: $0).stride == 8 }, "small box on the fine level")
        XCTAssertTrue(largePoints.allSatisfy { grid.level(of: $0).stride >= 16 }, "large box on coarse levels")
        for i in smallPoints { let p = grid.points[i]; XCTAssertTrue(p.x > 20 && p.x < 44 && p.y > 20 && p.y < 44) }
        XCTAssertLessThanOrEqual(smallPoints.count, 9 * 3)
        // Hand check: for the small box, candidates at stride 8 are the 9 points nearest (32, 32).
        XCTAssertTrue(smallPoints.contains(grid.levels[0].offset + 3 * 16 + 3), "the point at (28, 28) is positive")
        XCTAssertEqual(ATSSAssigner().assign(grid, boxes: []).compactMap { $0 }, [], "no boxes, all background")
    }

    /// A 12 px finding inside a 28 px organ at strides 4/8/16/32 (the renal cyst in its kidney):
    /// stride-4 anchors are 32 px, so under ATSS's rule the organ outbids the finding at every point
    /// both claim; FCOS's smallest-box rule gives those points to the finding.
    func testAmbiguousPointsGoToTheLargestIoUOrTheSmallestBox() {
        let grid = PointGrid(imageWidth: 64, imageHeight: 64, strides: [4, 8, 16, 32])
        let organ = Box(x1: 16, y1: 16, x2: 44, y2: 44), finding = Box(x1: 20, y1: 20, x2: 32, y2: 32)
        let byIoU = ATSSAssigner().assign(grid, boxes: [organ, finding])
        let byArea = ATSSAssigner(ambiguity: .smallestBox).assign(grid, boxes: [organ, finding])
        let shared = byIoU.indices.filter { byIoU[$0] != byArea[$0] }
        XCTAssertFalse(shared.isEmpty, "some points are claimed by both boxes")
        XCTAssertTrue(shared.allSatisfy { byIoU[$0] == 0 && byArea[$0] == 1 }, "the organ wins by IoU, the finding by area")
        // Hand check: the stride-4 point at (26, 26), the finding's centre, is 3 px from the organ's (30, 30) too.
        let centre = grid.levels[0].offset + 6 * 16 + 6
        XCTAssertEqual(grid.points[centre].x, 26); XCTAssertEqual(grid.points[centre].y, 26)
        XCTAssertEqual(byIoU[centre], 0); XCTAssertEqual(byArea[centre], 1)
        let findingPoints = { (a: [Int?]) in a.filter { $0 == 1 }.count }
        XCTAssertGreaterThan(findingPoints(byArea), findingPoints(byIoU))
    }

    func testNMSIsClasswiseAndOrdered() {
        let boxes = [
            Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 1, y1: 1, x2: 11, y2: 11), Box(x1: 1, y1: 1, x2: 11, y2: 11),
            Box(x1: 50, y1: 50, x2: 60, y2: 60)
        ]
        let kept = classwiseNMS(boxes: boxes, scores: [0.9, 0.8, 0.7, 0.95], classes: [0, 0, 1, 0])
        XCTAssertEqual(kept, [3, 0, 2], "box 1 overlaps box 0 of its class (IoU 0.68 > 0.6); box 2 is another class")
        XCTAssertEqual(classwiseNMS(boxes: boxes, scores: [0.9, 0.8, 0.7, 0.95], classes: [0, 0, 1, 0], limit: 2), [3, 0])
    }
}
