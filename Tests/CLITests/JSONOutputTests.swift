import Foundation
import XCTest

@testable import CLI

/// `--json` prints one JSON value on standard output; progress lines go to standard error.
final class JSONOutputTests: XCTestCase {
    func testProgressLeavesStandardOutputToTheJSON() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stdout-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        fflush(nil)
        let original = dup(STDOUT_FILENO)
        dup2(handle.fileDescriptor, STDOUT_FILENO)
        withJSONOutput(true) { emit in
            print("grounding: 3 images from the registry cache")
            emit(#"{"AP": 0.5}"#)
        }
        print("after")
        fflush(nil)
        dup2(original, STDOUT_FILENO)
        close(original)
        try handle.close()
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "{\"AP\": 0.5}\nafter\n")
    }
}
