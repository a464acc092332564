import Foundation
import XCTest

@testable import Synthetic

final class CorpusCacheTests: XCTestCase {
    func testGeneratesOnceThenReusesKeyedBySeed() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let p = CorpusParameters(count: 6, size: 64, seed: 1)
        let first = try CorpusCache.ensure(.cxrReports, p, cacheRoot: root, log: { _ in })
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.appendingPathComponent(".complete").path))
        let stamp = try FileManager.default.attributesOfItem(atPath: first.appendingPathComponent("annotation.json").path)[.modificationDate] as! Date
        let again = try CorpusCache.ensure(.cxrReports, p, cacheRoot: root, log: { message in XCTFail("regenerated: \(message)") })
        XCTAssertEqual(again.standardizedFileURL.path, first.standardizedFileURL.path)
        let stampAgain =
            try FileManager.default.attributesOfItem(atPath: again.appendingPathComponent("annotation.json").path)[.modificationDate] as! Date
        XCTAssertEqual(stamp, stampAgain)
        var other = p
        other.seed = 2
        XCTAssertNotEqual(try CorpusCache.ensure(.cxrReports, other, cacheRoot: root, log: { _ in }).path, first.path)
        // An interrupted generation (no .complete marker) is not trusted: it is made again.
        try FileManager.default.removeItem(at: first.appendingPathComponent(".complete"))
        let regenerated = try CorpusCache.ensure(.cxrReports, p, cacheRoot: root, log: { _ in })
        XCTAssertTrue(FileManager.default.fileExists(atPath: regenerated.appendingPathComponent(".complete").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("corpora").path).filter { $0.contains("tmp") }
        XCTAssertEqual(leftovers, [])
    }
}
