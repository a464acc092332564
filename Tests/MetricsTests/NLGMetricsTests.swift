import Foundation
import Text
import XCTest

@testable import Metrics

/// BLEU, ROUGE-L, CIDEr and METEOR against numbers produced by pycocoevalcap 1.2 and its bundled
/// meteor-1.5.jar (Fixtures/README.md says how).
final class NLGMetricsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Case: Decodable {
        var name: String
        var references: [String: [String]]
        var hypotheses: [String: String]
        var expected: [String: Double]
        var meteor_segments: [String: Double]
    }
    struct Cases: Decodable { var cases: [Case] }

    func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("nlg_cases.json"))
        return try JSONDecoder().decode(Cases.self, from: data).cases
    }

    /// Cases whose jar alignment involves synonym/paraphrase candidates, with the measured bound on
    /// the difference: stem pairs such as effusion/effusions are also synonym or paraphrase pairs in
    /// the jar, which makes them ambiguous, and its beam search then drops them (non-exact matches add
    /// nothing to its ranking), while here the lone stem candidate is kept.
    static let casesUsingSynonymsOrParaphrases: [String: Double] = [
        "single_words": 0.21, "stems_and_order": 0.035, "punctuation_normalisation": 0.015
    ]

    func assertMatches(_ got: [String: Double], _ expected: [String: Double], meteorTolerance: Double, _ name: String) {
        for key in NLGScores.keys {
            let tolerance = key == "METEOR" ? meteorTolerance : key == "CIDEr" ? 1e-6 : 1e-9
            XCTAssertEqual(got[key]!, expected[key]!, accuracy: tolerance, "\(name): \(key)")
        }
    }

    func testEdgeCasesMatchPycocoevalcap() throws {
        let cases = try loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for c in cases {
            let pairs = TextPairs(references: c.references, hypotheses: c.hypotheses)
            // Where the jar's WordNet synonym and paraphrase stages take part (they cannot ship), METEOR
            // is only close; everywhere else it must equal the jar, segment by segment.
            let exact = !Self.casesUsingSynonymsOrParaphrases.keys.contains(c.name)
            let tolerance = Self.casesUsingSynonymsOrParaphrases[c.name] ?? 1e-9
            assertMatches(NLGScores.compute(pairs), c.expected, meteorTolerance: tolerance, c.name)
            let segments = METEOR().score(pairs).segments
            for (id, score) in zip(pairs.ids, segments) where exact {
                XCTAssertEqual(score, c.meteor_segments[id]!, accuracy: 1e-9, "\(c.name): METEOR segment \(id)")
            }
        }
    }

    func testBLEUClosestReferenceLengthPrefersShorterOnTies() {
        var vocab = Vocabulary()
        let s = BLEU.sample(hypothesis: "a b c", references: ["a b", "a b c d"], n: 4, vocab: &vocab)
        XCTAssertEqual(s.referenceLength, 2)
        XCTAssertEqual(s.guess, [3, 2, 1, 0])
    }

    func testROUGEKeepsEmptyTokensFromDoubleSpaces() {
        XCTAssertEqual(PythonSplit.singleSpace("a  b").map(String.init), ["a", "", "b"])
        XCTAssertEqual(PythonSplit.singleSpace("").map(String.init), [""])
        XCTAssertEqual(PythonSplit.whitespace(" a \t b\u{1F} ").map(String.init), ["a", "b"])
        XCTAssertEqual(ROUGE.lcs([1, 2, 3, 4], [2, 4, 9]), 2)
    }

    /// Stems checked against `org.tartarus.snowball.ext.englishStemmer` from meteor-1.5.jar.
    func testStemmerMatchesMETEORsSnowballStemmer() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("snowball_english_stems.json"))
        let pairs = try JSONDecoder().decode([[String]].self, from: data)
        XCTAssertGreaterThan(pairs.count, 100)
        for p in pairs { XCTAssertEqual(SnowballEnglishStemmer.stem(p[0]), p[1], p[0]) }
    }

    /// `-norm` output checked against `edu.cmu.meteor.util.Normalizer` from meteor-1.5.jar (lower-cased).
    func testNormalizerMatchesMETEOR() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("meteor_normalizer.json"))
        let pairs = try JSONDecoder().decode([[String]].self, from: data)
        for p in pairs { XCTAssertEqual(METEORNormalizer.normalize(METEOR.javaTrimmed(p[0])).lowercased(), p[1], p[0]) }
    }

    func testMETEORAggregateIsNotTheMeanOfSegments() throws {
        let pairs = TextPairs(
            references: ["a": ["the heart is normal ."], "b": ["no pleural effusion is seen ."]],
            hypotheses: ["a": "the heart is normal .", "b": "effusion"])
        let (score, segments) = METEOR().score(pairs)
        XCTAssertEqual(segments[0], 1.0, accuracy: 1e-12)
        XCTAssertNotEqual(score, segments.reduce(0, +) / 2, accuracy: 1e-3)
    }

    /// Degenerate segments (one word repeated, 10,000 tokens) are scored in bounded time and memory:
    /// the candidates per reference word are bounded, and only the beam's survivors are built.
    func testMETEORLongRepeatedSegmentsStayBounded() throws {
        let long = Array(repeating: "effusion", count: 10_000).joined(separator: " ")
        let (same, _) = METEOR().score(TextPairs(references: ["a": [long]], hypotheses: ["a": long]))
        // Identical segments align word for word: one chunk, no fragmentation penalty beyond 0.5 * (1/10000)^3.
        XCTAssertEqual(same, 1 - 0.5 * pow(1.0 / 10_000, 3), accuracy: 1e-9)
        let half = Array(repeating: "effusion", count: 5_000).joined(separator: " ")
        let stems = half.replacingOccurrences(of: "effusion", with: "effusions")
        let (shorter, _) = METEOR().score(TextPairs(references: ["a": [long]], hypotheses: ["a": half + " " + stems]))
        XCTAssertGreaterThan(shorter, 0.4)
        XCTAssertLessThan(shorter, 1)
    }

    /// The 590 IU-Xray test reports, hypothesis i = report i + 1 (R2Gen-cleaned). The report text is
    /// read from ../shared/data and never committed; only pycocoevalcap's numbers are.
    func testRealIUXrayShiftedReportsMatchPycocoevalcap() throws {
        let annotation = Self.fixtures.appendingPathComponent("../../../../shared/data/iu-xray/annotation.json").standardizedFileURL
        guard FileManager.default.fileExists(atPath: annotation.path) else {
            throw XCTSkip("real IU-Xray data absent (\(annotation.path)); the shifted-report check needs ../shared/data")
        }
        let pairs = try Self.shiftedIUXrayPairs(annotation)
        XCTAssertEqual(pairs.hypotheses.count, 590)
        struct Expected: Decodable { var count: Int; var expected: [String: Double] }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("iu_xray_shifted.json")))
        XCTAssertEqual(expected.count, 590)
        // METEOR: the jar also matches WordNet synonyms and paraphrases, which cannot ship here.
        assertMatches(NLGScores.compute(pairs), expected.expected, meteorTolerance: 0.01, "iu_xray_shifted")
    }

    static func shiftedIUXrayPairs(_ annotation: URL) throws -> TextPairs {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: annotation)) as! [String: Any]
        let test = (object["test"] as! [[String: Any]]).map { R2GenCleaning.clean($0["report"] as! String, dataset: .iuXray) }
        var refs: [String: [String]] = [:], hyps: [String: String] = [:]
        for i in test.indices {
            refs[String(i)] = [test[i]]
            hyps[String(i)] = test[(i + 1) % test.count]
        }
        return TextPairs(references: refs, hypotheses: hyps)
    }
}
