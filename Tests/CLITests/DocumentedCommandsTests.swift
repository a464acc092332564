import ArgumentParser
import Foundation
import XCTest

@testable import CLI

/// Every command the README and the experiment logs show parses as written: its options exist, its
/// values are of the right kind and pass `validate()`. Optional parts (`[--split val|test]`) are
/// taken with their first alternative; placeholders (RUNDIR, DIR) stand as they are.
final class DocumentedCommandsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The command lines in a markdown file's fenced blocks, continuation lines joined, comments dropped.
    static func commands(in file: URL) throws -> [String] {
        var out: [String] = [], inBlock = false, pending = ""
        for raw in try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n") {
            if raw.hasPrefix("```") { inBlock.toggle(); pending = ""; continue }
            guard inBlock else { continue }
            var line = raw
            if let hash = line.range(of: "  #") ?? line.range(of: "   #") { line = String(line[..<hash.lowerBound]) }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            line = pending + line
            pending = ""
            for prefix in ["swift run -c release ", "swift run ", ".build/release/"] where line.hasPrefix(prefix) { line.removeFirst(prefix.count) }
            if ["medglip ", "mrg-train", "mrg-eval", "vqa-train", "vqa-eval"].contains(where: line.hasPrefix) { out.append(line) }
        }
        return out
    }

    /// Placeholders for numbers in the documentation's usage lines.
    static let numbers = ["E": "12", "S": "0", "T": "0.5", "PX": "256", "N": "2", "W": "1"]

    /// The variants of a usage line to parse: the required part alone, then with each optional
    /// `[...]` group on its own (nested groups left out; of `a|b` alternatives the first).
    static func variants(_ line: String) -> [[String]] {
        // "RUNDIR[,RUNDIR]": a list's optional further items.
        let line = line.replacingOccurrences(of: #"\[,[^\]]*\]"#, with: "", options: .regularExpression)
        var required = "", groups: [String] = [], depth = 0, current = ""
        for ch in line {
            if ch == "[" { depth += 1; if depth == 1 { current = "" }; continue }
            if ch == "]" { depth -= 1; if depth == 0 { groups.append(current) }; continue }
            if depth == 0 { required.append(ch) } else if depth == 1 { current.append(ch) }
        }
        return [arguments(required)] + groups.map { arguments(required + " " + $0) }
    }

    /// Words of one variant, quotes respected; of `a|b` (or `A | B` groups) the first alternative.
    static func arguments(_ text: String) -> [String] {
        let first = text.components(separatedBy: " | ")[0]
        var words: [String] = [], current = "", quoted = false
        for ch in first {
            if ch == "\"" { quoted.toggle(); continue }
            if ch == " " && !quoted {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.map { String($0.prefix { $0 != "|" }) }.filter { !$0.isEmpty }.map { numbers[$0] ?? $0 }
    }

    func testEveryDocumentedCommandParses() throws {
        let files =
            [Self.root.appendingPathComponent("README.md")]
            + (try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs/experiments").path))
            .filter { $0.hasSuffix(".md") }.sorted().map { Self.root.appendingPathComponent("docs/experiments/\($0)") }
        var checked = 0, failures: [String] = []
        for file in files {
            for line in try Self.commands(in: file) {
                for args in Self.variants(line) {
                    do {
                        switch args[0] {
                        case "medglip": _ = try MedGLIPCommand.parseAsRoot(Array(args.dropFirst()))
                        case "mrg-train": _ = try MRGTrain.parse(Array(args.dropFirst()))
                        case "mrg-eval": _ = try MRGEval.parse(Array(args.dropFirst()))
                        case "vqa-train": _ = try VQATrain.parse(Array(args.dropFirst()))
                        case "vqa-eval": _ = try VQAEval.parse(Array(args.dropFirst()))
                        default: continue
                        }
                        checked += 1
                    } catch {
                        failures.append("\(file.lastPathComponent): \(args.joined(separator: " "))\n    -> \(MedGLIPCommand.message(for: error))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 30, "the README and the logs show many commands")
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }
}
