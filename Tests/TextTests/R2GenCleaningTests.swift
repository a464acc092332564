import Foundation
import XCTest

@testable import Text

final class R2GenCleaningTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testMatchesR2GenOnHandWrittenCases() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("r2gen_cleaning.json"))
        let cases = try JSONDecoder().decode([String: [[String]]].self, from: data)
        for (name, dataset) in [("iu_xray", R2GenCleaning.Dataset.iuXray), ("mimic_cxr", .mimicCXR)] {
            for pair in cases[name]! {
                XCTAssertEqual(R2GenCleaning.clean(pair[0], dataset: dataset), pair[1], "\(name): \(pair[0].debugDescription)")
            }
        }
    }

    func testMatchesR2GenOnEveryRealIUXrayReport() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = repo.deletingLastPathComponent().appendingPathComponent("shared/data/iu-xray/annotation.json")
        guard let data = FileManager.default.contents(atPath: source.path) else {
            throw XCTSkip("../shared/data/iu-xray is absent: real-report cleaning not checked")
        }
        let ann = try JSONDecoder().decode([String: [[String: AnyCodable]]].self, from: data)
        let expected = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("iu_xray_cleaned_digest.json")))
        for (split, entries) in ann {
            let cleaned = entries.map { R2GenCleaning.clean($0["report"]!.string!, dataset: .iuXray) }.joined(separator: "\n")
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in cleaned.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            XCTAssertEqual(String(format: "%016llx", h), expected[split], "digest of cleaned \(split) reports")
        }
    }
}

/// Just enough JSON to read the report strings of an annotation file.
struct AnyCodable: Decodable {
    let string: String?
    init(from decoder: Decoder) throws { string = try? decoder.singleValueContainer().decode(String.self) }
}

extension R2GenCleaningTests {
    /// The byte-level replacement behaves as Python's `str.replace`: non-overlapping, left to right, once.
    func testReplaceIsPythonsStrReplace() {
        func replaced(_ s: String, _ from: StaticString, _ to: StaticString) -> String {
            var bytes = Array(s.utf8)
            R2GenCleaning.replace(&bytes, from, to)
            return String(decoding: bytes, as: UTF8.self)
        }
        XCTAssertEqual(replaced("....", "..", "."), "..")
        XCTAssertEqual(replaced(".....", "..", "."), "...")
        XCTAssertEqual(replaced("a  b   c", "  ", " "), "a b  c")
        XCTAssertEqual(replaced("1. heart. 2. lungs", ". 2. ", ". "), "1. heart. lungs")
        XCTAssertEqual(replaced("café ..", "..", "."), "café .", "multi-byte characters pass through")
        XCTAssertEqual(replaced("", "..", "."), "")
    }
}
