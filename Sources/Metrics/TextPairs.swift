import Foundation
import Text

/// Why scoring inputs could not be used; names the file and the problem.
public struct ScoreInputError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
}

/// References and hypotheses keyed by sample id, as `medglip score` reads them: JSON objects mapping
/// id -> string or list of strings (pycocoevalcap's `gts` / `res`; a hypothesis list holds one text).
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
        // pycocoevalcap's `res` shape: id -> a list holding the one hypothesis.
        let hyps = try readMap(hypotheses).reduce(into: [String: String]()) { out, entry in
            if let list = entry.value as? [String] {
                guard list.count == 1 else {
                    let problem = "id \(entry.key): a hypothesis list must hold one text, found \(list.count)"
                    throw ScoreInputError(path: hypotheses.path, problem: problem)
                }
                out[entry.key] = list[0]
            } else {
                out[entry.key] = entry.value as? String
            }
        }
        guard !hyps.isEmpty else { throw ScoreInputError(path: hypotheses.path, problem: "no hypotheses: the object is empty") }
        let missing = Set(hyps.keys).subtracting(refs.keys).sorted()
        guard missing.isEmpty else {
            throw ScoreInputError(
                path: references.path, problem: "no reference for \(missing.count) hypothesis id(s): \(missing.prefix(5).joined(separator: ", "))")
        }
        let extra = Set(refs.keys).subtracting(hyps.keys).sorted()
        guard extra.isEmpty else {
            throw ScoreInputError(
                path: hypotheses.path, problem: "no hypothesis for \(extra.count) reference id(s): \(extra.prefix(5).joined(separator: ", "))")
        }
        return TextPairs(references: refs, hypotheses: hyps)
    }

    /// The same pairs after R2Gen's report cleaning (`--tokenize r2gen`).
    public func cleaned(_ dataset: R2GenCleaning.Dataset) -> TextPairs {
        TextPairs(
            references: references.mapValues { $0.map { R2GenCleaning.clean($0, dataset: dataset) } },
            hypotheses: hypotheses.mapValues { R2GenCleaning.clean($0, dataset: dataset) })
    }

    static func readMap(_ url: URL) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ScoreInputError(path: url.path, problem: "no such file") }
        guard let object = try? JSONSerialization.jsonObject(with: data) else { throw ScoreInputError(path: url.path, problem: "malformed JSON") }
        guard let map = object as? [String: Any] else { throw ScoreInputError(path: url.path, problem: "must be a JSON object mapping id to text") }
        for (id, value) in map {
            if value is String { continue }
            if let list = value as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) { continue }
            throw ScoreInputError(path: url.path, problem: "id \(id): expected a string or a non-empty list of strings")
        }
        return map
    }
}
