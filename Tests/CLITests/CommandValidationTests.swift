import ArgumentParser
import XCTest
@testable import CLI

/// Options checked when the command line is parsed, before any corpus is generated or read.
final class CommandValidationTests: XCTestCase {
    func testLanguageModelDepthIsCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--layers", "3"]).layers, 3)
        for (command, option) in [(VQATrain.self as ParsableCommand.Type, "--layers"), (AblateDownstream.self, "--vqa-layers")] {
            for bad in ["0", "13"] {
                XCTAssertThrowsError(try command.parse([option, bad]), "\(option) \(bad)") { error in
                    XCTAssertTrue(command.message(for: error).contains("\(option) must be 1...12, got \(bad)"), command.message(for: error))
                }
            }
        }
    }
}
