import Foundation
import Imaging
import XCTest

@testable import Datasets

final class DetectionFormatTests: DatasetTestCase {
    func testCOCORoundTripKeepsBoxesCategoriesAndModality() throws {
        let split = GroundingSplit(
            samples: [
                GroundingSample(
                    imageID: 7, imageURL: dir.appendingPathComponent("imgs/a.png"), width: 64, height: 48, modality: "CT",
                    regions: [
                        LabeledBox(label: "liver", box: Box(x1: 1, y1: 2, x2: 11, y2: 22)),
                        LabeledBox(label: "tumor", box: Box(x1: 5, y1: 5, x2: 8, y2: 9))
                    ]),
                GroundingSample(imageID: 9, imageURL: dir.appendingPathComponent("imgs/b.png"), width: 64, height: 48, modality: nil, regions: [])
            ], categories: [Category(id: 1, name: "liver"), Category(id: 2, name: "tumor", parent: "liver")])
        let url = dir.appendingPathComponent("train.json")
        try COCO.write(split, to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"file_name\" : \"imgs/a.png\""), "paths are relative to the images root")
        XCTAssertTrue(text.contains("\"bbox\" : [\n        5,\n        5,\n        3,\n        4\n      ]"), "bbox is written as [x, y, w, h]")
        let back = try COCO.read(url)
        XCTAssertEqual(back.samples, split.samples)
        XCTAssertEqual(back.categories, split.categories)

