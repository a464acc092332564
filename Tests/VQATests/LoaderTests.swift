import Foundation
import XCTest
import Datasets
@testable import VQA

/// The SLAKE and VQA-RAD loaders on small files in the real formats, and what happens to bad input.
final class LoaderTests: VQATestCase {
    func slakeRecord(_ qid: Int, image: String, answer: String, type: String = "OPEN", lang: String = "en") -> String {
        #"{"img_id": 1, "img_name": "\#(image)", "question": "What organ is this?", "answer": \#(answer), "q_lang": "\#(lang)", "location": "Abdomen", "modality": "CT", "answer_type": "\#(type)", "base_type": "vqa", "content_type": "Organ", "triple": ["vhead", "_", "_"], "qid": \#(qid)}"#
    }

    /// A question whose image is missing is skipped with its qid and path; the rest load, one image decode per image.
    func testSLAKEMissingImageIsListedAndCounted() throws {
        try writeImage("imgs/xmlab1/source.jpg", left: 0.2, right: 0.8)
        let records = [slakeRecord(10, image: "xmlab1/source.jpg", answer: "\"Liver\""), slakeRecord(11, image: "xmlab1/source.jpg", answer: "\"Yes\"", type: "CLOSED"),
                       slakeRecord(12, image: "xmlab2/source.jpg", answer: "\"Spleen\""), slakeRecord(13, image: "xmlab1/source.jpg", answer: "\"肝\"", lang: "zh")]
        for f in ["train.json", "validate.json", "test.json"] { try write("[" + records.joined(separator: ",") + "]", f) }
        let splits = try VQASplits.read(.slake, root: dir)
        XCTAssertEqual(splits.train.map(\.qid), ["10", "11", "12"], "English questions only")
        let system = Self.tinySystem(head: .generate, questions: splits.train.map(\.question), answers: splits.train.map(\.answer))
        var lines: [String] = []
        var loader = system.loader
        loader.log = { lines.append($0) }
        let set = loader.load(splits.train, split: "train")
        XCTAssertEqual(set.examples.map(\.item.qid), ["10", "11"])
        XCTAssertEqual(set.images.count, 1)
        XCTAssertEqual(set.skipped.count, 1)
        XCTAssertTrue(set.skipped[0].contains("qid 12") && set.skipped[0].contains("imgs/xmlab2/source.jpg") && set.skipped[0].contains("no such file"), set.skipped[0])
        XCTAssertTrue(lines.contains("train: skipped 1 of 3 questions (listed above)"), "\(lines)")
        XCTAssertEqual(set.examples[1].item.answerType, .closed)
        XCTAssertEqual(set.examples[0].answer, system.vocabulary.encode("liver") + [VQAVocabulary.endOfAnswer])
    }

    /// VQA-RAD: numeric answers are read as text, "CLOSED " is closed, validation is carved by image.
    func testVQARADNumbersTrailingSpacesAndValidationByImage() throws {
        var records: [String] = []
        for i in 0..<40 {
            let answer = i % 4 == 0 ? "\(i % 3)" : "\"Yes\""
            let type = i % 4 == 0 ? "OPEN" : (i % 5 == 0 ? "CLOSED " : "CLOSED")
            records.append(#"{"qid": \#(i), "image_name": "synpic\#(i / 4).jpg", "image_organ": "HEAD", "answer": \#(answer), "answer_type": "\#(type)", "question_type": "COUNT", "question": "How many?", "phrase_type": "freeform"}"#)
        }
        try write("[" + records.joined(separator: ",") + "]", "trainset.json")
        let splits = try VQASplits.read(.vqaRad, root: dir)
        XCTAssertEqual(splits.train.count + splits.val.count, 40)
        XCTAssertEqual(splits.val.count, 8, "15% of 10 images, rounded: 2 images of 4 questions")
        XCTAssertTrue(Set(splits.train.map(\.imageName)).isDisjoint(with: splits.val.map(\.imageName)))
        XCTAssertEqual(splits.test.count, 0)
        let all = splits.train + splits.val
        XCTAssertEqual(all.first { $0.qid == "8" }?.answer, "2")
        XCTAssertEqual(all.first { $0.qid == "5" }?.answerType, .closed)
        XCTAssertEqual(all.filter { $0.answerType == .open }.count, 10)
    }

    func testUnknownAnswerTypeNamesFileAndRecord() throws {
        let bad = #"[{"qid": 7, "image_name": "synpic1.jpg", "answer": "yes", "answer_type": "MAYBE", "question_type": "PRES", "question": "Is it?"}]"#
        let url = try write(bad, "trainset.json")
        XCTAssertThrowsError(try VQASplits.read(.vqaRad, root: dir)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("record 0") && "\(error)".contains("MAYBE"), "\(error)")
        }
    }

    /// The real VQA-RAD file, when present: every question loads and the carved split is by image.
    func testRealVQARADSplits() throws {
        // ../shared/data beside the repository, as the Datasets real-data tests look for it.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = ProcessInfo.processInfo.environment["MEDGLIP_SHARED_DATA"].map { URL(fileURLWithPath: $0) } ?? repo.deletingLastPathComponent().appendingPathComponent("shared/data")
        let root = shared.appendingPathComponent("vqa-rad")
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("trainset.json").path) else {
            throw XCTSkip("\(root.path)/trainset.json is absent: real VQA-RAD check skipped (set MEDGLIP_SHARED_DATA to run it)")
        }
        let splits = try VQASplits.read(.vqaRad, root: root)
        XCTAssertEqual(splits.train.count + splits.val.count, 3064)
        XCTAssertEqual(Set(splits.train.map(\.imageName)).count + Set(splits.val.map(\.imageName)).count, 314)
        XCTAssertTrue(Set(splits.train.map(\.imageName)).isDisjoint(with: splits.val.map(\.imageName)))
    }
}
