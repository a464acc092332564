import Foundation

/// Hint templates per imaging modality, as `Prompts/hints/modalities.json` assigns them (the chest
/// templates for X-ray, the abdominal ones for CT, ...). Modality names match without regard to
/// case, so SLAKE's "X-Ray" finds the grounding stage's "X-ray".
public struct ModalityHints: Sendable {
    let hints: [String: SpatialHints]

    public init(_ hints: [String: SpatialHints]) {
        self.hints = Dictionary(hints.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    public static func load() throws -> ModalityHints {
        let names = try PromptFiles.decode([String: String].self, "hints/modalities.json").filter { $0.key != "description" }
        return ModalityHints(try names.mapValues { try SpatialHints(named: $0) })
    }

    public subscript(modality: String?) -> SpatialHints? { modality.flatMap { hints[$0.lowercased()] } }

    /// The phrases any modality's templates treat as anatomy (no hint of their own).
    public var anatomy: Set<String> { Set(hints.values.flatMap(\.templates.anatomy)) }

    /// Every word a hint about `phrases` can contain in any modality, sorted.
    public func vocabulary(phrases: [String], hedged: Bool = false) -> [String] {
        Array(Set(hints.values.flatMap { $0.vocabulary(phrases: phrases, hedged: hedged) })).sorted()
    }
}
