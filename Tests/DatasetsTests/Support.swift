import Foundation
import Imaging
import XCTest

/// A scratch folder per test, removed afterwards.
class DatasetTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ text: String, _ relative: String) throws -> URL {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    func writeImage(_ relative: String, width: Int = 32, height: Int = 24) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ImageIO.writePNG(Image(width: width, height: height, channels: 1, fill: 0.5), to: url)
    }

    /// Asserts that `body` throws an error whose text names `file` and contains `problem`.
    func assertError<T>(
        _ body: @autoclosure () throws -> T, names file: String, says problem: String,
        file f: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: f, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(file), "error names \(file): \(text)", file: f, line: line)
            XCTAssertTrue(text.contains(problem), "error says '\(problem)': \(text)", file: f, line: line)
        }
    }
}

/// `../shared/data` beside the repository (or MEDGLIP_SHARED_DATA), when present.
func sharedData() -> URL? {
    if let env = ProcessInfo.processInfo.environment["MEDGLIP_SHARED_DATA"] { return URL(fileURLWithPath: env) }
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let url = repo.deletingLastPathComponent().appendingPathComponent("shared/data")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}