        let dets = [COCODetection(imageID: 7, categoryID: 2, box: Box(x1: 4, y1: 4, x2: 9, y2: 10), score: 0.5)]
        let detURL = dir.appendingPathComponent("dets.json")
        try COCO.writeDetections(dets, to: detURL)
        XCTAssertEqual(try COCO.readDetections(detURL), dets)
        XCTAssertEqual(dets[0].bbox, [4, 4, 5, 6])
    }

    func testCOCOErrorsNameFileAndPlace() throws {
        let malformed = try write("{\"images\": [", "bad.json")
        assertError(try COCO.read(malformed), names: "bad.json", says: "malformed JSON")
        let noBBox = try write(
            #"{"images":[{"id":1,"file_name":"a.png","width":4,"height":4}],"annotations":[{"id":1,"image_id":1,"category_id":1}],"#
                + #""categories":[{"id":1,"name":"x"}]}"#,
            "nobbox.json")
        assertError(try COCO.read(noBBox), names: "nobbox.json", says: "missing key 'bbox' at annotations[0]")
        let shortBox = try write(
            #"{"images":[{"id":1,"file_name":"a.png","width":4,"height":4}],"annotations":[{"id":3,"image_id":1,"category_id":1,"bbox":[1,2,"#
                + #"3]}],"categories":[{"id":1,"name":"x"}]}"#,
            "short.json")
        assertError(try COCO.read(shortBox), names: "short.json", says: "bbox must be 4 finite numbers")
        let unknownCat = try write(
            #"{"images":[{"id":1,"file_name":"a.png","width":4,"height":4}],"annotations":[{"id":3,"image_id":1,"category_id":5,"bbox":[1,2,3,"#
                + #"4]}],"categories":[{"id":1,"name":"x"}]}"#,
            "cat.json")
        assertError(try COCO.read(unknownCat), names: "cat.json", says: "unknown category_id 5")
        assertError(try COCO.read(dir.appendingPathComponent("absent.json")), names: "absent.json", says: "no such file")
        let outside = try write(
            #"{"images":[{"id":1,"file_name":"a.png","width":40,"height":30}],"annotations":[{"id":8,"image_id":1,"category_id":1,"bbox":[30,10,"#
                + #"20,5]}],"categories":[{"id":1,"name":"x"}]}"#,
            "outside.json")
        assertError(try COCO.read(outside), names: "outside.json", says: "annotation 8: box [30.0, 10.0, 20.0, 5.0] lies outside the 40x30 image")
    }

    func vocXML(_ file: String, objects: [(String, Int, Int, Int, Int)], width: Int = 640, height: Int = 480) -> String {
        let objs = objects.map { o in
            "<object><name>\(o.0)</name><difficult>0</difficult><bndbox><xmin>\(o.1)</xmin><ymin>\(o.2)</ymin><xmax>\(o.3)</xmax><ymax>"
                + "\(o.4)</ymax></bndbox></object>"
        }.joined()
        return
            "<annotation><folder>JPEGImages</folder><filename>\(file)</filename><size><width>\(width)</width><height>\(height)</height><depth>"
            + "3</depth></size>\(objs)</annotation>"
    }

    func testVOCReadsSplitsAndConvertsOneBasedBoxes() throws {
        try write(vocXML("img1.jpg", objects: [("RBC", 1, 1, 10, 20), ("WBC", 100, 50, 200, 150)]), "Annotations/img1.xml")
        try write(vocXML("img2.jpg", objects: [("RBC", 5, 6, 7, 8)]), "Annotations/img2.xml")
        try write("img1\nimg2\n", "ImageSets/Main/train.txt")
        let split = try VOC.read(root: dir, split: "train")
        XCTAssertEqual(split.samples.count, 2)
        XCTAssertEqual(split.categories.map(\.name), ["RBC", "WBC"])
        XCTAssertEqual(split.samples[0].regions[0].box, Box(x1: 0, y1: 0, x2: 10, y2: 20), "1-based inclusive pixels become [0, 10)")
        XCTAssertEqual(split.samples[0].imageURL.lastPathComponent, "img1.jpg")
        XCTAssertEqual(split.samples[0].width, 640)
    }

    func testVOCErrors() throws {
        let broken = try write("<annotation><filename>x.jpg</filename><size>", "Annotations/broken.xml")
        assertError(try VOC.parse(broken), names: "broken.xml", says: "malformed XML")
        let noSize = try write("<annotation><filename>x.jpg</filename></annotation>", "Annotations/nosize.xml")
        assertError(try VOC.parse(noSize), names: "nosize.xml", says: "missing or non-numeric <size/width>")
        assertError(try VOC.read(root: dir, split: "test"), names: "test.txt", says: "no such file")
        let outside = try write(vocXML("o.jpg", objects: [("RBC", 600, 400, 700, 470)]), "Annotations/outside.xml")
        assertError(
            try VOC.parse(outside), names: "outside.xml", says: "object 1 (RBC): box [599.0, 399.0, 101.0, 71.0] lies outside the 640x480 image")
        // Found by `medglip fuzz`: both trapped before (FoundationXML on a non-UTF-8 element name; Int(1e308)).
        let latin1 = dir.appendingPathComponent("Annotations/latin1.xml")
        try Data([0x3C, 0x61, 0xD2, 0x6F, 0x3E, 0x3C, 0x2F, 0x61, 0xD2, 0x6F, 0x3E]).write(to: latin1)
        assertError(try VOC.parse(latin1), names: "latin1.xml", says: "not UTF-8 text")
        let huge = try write(
            vocXML("h.jpg", objects: [("RBC", 1, 1, 5, 5)]).replacingOccurrences(of: "<xmax>5</xmax>", with: "<xmax>1e308</xmax>"),
            "Annotations/huge.xml")
        assertError(try VOC.parse(huge), names: "huge.xml", says: "<bndbox/xmax> 1e308 is not a pixel coordinate")
    }

    func testMasksToGroundingComponentsAreaRuleSynonymsAndHierarchy() throws {
        // 40x40 label mask: label 1 ("Left Kidney") in two blobs, label 2 ("tumour") big, and a
        // 3x3 speck of label 2 (9 px < 1.5% of 1600 = 24 px) that must be dropped.
        var mask = Image(width: 40, height: 40, channels: 1)
        func fill(_ v: Float, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) { for y in y0..<y1 { for x in x0..<x1 { mask[0, y, x] = v / 255 } } }
        fill(1, 2, 2, 10, 10); fill(1, 30, 30, 38, 39); fill(2, 12, 2, 25, 20); fill(2, 2, 30, 5, 33)
        try writeImage("images/case1.png", width: 40, height: 40)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("masks"), withIntermediateDirectories: true)
        try ImageIO.writePNG(mask, to: dir.appendingPathComponent("masks/case1.png"))
        // Binary masks for a second image.
        try writeImage("images/case2.png", width: 20, height: 10)
        var liver = Image(width: 20, height: 10, channels: 1)
        for y in 1..<9 { for x in 3..<17 { liver[0, y, x] = 1 } }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("masks/case2"), withIntermediateDirectories: true)
        try ImageIO.writePNG(liver, to: dir.appendingPathComponent("masks/case2/Liver.png"))
        try writeImage("images/nomask.png")

        var builder = MaskToGrounding()
        builder.labelNames = [1: "Left Kidney", 2: "tumour"]
        builder.synonyms = ["left kidney": "kidney", "tumour": "tumor"]
        builder.hierarchy = ["tumor": "liver"]
        builder.modality = "CT"
        let (split, missing) = try builder.build(imagesDir: dir.appendingPathComponent("images"), masksDir: dir.appendingPathComponent("masks"))
        XCTAssertEqual(missing, ["nomask.png"])
        let case1 = split.samples[0].regions
        XCTAssertEqual(case1.filter { $0.label == "kidney" }.map(\.box), [Box(x1: 2, y1: 2, x2: 10, y2: 10), Box(x1: 30, y1: 30, x2: 38, y2: 39)])
        XCTAssertEqual(case1.filter { $0.label == "tumor" }.map(\.box), [Box(x1: 12, y1: 2, x2: 25, y2: 20)], "the 9-pixel speck is dropped")
        XCTAssertEqual(split.samples[1].regions, [LabeledBox(label: "liver", box: Box(x1: 3, y1: 1, x2: 17, y2: 9))])
        XCTAssertEqual(split.categories.first { $0.name == "tumor" }?.parent, "liver")
        XCTAssertEqual(split.samples.map(\.modality), ["CT", "CT"])

        builder.grouping = .label
        let perLabel = try builder.build(imagesDir: dir.appendingPathComponent("images"), masksDir: dir.appendingPathComponent("masks")).split
        XCTAssertEqual(perLabel.samples[0].regions.filter { $0.label == "kidney" }.map(\.box), [Box(x1: 2, y1: 2, x2: 38, y2: 39)])

        builder.labelNames = [1: "kidney"]
        assertError(
            try builder.build(imagesDir: dir.appendingPathComponent("images"), masksDir: dir.appendingPathComponent("masks")),
            names: "case1.png", says: "pixel value 2 has no name")
    }

    func testInspectionListsEveryProblem() throws {
        try writeImage("a.png", width: 50, height: 40)
        try write(
            #"""
            {"images":[{"id":1,"file_name":"a.png","width":50,"height":40,"modality":"MRI"},{"id":2,"file_name":"gone.png","width":50,"height":40}],
             "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[40,30,20,5]},{"id":2,"image_id":1,"category_id":1,"bbox":[1,1,5,5]},
                            {"id":3,"image_id":2,"category_id":9,"bbox":[1,1,5,5]},{"id":4,"image_id":1,"category_id":1,"bbox":[3,3,0,4]}],
             "categories":[{"id":1,"name":"lesion"}]}
            """#, "val.json")
        let report = try Inspection.run(format: .coco, dataDir: dir)
        XCTAssertEqual(report.problems.count, 4, report.problems.joined(separator: "\n"))
        XCTAssertTrue(report.problems.contains { $0.contains("gone.png: missing image file") })
        XCTAssertTrue(report.problems.contains { $0.contains("annotation 1 on image 1: box outside the image") })
        XCTAssertTrue(report.problems.contains { $0.contains("annotation 3: unknown category_id 9") })
        XCTAssertTrue(report.problems.contains { $0.contains("annotation 4: empty or inverted box") })
        XCTAssertEqual(report.counts.first { $0.section == "images per modality" }?.rows.map(\.0), ["MRI", "unknown"])
    }

    /// Unreadable images (a 0-byte file, a truncated PNG) and records missing keys are each a listed
    /// problem, in every format, and the inspection goes on past them.
    func testInspectionDecodesEveryImageAndListsEveryBadRecord() throws {
        try writeImage("ok.png", width: 8, height: 8)
        try Data().write(to: dir.appendingPathComponent("empty.png"))
        let good = try Data(contentsOf: dir.appendingPathComponent("ok.png"))
        try good.prefix(good.count / 2).write(to: dir.appendingPathComponent("cut.png"))
        try write(
            #"""
            {"images":[{"id":1,"file_name":"ok.png","width":8,"height":8},{"id":2,"file_name":"empty.png","width":8,"height":8},
                       {"id":3,"file_name":"cut.png","width":8,"height":8},{"id":4,"width":8,"height":8},{"file_name":"x.png"}],
             "annotations":[], "categories":[{"id":1,"name":"lesion"}]}
            """#, "train.json")
        let coco = try Inspection.run(format: .coco, dataDir: dir)
        let listed = coco.problems.joined(separator: "\n")
        XCTAssertEqual(coco.imagesDecoded, 3)
        XCTAssertTrue(coco.problems.contains { $0.contains("empty.png: unreadable image") }, listed)
        XCTAssertTrue(coco.problems.contains { $0.contains("cut.png: unreadable image") }, listed)
        XCTAssertTrue(coco.problems.contains { $0 == "train.json: images[3]: missing key 'file_name'" }, listed)
        XCTAssertTrue(coco.problems.contains { $0 == "train.json: images[4]: missing key 'id'" }, listed)
        XCTAssertEqual(coco.problems.count, 4, listed)

        let slake = dir.appendingPathComponent("slake")
        try FileManager.default.createDirectory(at: slake.appendingPathComponent("imgs"), withIntermediateDirectories: true)
        try Data().write(to: slake.appendingPathComponent("imgs/zero.jpg"))
        try Data(
            #"""
            [{"qid": 1, "img_id": 1, "img_name": "zero.jpg", "question": "Is it?", "answer": "Yes", "answer_type": "CLOSED", "q_lang": "en"},
             {"qid": 2, "img_id": 1, "img_name": "zero.jpg", "answer": "No", "answer_type": "CLOSED", "q_lang": "en"},
             {"qid": 3, "img_id": 1, "img_name": "zero.jpg", "question": "Where?", "answer_type": "OPEN", "q_lang": "en"}]
            """#.utf8
        ).write(to: slake.appendingPathComponent("train.json"))
        let report = try Inspection.run(format: .slake, dataDir: slake)
        XCTAssertEqual(report.problems.count, 3, report.problems.joined(separator: "\n"))
        XCTAssertTrue(
            report.problems.contains { $0.hasPrefix("train.json qid 1 zero.jpg: unreadable image") },
            report.problems.joined(separator: "\n"))
        XCTAssertTrue(report.problems.contains("train.json: [1]: missing key 'question'"), report.problems.joined(separator: "\n"))
        XCTAssertTrue(report.problems.contains("train.json: [2]: missing key 'answer'"), report.problems.joined(separator: "\n"))
    }
}
