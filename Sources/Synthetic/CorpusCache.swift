import Datasets
import Foundation

/// The embedded default corpora, generated on first use and reused after: keyed by kind, the
/// generation parameters and the bytes of the specs they were made from.
public enum CorpusKind: String, CaseIterable, Sendable {
    case cxrReports = "cxr-reports", grounding, slake

    /// Spec files whose content defines this corpus.
    var specFiles: [String] {
        switch self {
        case .cxrReports: return ["cxr/findings.json", "cxr/phrasings.json"]
        case .grounding: return ["cxr/findings.json", "grounding/modalities.json"]
        case .slake: return ["cxr/findings.json", "grounding/modalities.json", "slake/questions.json"]
        }
    }
}

public struct CorpusParameters: Sendable, Equatable {
    public var count: Int
    public var size: Int
    public var seed: UInt64
    public init(count: Int, size: Int, seed: UInt64) { self.count = count; self.size = size; self.seed = seed }
}

public enum CorpusCache {
    /// Bumped when the generator's code changes what it writes, so stale caches are not reused.
    static let generatorVersion = 1

    /// `MEDGLIP_CACHE` or `~/.cache/medglip`.
    public static func root() -> URL {
        if let env = ProcessInfo.processInfo.environment["MEDGLIP_CACHE"] { return URL(fileURLWithPath: env) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/medglip")
    }

    static func key(_ kind: CorpusKind, _ p: CorpusParameters) throws -> String {
        var text = "\(kind.rawValue) v\(generatorVersion) n\(p.count) px\(p.size) seed\(p.seed)"
        for file in kind.specFiles { text += String(decoding: try CorpusSpecs.bytes(file), as: UTF8.self) }
        return String(format: "%016llx", stableHash(text, 0))
    }

    /// The folder holding this corpus, generating it first when no complete copy exists.
    /// Generation writes into a temporary folder renamed into place, so an interrupted run never
    /// leaves a half corpus that a later run would trust.
    public static func ensure(
        _ kind: CorpusKind, _ p: CorpusParameters, cacheRoot: URL? = nil,
        log: @escaping @Sendable (String) -> Void = { print($0) }
    ) throws -> URL {
        let fm = FileManager.default
        let dir = (cacheRoot ?? root()).appendingPathComponent("corpora/\(kind.rawValue)-\(try key(kind, p))")
        if fm.fileExists(atPath: dir.appendingPathComponent(".complete").path) { return dir }
        try fm.createDirectory(at: dir.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = dir.deletingLastPathComponent().appendingPathComponent(".\(dir.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: tmp)
        log("generating the embedded \(kind.rawValue) corpus (\(p.count) items, \(p.size) px, seed \(p.seed)) in \(dir.path)")
        let start = Date()
        try generate(kind, p, to: tmp, log: log)
        try Data().write(to: tmp.appendingPathComponent(".complete"))
        try? fm.removeItem(at: dir)
        try fm.moveItem(at: tmp, to: dir)
        log(String(format: "generated in %.1f s", Date().timeIntervalSince(start)))
        return dir
    }

    /// Writes a corpus of `kind` into `dir` (what `medglip corpus generate` runs).
    public static func generate(_ kind: CorpusKind, _ p: CorpusParameters, to dir: URL, log: @escaping @Sendable (String) -> Void = { print($0) })
        throws
    {
        switch kind {
        case .cxrReports:
            try CXRCorpus.generate(to: dir, count: p.count, size: p.size, seed: p.seed) { log("  \($0) / \(p.count) studies") }
        case .grounding:
            try GroundingCorpus.generate(
                to: dir, renderers: try GroundingCorpus.defaultRenderers(), countPerModality: p.count,
                size: p.size, seed: p.seed)
        case .slake:
            try SlakeCorpus.generate(to: dir, count: p.count, size: p.size, seed: p.seed) { log("  \($0) / \(p.count) images") }
        }
    }
}
