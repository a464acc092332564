import Foundation
import XCTest
import Registry
@testable import CLI

/// The whole ablation at toy size: corpus, training and evaluation per mode, the registry, the
/// table and report.html; then a rerun that trains nothing.
final class AblationEndToEndTests: XCTestCase {
    func testTinyAblationRunsRecordsAndSkipsFinishedRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("MEDGLIP_CACHE", dir.appendingPathComponent("cache").path, 1)
        defer { unsetenv("MEDGLIP_CACHE") }
        let registry = dir.appendingPathComponent("registry.sqlite")
        let args = ["--modes", "none,oracle", "--seeds", "1", "--epochs", "1", "--count", "40", "--vqa-epochs", "1", "--vqa-count", "12",
                    "--out", dir.appendingPathComponent("runs").path, "--registry", registry.path]
        let first = try AblateDownstream.parse(args)
        try first.run()
        let reg = try RunRegistry(path: registry)
        for task in ["mrg", "vqa"] {
            let runs = try reg.runs(task: task, status: .finished)
            XCTAssertEqual(Set(runs.map { URL(fileURLWithPath: $0.folder).lastPathComponent }), ["\(task)-none-seed0", "\(task)-oracle-seed0"])
            for run in runs {
                let names = Set(try reg.metrics(run: run.id).filter { $0.split == "test" }.map(\.name))
                XCTAssertTrue(names.isSuperset(of: AblateDownstream.metrics[task]!), "\(run.folder): \(names)")
            }
        }
        let html = try String(contentsOf: dir.appendingPathComponent("runs/report.html"), encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, AblateDownstream.metrics.values.map(\.count).reduce(0, +))
        // The gallery: cases of both tasks, their drawings written beside the report.
        let images = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertTrue(images.contains { $0.hasPrefix("gallery/mrg-") } && images.contains { $0.hasPrefix("gallery/vqa-") }, "\(images)")
        for image in images { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").appendingPathComponent(image).path), image) }
        XCTAssertTrue(html.contains("<i>reference</i>") && html.contains("<i>oracle</i>"))
        let again = try AblateDownstream.parse(args)
        try again.run()
        XCTAssertEqual(try reg.runs(task: "mrg").count + reg.runs(task: "vqa").count, 4, "the rerun trains nothing")
    }
}
