import Foundation
import Injection
import Tensor
import XCTest

final class GroundingDropoutTests: XCTestCase {
    func testWithholdsAtItsRateOnlyWhileTraining() {
        var o = InjectionOptions()
        o.mode = .both; o.dropout = 0.25
        let rng = RandomGenerator(seed: 3)
        let withheld = (0..<4000).filter { _ in o.withholds(rng) }.count
        // Binomial(4000, 0.25): mean 1000, std 27.
        XCTAssertEqual(Double(withheld), 1000, accuracy: 110)
        XCTAssertFalse(o.withholds(nil), "evaluation (no rng) always sees the grounding")
        o.dropout = 0
        XCTAssertFalse((0..<100).contains { _ in o.withholds(rng) })
        o.dropout = 0.25; o.mode = .none
        XCTAssertFalse((0..<100).contains { _ in o.withholds(rng) })
    }

    func testRunConfigsWrittenBeforeDropoutDecodeWithNone() throws {
        var o = InjectionOptions()
        o.mode = .hints; o.dropout = 0.4
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(o)) as! [String: Any]
        XCTAssertEqual(object["dropout"] as? Double ?? 0, 0.4, accuracy: 1e-6)
        object.removeValue(forKey: "dropout")
        let old = try JSONDecoder().decode(InjectionOptions.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old.dropout, 0)
        XCTAssertEqual(old.mode, .hints)
    }
}
