import XCTest
import Imaging
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

    func testNMSIsClasswiseAndOrdered() {
        let boxes = [Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 1, y1: 1, x2: 11, y2: 11), Box(x1: 1, y1: 1, x2: 11, y2: 11), Box(x1: 50, y1: 50, x2: 60, y2: 60)]
        let kept = classwiseNMS(boxes: boxes, scores: [0.9, 0.8, 0.7, 0.95], classes: [0, 0, 1, 0])
        XCTAssertEqual(kept, [3, 0, 2], "box 1 overlaps box 0 of its class (IoU 0.68 > 0.6); box 2 is another class")
        XCTAssertEqual(classwiseNMS(boxes: boxes, scores: [0.9, 0.8, 0.7, 0.95], classes: [0, 0, 1, 0], limit: 2), [3, 0])
    }
}
