import Foundation
import XCTest

@testable import Metrics

/// COCOEval against pycocotools' COCOeval on the fixtures in Fixtures/coco (see its README).
final class COCOEvalTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/coco")

    /// A fixture case in its compact form: annotation rows [id, image_id, category_id, x, y, w, h, area,
    /// iscrowd (, ignore)], detection rows [image_id, category_id, x, y, w, h, score].
    struct Case: Decodable {
        var name: String
        var images: [Int]
        var categories: [Category]
        var annotations: [[Double]]
        var detections: [[Double]]
        var stats: [Double]
        var per_category: [String: Double]
        var per_category_ap50: [String: Double]

        struct Category: Decodable {
            var id: Int, name: String
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                id = try c.decode(Int.self); name = try c.decode(String.self)
            }
        }

        var groundTruth: COCOEvalGroundTruth {
            COCOEvalGroundTruth(
                images: images.map { .init(id: $0) },
                annotations: annotations.map { r in
                    .init(id: Int(r[0]), imageID: Int(r[1]), categoryID: Int(r[2]), bbox: Array(r[3..<7]), area: r[7], iscrowd: Int(r[8]))
                },
                categories: categories.map { .init(id: $0.id, name: $0.name) })
        }
        var detectionList: [COCOEvalDetection] {
            detections.map { .init(imageID: Int($0[0]), categoryID: Int($0[1]), bbox: Array($0[2..<6]), score: $0[6]) }
        }
    }

    struct FixtureFile: Decodable { var cases: [Case] }

    func load(_ name: String) throws -> [Case] {
        try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name))).cases
    }

    /// Compares every stat and per-category AP; returns the largest deviation seen.
    @discardableResult
    func check(_ c: Case, threads: Int? = nil, file: StaticString = #filePath, line: UInt = #line) -> Double {
        let result = COCOEval.evaluate(c.groundTruth, c.detectionList, threads: threads)
        var worst = zip(result.stats, c.stats).map { abs($0 - $1) }.max() ?? 0
        for category in result.perCategory {
            worst = max(
                worst, abs(category.ap - (c.per_category[String(category.id)] ?? .infinity)),
                abs(category.ap50 - (c.per_category_ap50[String(category.id)] ?? .infinity)))
        }
        for (i, name) in COCOEvalResult.statNames.enumerated() {
            XCTAssertEqual(result.stats[i], c.stats[i], accuracy: 1e-6, "\(c.name): \(name)", file: file, line: line)
        }
        XCTAssertEqual(result.perCategory.count, c.per_category.count, "\(c.name): categories", file: file, line: line)
        for category in result.perCategory {
            guard let expected = c.per_category[String(category.id)] else {
                XCTFail("\(c.name): category \(category.id)", file: file, line: line); continue
            }
            XCTAssertEqual(category.ap, expected, accuracy: 1e-6, "\(c.name): AP of category \(category.id)", file: file, line: line)
            XCTAssertEqual(
                category.ap50, c.per_category_ap50[String(category.id)] ?? .infinity, accuracy: 1e-6,
                "\(c.name): AP50 of category \(category.id)", file: file, line: line)
        }
        return worst
    }

    func testEdgeCasesMatchPycocotools() throws {
        let cases = try load("edge_cases.json")
        XCTAssertGreaterThanOrEqual(cases.count, 14)
        let worst = cases.map { check($0) }.max()!
        print("COCOEval edge cases: \(cases.count), largest deviation from pycocotools \(worst)")
    }

    func testRandomCasesMatchPycocotools() throws {
        let cases = try load("random.json")
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        let worst = cases.map { check($0) }.max()!
        print("COCOEval random cases: \(cases.count), largest deviation from pycocotools \(worst)")
    }

    /// Categories are evaluated in parallel; the thread count must not change a single bit.
    func testThreadCountDoesNotChangeResults() throws {
        for c in try load("random.json") {
            let one = COCOEval.evaluate(c.groundTruth, c.detectionList, threads: 1)
            let four = COCOEval.evaluate(c.groundTruth, c.detectionList, threads: 4)
            XCTAssertEqual(one, four, c.name)
        }
    }

    func testParameterGridsMatchNumpy() {
        // Values numpy's linspace gives (printed with repr): the ninth IoU threshold is not 0.9.
        XCTAssertEqual(COCOEvalParameters.iouThresholds, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95])
        XCTAssertEqual(COCOEvalParameters.recallThresholds.count, 101)
        XCTAssertEqual(COCOEvalParameters.recallThresholds[7], 0.07)
        XCTAssertEqual(COCOEvalParameters.recallThresholds[100], 1.0)
    }

    func testBoxIoUAsMaskApi() {
        let g: [Double] = [0, 0, 10, 10]
        XCTAssertEqual(cocoBoxIoU([0, 0, 5, 10], g[...], crowd: false), 0.5)
        XCTAssertEqual(cocoBoxIoU([10, 0, 5, 5], g[...], crowd: false), 0)  // touching edges: no overlap
        XCTAssertEqual(cocoBoxIoU([5, 5, 10, 10], g[...], crowd: false), 25.0 / 175.0)
        XCTAssertEqual(cocoBoxIoU([5, 5, 10, 10], g[...], crowd: true), 25.0 / 100.0)  // crowd: over the detection's area
    }

    // MARK: Reading files

    func write(_ text: String, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-coco-\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    let gtText = """
        {"images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}, {"id": 2}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0, "segmentation": []},
                         {"id": 2, "image_id": 2, "category_id": 3, "bbox": [0, 0, 50, 40]}],
         "categories": [{"id": 3, "name": "nodule", "supercategory": "lesion"}, {"id": 4, "name": "effusion"}]}
        """

    func testLoadsFilesAndEvaluates() throws {
        let gt = try write(gtText, "gt.json")
        let dt = try write(
            #"[{"image_id": 1, "category_id": 3, "bbox": [10, 10, 20, 20], "score": 0.9}, {"image_id": 2, "category_id": 3, "bbox": [0, 0, 50, "#
                + #"40], "score": 0.8}, {"image_id": 2, "category_id": 9, "bbox": [0, 0, 5, 5], "score": 0.1}]"#,
            "dt.json")
        let inputs = try COCOEvalInputs.load(groundTruth: gt, detections: dt)
        XCTAssertEqual(inputs.warnings.count, 1)
        XCTAssertTrue(inputs.warnings[0].contains("1 detection(s) with category ids not in the ground truth (9)"), inputs.warnings[0])
        let result = COCOEval.evaluate(inputs.groundTruth, inputs.detections)
        // Perfect detections score 1 / (1 + np.spacing(1)) in pycocotools, a hair under 1.
        XCTAssertEqual(result[stat: "AP"]!, 1, accuracy: 1e-12)
        XCTAssertEqual(result.perCategory.map(\.name), ["nodule", "effusion"])
        XCTAssertEqual(result.perCategory[0].ap, 1, accuracy: 1e-12)
        XCTAssertEqual(result.perCategory[1].ap, -1)
        // A missing area falls back to w*h (2000: medium), a missing iscrowd to 0.
        XCTAssertEqual(result[stat: "APm"]!, 1, accuracy: 1e-12)
        XCTAssertEqual(result[stat: "APl"], -1)
    }

    func testMalformedInputsNameFileAndProblem() throws {
        let gt = try write(gtText, "gt.json")
        func problem(gt gtText: String? = nil, dt dtText: String) throws -> String {
            let gtURL = try gtText.map { try write($0, "gt2.json") } ?? gt
            let dtURL = try write(dtText, "dt.json")
            do {
                _ = try COCOEvalInputs.load(groundTruth: gtURL, detections: dtURL)
                return "no error"
            } catch let error as ScoreInputError {
                return "\(error)"
            }
        }
        let ok = #"[{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5}]"#
        var p = try problem(dt: #"[{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3], "score": 0.5}]"#)
        XCTAssertTrue(p.hasSuffix("dt.json: [0]: bbox must be 4 finite numbers [x, y, w, h], got [1.0, 2.0, 3.0]"), p)
        p = try problem(dt: #"[{"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5}]"#)
        XCTAssertTrue(p.contains("dt.json: [0]: image_id 7 is not an image of the ground truth"), p)
        p = try problem(dt: #"[{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}]"#)
        XCTAssertTrue(p.hasSuffix("dt.json: [0]: missing key 'score'"), p)
        p = try problem(dt: #"[{"image_id": 1, "category_id": 3, "bbox": [1, 2, "x", 4], "score": 0.5}]"#)
        XCTAssertTrue(p.hasSuffix("dt.json: [0].bbox[2]: expected a number"), p)
        p = try problem(dt: #"{"annotations": []}"#)
        XCTAssertTrue(p.hasSuffix("dt.json: expected a list of detections [{image_id, category_id, bbox, score}]"), p)
        p = try problem(dt: "[{")
        XCTAssertTrue(p.hasSuffix("dt.json: malformed JSON"), p)
        p = try problem(gt: #"{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3, 4]}], "categories": []}"#, dt: ok)
        XCTAssertTrue(p.hasSuffix("gt2.json: annotations[0]: missing key 'category_id'"), p)
        p = try problem(gt: #"{"images": [{"id": 1}], "categories": []}"#, dt: ok)
        XCTAssertTrue(p.hasSuffix("gt2.json: top level: missing key 'annotations'"), p)
        p = try problem(
            gt:
                #"{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}, {"id": 1, "#
                + #""image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}], "categories": [{"id": 3, "name": "a"}]}"#,
            dt: ok)
        XCTAssertTrue(p.contains("gt2.json: annotations[1] (id 1): annotation id 1 appears twice"), p)
        XCTAssertEqual(try problem(dt: ok), "no error")
        XCTAssertEqual(try problem(dt: "[]"), "no error")
    }
}
