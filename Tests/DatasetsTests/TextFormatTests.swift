import Foundation
import Imaging
import XCTest

@testable import Datasets

final class TextFormatTests: DatasetTestCase {
    func testR2GenAnnotation() throws {
        let url = try write(
            #"""
            {"train":[{"id":"CXR1_IM-0001","report":"The heart is normal. No effusion.","image_path":["CXR1_IM-0001/0.png",\#
            "CXR1_IM-0001/1.png"],"split":"train"}],
             "val":[{"id":42,"report":"Clear lungs.","image_path":["p10/s1/a.jpg"],"split":"val"}],
             "test":[]}
            """#, "iu/annotation.json")
        let ds = try R2Gen.read(url)
        XCTAssertEqual(ds.train[0].image_path.count, 2)
        XCTAssertEqual(ds.val[0].id, "42", "numeric ids are kept as text")
        XCTAssertEqual(ds.imageURLs(ds.train[0])[1].path, dir.appendingPathComponent("iu/images/CXR1_IM-0001/1.png").path)
        assertError(try R2Gen.read(url, viewsPerStudy: 2), names: "annotation.json", says: "val[0] (id 42) lists 1 images, expected 2 views")
        let noTest = try write(#"{"train":[],"val":[]}"#, "x/annotation.json")
        assertError(try R2Gen.read(noTest), names: "x/annotation.json", says: "missing split 'test'")
        let noReport = try write(#"{"train":[{"id":"a","image_path":["a.png"]}],"val":[],"test":[]}"#, "y/annotation.json")
        assertError(try R2Gen.read(noReport), names: "y/annotation.json", says: "missing key 'report' at train[0]")
    }

    func slakeRecord(_ qid: Int, lang: String = "en", type: String = "CLOSED", answer: String = "\"Yes\"") -> String {
        #"{"img_id":102,"img_name":"xmlab102/source.jpg","question":"Is this a CT?","answer":\#(answer),"q_lang":"\#(lang)","#
            + #""location":"Abdomen","modality":"CT","answer_type":"\#(type)","base_type":"vqa","content_type":"Modality","triple":["vhead","_","#
            + #""_"],"qid":\#(qid)}"#
    }

    func testSLAKELanguageFilterAndDetections() throws {
        try write("[\(slakeRecord(1)),\(slakeRecord(2, lang: "zh")),\(slakeRecord(3, type: "OPEN", answer: "3"))]", "slake/train.json")
        try write(#"[{"Liver": [10, 20, 30, 40]}, {"Spleen": [50.5, 60, 5, 6]}]"#, "slake/imgs/xmlab102/detection.json")
        let root = dir.appendingPathComponent("slake")
        let en = try SLAKE.read(root: root, split: "train")
        XCTAssertEqual(en.map(\.qid), ["1", "3"])
        XCTAssertEqual(en[1].answer, "3")
        XCTAssertEqual(en[1].answerType, .open)
        XCTAssertEqual(en[0].category, "Modality")
        XCTAssertEqual(en[0].imageURL.path, root.appendingPathComponent("imgs/xmlab102/source.jpg").path)
        XCTAssertEqual(try SLAKE.read(root: root, split: "train", language: nil).count, 3)
        let boxes = try SLAKE.detections(imageURL: en[0].imageURL)
        XCTAssertEqual(
            boxes,
            [
                LabeledBox(label: "Liver", box: Box(x1: 10, y1: 20, x2: 40, y2: 60)),
                LabeledBox(label: "Spleen", box: Box(x1: 50.5, y1: 60, x2: 55.5, y2: 66))
            ])
        try write("[\(slakeRecord(4, type: "MAYBE"))]", "slake/validate.json")
        assertError(try SLAKE.read(root: root, split: "val"), names: "validate.json", says: "unknown answer_type 'MAYBE'")
    }

    func testVQARADQuirksAndGroupedValidationSplit() throws {
        var records: [String] = []
        for i in 0..<60 {
            let answer = i % 7 == 0 ? "\(i % 5)" : "\"yes\""
            let type = i % 11 == 0 ? "CLOSED " : (i % 2 == 0 ? "OPEN" : "CLOSED")
            records.append(
                #"{"qid":\#(i),"image_name":"synpic\#(i / 3).jpg","image_organ":"CHEST","answer":\#(answer),"answer_type":"\#(type)","#
                    + #""question_type":"PRES","question":"q\#(i)?","phrase_type":"freeform"}"#
            )
        }
        try write("[" + records.joined(separator: ",") + "]", "rad/trainset.json")
        let items = try VQARAD.read(root: dir.appendingPathComponent("rad"), split: "train")
        XCTAssertEqual(items.count, 60)
        XCTAssertEqual(items[0].answer, "0", "numeric answers become text")
        XCTAssertEqual(items[11].answerType, .closed, "'CLOSED ' with a trailing space is closed")
        let (train, val) = VQARAD.carveValidation(items, fraction: 0.25, seed: 3)
        XCTAssertEqual(train.count + val.count, 60)
        XCTAssertEqual(Set(val.map(\.imageName)).count, 5, "25% of the 20 images")
        XCTAssertTrue(Set(train.map(\.imageName)).isDisjoint(with: val.map(\.imageName)), "no image on both sides")
        let again = VQARAD.carveValidation(items.reversed(), fraction: 0.25, seed: 3)
        XCTAssertEqual(Set(again.val.map(\.qid)), Set(val.map(\.qid)), "the split does not depend on record order")
        XCTAssertNotEqual(Set(VQARAD.carveValidation(items, fraction: 0.25, seed: 4).val.map(\.imageName)), Set(val.map(\.imageName)))

        let byQuestion = VQARAD.carveValidation(items, by: .question, fraction: 0.25, seed: 3)
        XCTAssertEqual(byQuestion.train.count + byQuestion.val.count, 60)
        XCTAssertTrue((1...15).contains(byQuestion.val.count), "at most 25% of the 60 questions, got \(byQuestion.val.count)")
        XCTAssertTrue(
            Set(byQuestion.val.map(\.imageName)).isSubset(of: byQuestion.train.map(\.imageName)), "every validation image is also trained on")
        XCTAssertEqual(
            Set(VQARAD.carveValidation(items.reversed(), by: .question, fraction: 0.25, seed: 3).val.map(\.qid)), Set(byQuestion.val.map(\.qid)))
        XCTAssertEqual(
            VQARAD.carveValidation(items, by: .question, fraction: 1, seed: 3).val.count, 0,
            "drawing every question leaves each image without training questions, so all go back")
        // Short numeric ids (VQA-RAD's) are drawn evenly: about 90% of ids 0-999 have three digits.
        let numbered = (0..<1000).map {
            VQAItem(qid: "\($0)", imageName: "img\($0 / 2).jpg", imageURL: dir, question: "q", answer: "yes", answerType: .closed, category: "PRES")
        }
        let drawn = VQARAD.carveValidation(numbered, by: .question, fraction: 0.2).val
        XCTAssertEqual(Double(drawn.filter { $0.qid.count == 3 }.count) / Double(drawn.count), 0.9, accuracy: 0.06, "\(drawn.count) drawn")
    }
}
