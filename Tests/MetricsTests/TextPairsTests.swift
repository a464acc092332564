import Foundation
import XCTest
@testable import Metrics

final class TextPairsTests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-pairs-\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testLoadsStringsAndListsAndChecksIds() throws {
        let refs = try write(#"{"a": "the heart is normal .", "b": ["no effusion .", "no pleural effusion ."]}"#, "refs.json")
        let hyps = try write(#"{"a": "heart normal .", "b": "no effusion ."}"#, "hyps.json")
        let pairs = try TextPairs.load(references: refs, hypotheses: hyps)
        XCTAssertEqual(pairs.references["b"]!.count, 2)
        XCTAssertEqual(pairs.ids, ["a", "b"])
        let short = try write(#"{"a": "x"}"#, "short.json")
        XCTAssertThrowsError(try TextPairs.load(references: short, hypotheses: hyps)) { e in
            XCTAssertTrue("\(e)".contains("no reference for 1 hypothesis id(s): b"), "\(e)")
        }
        let bad = try write(#"{"a": 3}"#, "bad.json")
        XCTAssertThrowsError(try TextPairs.load(references: bad, hypotheses: hyps)) { e in
            XCTAssertTrue("\(e)".contains("id a: expected a string or a non-empty list of strings"), "\(e)")
        }
        XCTAssertEqual(pairs.cleaned(.iuXray).hypotheses["a"], "heart normal  .")
    }
}
