import Datasets
import Foundation
import Injection
import XCTest

@testable import VQA

/// The SLAKE and VQA-RAD loaders on small files in the real formats, and what happens to bad input.
final class LoaderTests: VQATestCase {
    func slakeRecord(_ qid: Int, image: String, answer: String, type: String = "OPEN", lang: String = "en") -> String {
        #"{"img_id": 1, "img_name": "\#(image)", "question": "What organ is this?", "answer": \#(answer), "q_lang": "\#(lang)", "location": "#
            + #""Abdomen", "modality": "CT", "answer_type": "\#(type)", "base_type": "vqa", "content_type": "Organ", "triple": ["vhead", "_", "#
            + #""_"], "qid": \#(qid)}"#
    }

    /// A question whose image is missing is skipped with its qid and path; the rest load, one image decode per image.
    func testSLAKEMissingImageIsListedAndCounted() throws {
        try writeImage("imgs/xmlab1/source.jpg", left: 0.2, right: 0.8)
        let records = [
            slakeRecord(10, image: "xmlab1/source.jpg", answer: "\"Liver\""),
            slakeRecord(11, image: "xmlab1/source.jpg", answer: "\"Yes\"", type: "CLOSED"),
            slakeRecord(12, image: "xmlab2/source.jpg", answer: "\"Spleen\""),
            slakeRecord(13, image: "xmlab1/source.jpg", answer: "\"肝\"", lang: "zh")
        ]
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
        XCTAssertTrue(
            set.skipped[0].contains("qid 12") && set.skipped[0].contains("imgs/xmlab2/source.jpg") && set.skipped[0].contains("no such file"),
            set.skipped[0])
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
            records.append(
                #"{"qid": \#(i), "image_name": "synpic\#(i / 4).jpg", "image_organ": "HEAD", "answer": \#(answer), "answer_type": "\#(type)", "#
                    + #""question_type": "COUNT", "question": "How many?", "phrase_type": "freeform"}"#
            )
        }
        try write("[" + records.joined(separator: ",") + "]", "trainset.json")
        let splits = try VQASplits.read(.vqaRad, root: dir)
        XCTAssertEqual(splits.train.count + splits.val.count + splits.test.count, 40)
        XCTAssertTrue(splits.testCarved, "no testset.json: a test split is carved from train first")
        XCTAssertEqual(splits.test.count, 8, "15% of 10 images, rounded: 2 images of 4 questions")
        XCTAssertEqual(splits.val.count, 4, "15% of the 8 images left, rounded: 1 image")
        let images = [splits.train, splits.val, splits.test].map { Set($0.map(\.imageName)) }
        XCTAssertTrue(images[0].isDisjoint(with: images[1]) && images[0].isDisjoint(with: images[2]) && images[1].isDisjoint(with: images[2]))
        let all = splits.train + splits.val + splits.test
        XCTAssertEqual(all.first { $0.qid == "8" }?.answer, "2")
        XCTAssertEqual(all.first { $0.qid == "5" }?.answerType, .closed)
        XCTAssertEqual(all.filter { $0.answerType == .open }.count, 10)
    }

    func testUnknownAnswerTypeNamesFileAndRecord() throws {
        let bad =
            #"[{"qid": 7, "image_name": "synpic1.jpg", "answer": "yes", "answer_type": "MAYBE", "question_type": "PRES", "question": "Is it?"}]"#
        let url = try write(bad, "trainset.json")
        XCTAssertThrowsError(try VQASplits.read(.vqaRad, root: dir)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("record 0") && "\(error)".contains("MAYBE"), "\(error)")
        }
    }

    /// The real VQA-RAD file, when present: every question loads and the carved split is by image.
    func testRealVQARADSplits() throws {
        // ../shared/data beside the repository, as the Datasets real-data tests look for it.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared =
            ProcessInfo.processInfo.environment["MEDGLIP_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
            ?? repo.deletingLastPathComponent().appendingPathComponent("shared/data")
        let root = shared.appendingPathComponent("vqa-rad")
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("trainset.json").path) else {
            throw XCTSkip("\(root.path)/trainset.json is absent: real VQA-RAD check skipped (set MEDGLIP_SHARED_DATA to run it)")
        }
        let splits = try VQASplits.read(.vqaRad, root: root)
        XCTAssertEqual(splits.train.count + splits.val.count + splits.test.count, 3064)
        let images = [splits.train, splits.val, splits.test].map { Set($0.map(\.imageName)) }
        XCTAssertEqual(images.map(\.count).reduce(0, +), 314, "by image: no image in two splits")
        XCTAssertEqual(images[2].count, 47, "15% of the 314 images carved as the test split (no testset.json here)")
    }
}

