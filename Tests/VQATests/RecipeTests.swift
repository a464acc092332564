import XCTest

@testable import VQA

final class VQARecipeTests: XCTestCase {
    func testEpochsFollowTheNumberOfTrainingQuestions() {
        XCTAssertEqual(VQATrainingOptions.epochs(forTrainingQuestions: 2220).0, 41, "VQA-RAD's training questions after both carves")
        XCTAssertEqual(VQATrainingOptions.epochs(forTrainingQuestions: 9000).0, 15, "at least 15")
        XCTAssertEqual(VQATrainingOptions.epochs(forTrainingQuestions: 100).0, 60, "at most 60")
    }
}
