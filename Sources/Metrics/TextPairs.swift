import Foundation
import Text

/// Why scoring inputs could not be used; names the file and the problem.
public struct ScoreInputError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// References and hypotheses keyed by sample id, as `medglip score` reads them:
/// JSON objects mapping id -> string (refs may map id -> list of strings).
public struct TextPairs: Sendable, Equatable {
    public var references: [String: [String]]
    public var hypotheses: [String: String]

    public init(references: [String: [String]], hypotheses: [String: String]) {
        self.references = references; self.hypotheses = hypotheses
    }

    /// Sample ids in a fixed (sorted) order, as every corpus-level metric iterates them.
    public var ids: [String] { hypotheses.keys.sorted() }

    public static func load(references: URL, hypotheses: URL) throws -> TextPairs {
        let refs = try readMap(references).mapValues { value -> [String] in
            if let s = value as? String { return [s] }
            return value as! [String]
        }
        let hyps = try readMap(hypotheses, allowLists: false).mapValues { $0 as! String }
        let missing = Set(hyps.keys).subtracting(refs.keys).sorted()
        guard missing.isEmpty else {
            throw ScoreInputError(path: references.path, problem: "no reference for \(missing.count) hypothesis id(s): \(missing.prefix(5).joined(separator: ", "))")
        }
        let extra = Set(refs.keys).subtracting(hyps.keys).sorted()
        guard extra.isEmpty else {
            throw ScoreInputError(path: hypotheses.path, problem: "no hypothesis for \(extra.count) reference id(s): \(extra.prefix(5).joined(separator: ", "))")
        }
        return TextPairs(references: refs, hypotheses: hyps)
    }

    /// The same pairs after R2Gen's report cleaning (`--tokenize r2gen`).
    public func cleaned(_ dataset: R2GenCleaning.Dataset) -> TextPairs {
        TextPairs(references: references.mapValues { $0.map { R2GenCleaning.clean($0, dataset: dataset) } },
                  hypotheses: hypotheses.mapValues { R2GenCleaning.clean($0, dataset: dataset) })
    }

    static func readMap(_ url: URL, allowLists: Bool = true) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ScoreInputError(path: url.path, problem: "no such file") }
        guard let object = try? JSONSerialization.jsonObject(with: data) else { throw ScoreInputError(path: url.path, problem: "malformed JSON") }
        guard let map = object as? [String: Any] else { throw ScoreInputError(path: url.path, problem: "must be a JSON object mapping id to text") }
        for (id, value) in map {
            if value is String { continue }
            if allowLists, let list = value as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) { continue }
            throw ScoreInputError(path: url.path, problem: "id \(id): expected a string\(allowLists ? " or a non-empty list of strings" : "")")
        }
        return map
    }
}
