import Datasets
import Foundation
import XCTest

@testable import ReportGen

final class ReportTokenizerTests: XCTestCase {
    func testVocabularyIsSortedAndThresholded() {
        let reports = ["The heart is normal. No effusion.", "The heart is enlarged.", "Heart size normal."]
        let t = ReportTokenizer(trainingReports: reports, dataset: .iuXray, threshold: 2)
        // "heart" and "." appear 3x, "is", "normal", "the" 2x; "enlarged", "effusion", "no", "size" once.
        XCTAssertEqual(Array(t.idToToken.dropFirst()), [".", "<unk>", "heart", "is", "normal", "the"])
        XCTAssertEqual(t.encode("The heart is enlarged.", maxLength: 60), [0, 6, 3, 4, 2, 1, 0])
        XCTAssertEqual(t.encode("The heart is enlarged.", maxLength: 4), [0, 6, 3, 4])
        XCTAssertEqual(t.decode([6, 3, 4, 2, 1, 0, 5]), "the heart is <unk> .")
    }

    func testTokenizerRoundTripsThroughJSON() throws {
        let t = ReportTokenizer(trainingReports: ["No acute disease. No acute disease."], dataset: .mimicCXR, threshold: 1)
        let back = try JSONDecoder().decode(ReportTokenizer.self, from: JSONEncoder().encode(t))
        XCTAssertEqual(back, t)
        XCTAssertEqual(back.encode("no acute disease", maxLength: 10), t.encode("no acute disease", maxLength: 10))
    }

    /// R2Gen's tokenizer on the real IU-Xray reports: values from running R2Gen's Python
    /// (`modules/tokenizers.py`, threshold 3, max_seq_length 60) on the same annotation.json.
    func testRealIUXrayVocabularyAndIdsMatchR2Gen() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url =
            ProcessInfo.processInfo.environment["MEDGLIP_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
            ?? repo.deletingLastPathComponent().appendingPathComponent("shared/data")
        let annotation = url.appendingPathComponent("iu-xray/annotation.json")
        guard FileManager.default.fileExists(atPath: annotation.path) else {
            throw XCTSkip("../shared/data/iu-xray is absent: the real IU-Xray tokenizer check is skipped")
        }
        let data = try R2Gen.read(annotation, viewsPerStudy: 2)
        let t = ReportTokenizer(trainingReports: data.train.map(\.report), dataset: .iuXray, threshold: 3)
        XCTAssertEqual(t.vocabularySize - 1, 760)
        XCTAssertEqual(Array(t.idToToken[1...8]), [".", "1", "10", "10th", "12", "13", "17", "2"])
        XCTAssertEqual(Array(t.idToToken.suffix(5)), ["x", "x-xxxx", "xxxx", "xxxx-a-xxxx", "zone"])
        let expected: [String: [Int]] = [
            "CXR3030_IM-1405": [
                0, 451, 130, 620, 1, 685, 364, 445, 284, 172, 1, 685, 68, 445, 758, 467, 19, 375, 517, 239, 1, 685, 364, 445, 521, 1, 685, 364, 445,
                29, 110, 24, 604, 1, 0
            ],
            "CXR38_IM-1911": [
                0, 406, 68, 149, 1, 685, 364, 445, 521, 475, 517, 239, 1, 684, 314, 49, 422, 68, 752, 451, 388, 1, 110, 651, 68, 355, 1, 0
            ],
            "CXR3957_IM-2022": [0, 128, 49, 421, 175, 68, 752, 451, 388, 1, 684, 406, 68, 149, 1, 110, 651, 68, 355, 1, 0]
        ]
        for study in data.test.prefix(3) { XCTAssertEqual(t.encode(study.report, maxLength: 60), expected[study.id], study.id) }
    }
}
