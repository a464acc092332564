import XCTest
@testable import ReportGen

final class ReportTokenizerTests: XCTestCase {
    func testVocabularyIsSortedAndThresholded() {
        let reports = ["The heart is normal. No effusion.", "The heart is enlarged.", "Heart size normal."]
        let t = ReportTokenizer(trainingReports: reports, dataset: .iuXray, threshold: 2)
        // "heart" appears 3x, "is" 2x, "normal" 2x, "the" 2x, "." 3x; "enlarged", "effusion", "no", "size" once.
        XCTAssertEqual(Array(t.idToToken.dropFirst()), [".", "<unk>", "heart", "is", "normal", "the"])
        XCTAssertEqual(t.encode("The heart is enlarged.", maxLength: 60), [0, 6, 3, 4, 2, 1, 0])
        XCTAssertEqual(t.encode("The heart is enlarged.", maxLength: 4), [0, 6, 3, 4])
        XCTAssertEqual(t.decode([6, 3, 4, 2, 1, 0, 5]), "the heart is <unk> .")
    }
}
