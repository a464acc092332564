import Foundation
import XCTest

@testable import Tensor

final class RunFolderTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("runfolder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func makeRun(_ name: String) throws -> URL {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    func testAnExplicitFolderHoldingARunIsRefusedAndLeftAlone() throws {
        let run = try makeRun("x")
        XCTAssertThrowsError(try RunFolder.forNewRun(explicit: run, default: root.appendingPathComponent("d"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("\(run.path) already holds a run (config.json)") && text.contains("--resume") && text.contains("--out"), text)
        }
        XCTAssertEqual(try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8), "{}")
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertEqual(try RunFolder.forNewRun(explicit: empty, default: root), empty, "a folder without run files is fine")
    }

    func testDefaultFoldersNeverReuseARunAndResumeTakesTheNewest() throws {
        let base = root.appendingPathComponent("mrg-seed0")
        XCTAssertEqual(try RunFolder.forNewRun(explicit: nil, default: base), base)
        _ = try makeRun("mrg-seed0")
        XCTAssertEqual(try RunFolder.forNewRun(explicit: nil, default: base).lastPathComponent, "mrg-seed0-2")
        _ = try makeRun("mrg-seed0-2")
        XCTAssertEqual(try RunFolder.forNewRun(explicit: nil, default: base).lastPathComponent, "mrg-seed0-3")
        XCTAssertEqual(try RunFolder.forResume(explicit: nil, default: base).lastPathComponent, "mrg-seed0-2")
        XCTAssertThrowsError(try RunFolder.forResume(explicit: root.appendingPathComponent("none"), default: base)) { error in
            XCTAssertTrue("\(error)".contains("holds no run"), "\(error)")
        }
    }

    func testTemporariesOfDeadProcessesAreRemovedOnly() throws {
        let run = try makeRun("r")
        let mine = ".config.json.tmp-\(ProcessInfo.processInfo.processIdentifier)"
        // Linux process ids stay below 2^22, so this one runs no process.
        let dead = ".config.json.tmp-4194305"
        for name in [mine, dead, "notes.tmp-4194305"] { try Data().write(to: run.appendingPathComponent(name)) }
        XCTAssertEqual(RunFolder.removeStaleTemporaries(in: run), [dead])
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: run.path))
        XCTAssertEqual(left, ["config.json", mine, "notes.tmp-4194305"])
    }
}
