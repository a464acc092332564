import ArgumentParser
import Datasets
import Foundation
import Imaging
import Synthetic
import Tensor

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "The embedded synthetic corpora (phantom images in the real dataset formats).",
        subcommands: [Generate.self, Preview.self])
}

extension CorpusKind: ExpressibleByArgument {}

/// Defaults per kind: the demo corpora's sizes.
func defaultParameters(_ kind: CorpusKind) -> CorpusParameters {
    switch kind {
    case .cxrReports: return CorpusParameters(count: 2000, size: 256, seed: 0)
    case .grounding: return CorpusParameters(count: 400, size: 256, seed: 0)
    case .slake: return CorpusParameters(count: 600, size: 256, seed: 0)
    }
}

struct CorpusOptions: ParsableArguments {
    @Option(help: "Corpus: \(CorpusKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: CorpusKind

    @Option(help: "Studies (cxr-reports), images per modality (grounding) or images (slake).")
    var count: Int?

    @Option(help: "Image size in pixels.")
    var size: Int?

    @Option(help: "Random seed: the same seed gives the same bytes.")
    var seed: UInt64?

    func parameters() throws -> CorpusParameters {
        var p = defaultParameters(kind)
        if let count { guard count > 0 else { throw ValidationError("--count must be positive") }; p.count = count }
        if let size { guard (64...2048).contains(size) else { throw ValidationError("--size must be within 64...2048") }; p.size = size }
        if let seed { p.seed = seed }
        return p
    }
}

extension CorpusCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a synthetic corpus in its real format.")

        @OptionGroup var corpus: CorpusOptions
        @Option(help: "Output folder (created; must be empty or absent).") var out: String
        @Option(
            help: "cxr-reports only: render phantoms for the reports of this real R2Gen annotation.json (findings read from each report's words).")
        var fromAnnotation: String?

        func run() throws {
            let dir = URL(fileURLWithPath: out)
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            guard existing.isEmpty else { throw ValidationError("\(out) is not empty; choose a new folder") }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let start = Date()
            if let fromAnnotation {
                guard corpus.kind == .cxrReports else { throw ValidationError("--from-annotation applies to --kind cxr-reports") }
                let p = try corpus.parameters()
                try CXRCorpus.generate(fromAnnotation: URL(fileURLWithPath: fromAnnotation), to: dir, size: p.size, seed: p.seed) {
                    print("  \($0) studies")
                }
            } else {
                try CorpusCache.generate(corpus.kind, try corpus.parameters(), to: dir)
            }
            print(String(format: "wrote %@ corpus to %@ in %.1f s", corpus.kind.rawValue, out, Date().timeIntervalSince(start)))
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Draw a grid of samples with their boxes and text.")

        @OptionGroup var corpus: CorpusOptions
        @Option(help: "Output PNG.") var out: String
        @Option(help: "Samples in the grid.") var samples = 8

        func run() throws {
            var p = try corpus.parameters()
            p.count = min(p.count, max(samples, 1) * (corpus.kind == .cxrReports ? 1 : 1))
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-preview-\(ProcessInfo.processInfo.processIdentifier)")
            defer { try? FileManager.default.removeItem(at: tmp) }
            try CorpusCache.generate(corpus.kind, p, to: tmp, log: { _ in })
            let tiles = try CorpusPreview.tiles(kind: corpus.kind, dir: tmp, limit: samples)
            try ImageIO.writePNG(CorpusPreview.grid(tiles), to: URL(fileURLWithPath: out))
            print("wrote \(out) (\(tiles.count) samples)")
        }
    }
}
