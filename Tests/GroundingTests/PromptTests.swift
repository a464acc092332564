import XCTest

@testable import Grounding

final class PromptTests: XCTestCase {
    static let vocabulary = [
        "nodule", "pleural effusion", "pneumothorax", "hydrothorax", "heart", "left lung", "right lung",
        "liver lesion", "renal cyst", "optic disc", "pneumonia", "pleural thickening", "lung nodule", "lung mass"
    ]
    let tokenizer = SubwordTokenizer(learningFrom: PromptTests.vocabulary + PromptTests.vocabulary, merges: 200)

    func decode(_ ids: [Int]) -> [String] { ids.map { tokenizer.vocabulary[$0] } }

    func testSubwordsShareLearnedPiecesAndKeepCharacterSpans() {
        let (ids, spans) = tokenizer.encode("hydropneumothorax")
        XCTAssertGreaterThan(ids.count, 1, "an unseen compound is split")
        XCTAssertFalse(ids.contains(SubwordTokenizer.unk))
        XCTAssertTrue(decode(ids).contains { $0.contains("thorax") }, "it reuses a piece of seen words: \(decode(ids))")
        XCTAssertEqual(spans.first?.lowerBound, 0)
        XCTAssertEqual(spans.last?.upperBound, 17)
        XCTAssertEqual(decode(tokenizer.encode("nodule").ids), ["nodule"], "frequent words stay whole")
        XCTAssertEqual(tokenizer.encode("Nodule!").ids.last, tokenizer.vocabulary.firstIndex(of: "!") ?? SubwordTokenizer.unk)
    }

    func testPositiveMapCoversEachPhrasesTokensOnly() throws {
        let p = try GroundingPrompt(parsing: "nodule. pleural effusion. heart.", tokenizer: tokenizer)
        XCTAssertEqual(p.text, "nodule. pleural effusion. heart.")
        XCTAssertEqual(p.tokenIDs.first, SubwordTokenizer.cls)
        XCTAssertEqual(p.tokenIDs.last, SubwordTokenizer.sep)
        XCTAssertEqual(p.positiveMap.count, 3)
        XCTAssertEqual(p.positiveMap[0].map { decode([p.tokenIDs[$0]])[0] }, ["nodule"])
        XCTAssertEqual(p.positiveMap[1].map { decode([p.tokenIDs[$0]])[0] }, ["pleural", "effusion"])
        // Separators, [CLS] and [SEP] belong to no phrase.
        let claimed = Set(p.positiveMap.flatMap { $0 })
        for (i, id) in p.tokenIDs.enumerated() where !claimed.contains(i) {
            XCTAssertTrue([".", "[CLS]", "[SEP]"].contains(tokenizer.vocabulary[id]), "unclaimed token \(tokenizer.vocabulary[id])")
        }
    }

    func testRepeatedWordsAndSubwordSplitsMapToTheirOwnPhrase() throws {
        let p = try GroundingPrompt(phrases: ["lung nodule", "lung mass", "hydropneumothorax"], tokenizer: tokenizer)
        XCTAssertEqual(p.positiveMap[0].count, 2)
        XCTAssertEqual(p.positiveMap[1].count, 2)
        XCTAssertTrue(Set(p.positiveMap[0]).isDisjoint(with: p.positiveMap[1]), "the two 'lung' tokens belong to different phrases")
        XCTAssertGreaterThan(p.positiveMap[2].count, 1, "every sub-word of a split phrase is positive")
        XCTAssertEqual(p.positiveMap[2], Array(p.positiveMap[2].first!...p.positiveMap[2].last!))
    }

    func testBadPromptsGiveClearErrors() {
        XCTAssertThrowsError(try GroundingPrompt(parsing: " . . ", tokenizer: tokenizer)) { XCTAssertEqual("\($0)", "prompt: no phrases to ground") }
        XCTAssertThrowsError(try GroundingPrompt(phrases: ["heart", "  "], tokenizer: tokenizer)) {
            XCTAssertEqual("\($0)", "prompt: phrase 2 is empty")
        }
        let long = Array(repeating: "pleural thickening", count: 40)
        XCTAssertThrowsError(try GroundingPrompt(phrases: long, tokenizer: tokenizer, maxTokens: 64)) {
            XCTAssertTrue("\($0)".contains("exceed the text encoder's limit of 64"), "\($0)")
        }
    }

    func testTokenizerRoundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(tokenizer)
        let back = try JSONDecoder().decode(SubwordTokenizer.self, from: data)
        XCTAssertEqual(back.encode("hydropneumothorax. heart").ids, tokenizer.encode("hydropneumothorax. heart").ids)
        XCTAssertEqual(
            SubwordTokenizer(learningFrom: Self.vocabulary, merges: 50), SubwordTokenizer(learningFrom: Self.vocabulary, merges: 50),
            "learning is deterministic")
    }
}
