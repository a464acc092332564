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

    /// pycocoevalcap's own input shape (`res`: id -> [hypothesis]) is read; empty inputs are errors, not NaN scores.
    func testReadsPycocoevalcapListsAndRejectsEmptyInputs() throws {
        let refs = try write(#"{"a": ["the heart is normal ."], "b": ["no effusion ."]}"#, "refs.json")
        let hyps = try write(#"{"a": ["heart normal ."], "b": ["no effusion ."]}"#, "hyps.json")
        XCTAssertEqual(try TextPairs.load(references: refs, hypotheses: hyps).hypotheses, ["a": "heart normal .", "b": "no effusion ."])
        let two = try write(#"{"a": ["one", "two"], "b": ["x"]}"#, "two.json")
        XCTAssertThrowsError(try TextPairs.load(references: refs, hypotheses: two)) { e in
            XCTAssertTrue("\(e)".contains("id a: a hypothesis list must hold one text, found 2"), "\(e)")
        }
        let empty = try write("{}", "empty.json")
        XCTAssertThrowsError(try TextPairs.load(references: empty, hypotheses: empty)) { e in
            XCTAssertTrue("\(e)".contains("empty.json: no hypotheses"), "\(e)")
        }
    }
}
