import Foundation
import XCTest

@testable import Fuzzing

/// The short form of `make fuzz` (100,000 inputs): every loader gets mutated files, none traps (a
/// trap would end the test process), and both outcomes occur, so the mutations reach the parsers.
final class LoaderFuzzerTests: XCTestCase {
    func testMutatedInputsAreRejectedOrReadButNeverTrap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fuzzer = try LoaderFuzzer(seed: 1, workDir: dir)
        // The seeds themselves load.
        for (loader, bytes) in fuzzer.seeds { XCTAssertNoThrow(try fuzzer.load(loader, bytes), loader.rawValue) }
        let report = try fuzzer.run(inputs: 4_000)
        XCTAssertEqual(report.inputs, 4_000)
        XCTAssertEqual(Set(report.tried.keys), Set(LoaderFuzzer.Loader.allCases.map(\.rawValue)))
        for (loader, tried) in report.tried {
            let rejected = report.rejected[loader] ?? 0
            XCTAssertGreaterThan(rejected, 0, "\(loader): some mutations must be rejected")
            XCTAssertLessThan(rejected, tried, "\(loader): some mutations must still load")
        }
        XCTAssertLessThan(report.peakResidentMB, 2_048, "no input may make a loader allocate without bound")
    }
}
