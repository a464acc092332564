import Foundation
import Tensor
import XCTest

@testable import VQA

final class TemplateTests: VQATestCase {
    func testTokenizerSplitsEdgePunctuationAndDecodesBack() {
        XCTAssertEqual(VQAVocabulary.tokenize("Is the patient's  Liver normal?"), ["is", "the", "patient's", "liver", "normal", "?"])
        XCTAssertEqual(VQAVocabulary.tokenize("(x-ray, CT)"), ["(", "x-ray", ",", "ct", ")"])
        let v = VQAVocabulary(questions: ["Where is it?"], answers: ["Left lung, right lung", "Yes "])
        XCTAssertEqual(v.decode(v.encode("left lung, right lung") + [VQAVocabulary.endOfAnswer, v.encode("yes")[0]]), "left lung, right lung")
        XCTAssertEqual(v.answers, ["left lung, right lung", "yes"])
        XCTAssertEqual(v.answerClass("YES"), 1)
        XCTAssertNil(v.answerClass("no"))
        XCTAssertEqual(
            v.encode("where is the spleen"),
            [v.words.firstIndex(of: "where")!, v.words.firstIndex(of: "is")!, VQAVocabulary.unknown, VQAVocabulary.unknown])
    }

    func testPromptPlacesImageAfterHumanTurnAndEndsAtAssistant() throws {
        let t = Self.template
        let v = VQAVocabulary(questions: ["Is the liver normal?"], answers: ["yes"], extraText: t.words)
        let (ids, cut) = t.promptIDs(question: "Is the liver normal?", vocabulary: v, maxQuestionTokens: 10)
        XCTAssertEqual(ids.map { v.words[$0] }, ["answer", "briefly", ".", "<human>", "<image>", "is", "the", "liver", "normal", "?", "<assistant>"])
        XCTAssertFalse(cut)
        XCTAssertEqual(ids.filter { $0 == VQAVocabulary.image }.count, 1)
        let short = t.promptIDs(question: "Is the liver normal?", vocabulary: v, maxQuestionTokens: 2)
        XCTAssertEqual(short.ids.map { v.words[$0] }.suffix(4), ["<image>", "is", "the", "<assistant>"])
        XCTAssertTrue(short.truncated)
        XCTAssertEqual(
            t.render(question: "Is the liver normal?", answer: "Yes"), "Answer briefly.\nHuman: <image>\nIs the liver normal?\nAssistant: Yes")
    }

    func testTemplateFileIsValidatedWithItsPath() throws {
        let bad = try write(#"{"system": "s", "human": "Human: {question} <image>", "assistant": "Assistant: {answer}"}"#, "vqa/conversation.json")
        XCTAssertThrowsError(try ConversationTemplate.load(bad)) { error in
            XCTAssertTrue("\(error)".contains(bad.path), "\(error)")
            XCTAssertTrue("\(error)".contains("{question} after <image>"), "\(error)")
        }
        let noRole = try write(#"{"system": "s", "human": "<image> {question}", "assistant": "Assistant: {answer}"}"#, "b.json")
        XCTAssertThrowsError(try ConversationTemplate.load(noRole)) { XCTAssertTrue("\($0)".contains("role name"), "\($0)") }
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Prompts/vqa/conversation.json")
        XCTAssertTrue(try ConversationTemplate.load(shipped).human.contains("<image>"))
        let good = try write(#"{"system": "S.", "human": "Human: <image>\n{question}", "assistant": "Assistant: {answer}"}"#, "c.json")
        XCTAssertEqual(try ConversationTemplate.load(good).system, "S.")
    }

    /// The fused sequence holds the image's patch tokens exactly where `<image>` was, shifting the
    /// question after them.
    func testImageTokensReplaceTheImageSlot() {
        let system = Self.tinySystem(head: .generate, questions: ["Is it big?"], answers: ["yes"])
        let model = system.model
        model.eval()
        let (prompt, _) = Self.template.promptIDs(question: "Is it big?", vocabulary: system.vocabulary, maxQuestionTokens: 12)
        let slot = prompt.firstIndex(of: VQAVocabulary.image)!
        let p = Self.tinyConfig.patches, d = Self.tinyConfig.dModel
        let image = Tensor(shape: [1, p, d], data: (0..<(p * d)).map { Float($0) * 0.01 })
        let x = model.fuse([prompt], imageTokens: image, slot: slot)
        XCTAssertEqual(x.shape, [1, prompt.count - 1 + p, d])
        let pos = model.positionEmbedding.data, emb = model.tokenEmbedding.weight.data
        for (row, expect) in [
            (slot, image.data[0] + pos[slot * d]), (slot + p - 1, image.data[(p - 1) * d] + pos[(slot + p - 1) * d]),
            (slot + p, emb[prompt[slot + 1] * d] + pos[(slot + p) * d]), (slot - 1, emb[prompt[slot - 1] * d] + pos[(slot - 1) * d])
        ] {
            XCTAssertEqual(x.data[row * d], expect, accuracy: 1e-6, "fused row \(row)")
        }
    }

    /// Withholding an image's grounding blanks exactly its hint slot, so the question keeps its positions.
    func testWithoutHintPadsOnlyTheHintSlot() {
        let image = VQAVocabulary.image, pad = VQAVocabulary.pad
        let prompt = [7, VQAVocabulary.human, image, 11, 12, pad, 20, 21, VQAVocabulary.assistant]
        XCTAssertEqual(VQATrainer.withoutHint(prompt, width: 3), [7, VQAVocabulary.human, image, pad, pad, pad, 20, 21, VQAVocabulary.assistant])
        XCTAssertEqual(VQATrainer.withoutHint(prompt, width: 0), prompt)
    }
}