/// Grounding injection: the hint sits between `<image>` and the question, region boxes reach the
/// set in [0, 1] coordinates, and the model gets one token per region slot.
final class InjectionLoaderTests: VQATestCase {
    func testHintsGoBeforeTheQuestionAndRegionsAreNormalised() throws {
        try writeImage("imgs/xmlab1/source.jpg", left: 0.2, right: 0.8)
        let record =
            #"{"img_id": 1, "img_name": "xmlab1/source.jpg", "question": "Where is the cyst?", "answer": "Left Kidney", "q_lang": "en", "#
            + #""location": "Abdomen", "modality": "CT", "answer_type": "OPEN", "base_type": "vqa", "content_type": "Position", "qid": 1}"#
        for f in ["train.json", "validate.json", "test.json"] { try write("[\(record)]", f) }
        let items = try VQASplits.read(.slake, root: dir).train
        var config = Self.tinyConfig
        config.injection.mode = .both; config.injection.topK = 2; config.injection.phrases = ["kidney", "renal cyst"]
        let templates =
            #"{"sizes": [{"below": 1e9, "word": "small"}], "zones": ["upper", "lower"], "bilateral_overlap": 0.25, "default": "{size} {phrase}","#
            + #" "phrases": {"renal cyst": "{size} {side} renal cyst"}, "anatomy": ["kidney"]}"#
        let hints = ModalityHints(["ct": SpatialHints(try JSONDecoder().decode(HintTemplates.self, from: Data(templates.utf8)))])
        let vocabulary = VQAVocabulary(
            questions: items.map(\.question), answers: items.map(\.answer),
            extraText: Self.template.words + ["small", "left", "right", "renal", "cyst"])
        let run = VQARunConfig(
            model: config, head: .generate, dataset: .slake, dataDir: "", seed: 0, epochs: 1, template: Self.template,
            maxPositions: VQASystem.maxPositions(config, template: Self.template, vocabulary: vocabulary))
        let system = VQASystem(run, vocabulary: vocabulary)
        var loader = system.loader
        // The 24 px image: a kidney on the image's right half and a cyst inside it (patient's left); a weak detection below the threshold.
        loader.regions = [
            items[0].imageURL.standardizedFileURL.path: [
                GroundedRegion(phrase: "kidney", score: 0.9, box: [12, 6, 24, 18]),
                GroundedRegion(phrase: "renal cyst", score: 0.8, box: [18, 12, 24, 18]),
                GroundedRegion(phrase: "renal cyst", score: 0.1, box: [0, 0, 6, 6])
            ]
        ]
        loader.hints = hints
        let set = loader.load(items, split: "train")
        // The hint fills a fixed-width slot (maxHintTokens, 48 here), padded.
        XCTAssertEqual(
            vocabulary.decode(set.examples[0].prompt), "answer briefly. <human> <image> small left renal cyst where is the cyst? <assistant>")
        let slot = set.examples[0].prompt.firstIndex(of: VQAVocabulary.image)! + 1
        XCTAssertEqual(
            Array(set.examples[0].prompt[slot..<(slot + 48)]),
            vocabulary.encode("small left renal cyst") + [Int](repeating: VQAVocabulary.pad, count: 44))
        XCTAssertEqual(
            set.regions[0],
            [
                GroundedRegion(phrase: "kidney", score: 0.9, box: [0.5, 0.25, 1, 0.75]),
                GroundedRegion(phrase: "renal cyst", score: 0.8, box: [0.75, 0.5, 1, 0.75])
            ])
        let tokens = system.model.imageTokens(set.pixels([0], size: config.imageSize, rng: nil), regions: set.regions)
        XCTAssertEqual(tokens.shape, [1, config.patches + 2, config.dModel])
        XCTAssertEqual(config.imageTokenCount, config.patches + 2)
        // The longest prompt still fits the position table: teacher forcing runs.
        XCTAssertTrue(
            system.model.generativeLoss(imageTokens: tokens, prompts: [set.examples[0].prompt], answers: [set.examples[0].answer]).item.isFinite)
    }
}
