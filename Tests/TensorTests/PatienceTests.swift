import XCTest

@testable import Tensor

final class PatienceTests: XCTestCase {
    func testStopsWhenTheFirstBestEpochIsPatienceEpochsOld() {
        let patience = Patience(epochs: 2)
        XCTAssertNil(patience.stopReason([], metric: "BLEU_4"))
        XCTAssertNil(patience.stopReason([0.1, 0.3, 0.2], metric: "BLEU_4"), "one epoch since the best")
        let reason = patience.stopReason([0.1, 0.3, 0.2, 0.3], metric: "BLEU_4")
        XCTAssertEqual(
            reason, "stopped after epoch 4: validation BLEU_4 has not improved for 2 epochs (--patience); best 0.3000 at epoch 2",
            "a tie does not count as an improvement")
        XCTAssertNil(patience.stopReason([0.1, 0.3, 0.2, 0.31], metric: "BLEU_4"))
    }
}
