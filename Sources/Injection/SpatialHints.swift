import Foundation

/// A grounded phrase: what the grounding stage (or the ground truth) says is where.

/// The hint templates of `Prompts/hints/<name>.json`.
public struct HintTemplates: Codable, Sendable {
    public struct SizeWord: Codable, Sendable { public var below: Double; public var word: String }
    public var sizes: [SizeWord]
    public var zones: [String]
    /// A box reaching at least this fraction of its width past the midline on both sides is "bilateral".
    public var bilateral_overlap: Double
    public var `default`: String
    public var phrases: [String: String]
    /// Phrases that name anatomy: they locate findings and get no hint of their own.
    public var anatomy: [String]
    /// The anatomy whose union box is the frame sides, zones and sizes are measured in (the lungs
    /// on a chest film); the whole image when absent or not all of them were found.
    public var field: [String]?
    /// The word that opens the hint of a detection the grounder is unsure of ("possible"), as a
    /// radiologist hedges a faint finding; see `InjectionOptions.hedgeBelow`.
    public var hedge: String?
}

/// Turns boxes into the words a radiologist would use ("small lung nodule in the right upper zone",
/// "large left pleural effusion"): side, zone and size from the box relative to the templates'
/// field (the lungs on a chest film, the abdomen on an abdominal CT).
public struct SpatialHints: Sendable {
    public let templates: HintTemplates

    public init(_ templates: HintTemplates) { self.templates = templates }

    /// `Prompts/hints/<name>.json`.
    public init(named name: String) throws {
        self.init(try PromptFiles.decode(HintTemplates.self, "hints/\(name).json"))
    }

    /// Every word a hint about `phrases` can contain (with the hedge word when `hedged`), sorted:
    /// the hint vocabulary of a model.
    public func vocabulary(phrases: [String], hedged: Bool = false) -> [String] {
        let fixed =
            ([templates.default] + Array(templates.phrases.values) + templates.sizes.map(\.word) + templates.zones
            + ["right", "left", "bilateral", "."] + (hedged ? [templates.hedge].compactMap { $0 } : []) + phrases).joined(separator: " ")
        let words = fixed.split(separator: " ").map(String.init).filter { !$0.hasPrefix("{") }
        return Array(Set(words)).sorted()
    }

    /// One sentence per non-anatomy region, in the order given; a region scoring below
    /// `hedgeBelow` gets the templates' hedge word in front.
    public func sentences(for regions: [GroundedRegion], imageWidth: Int, imageHeight: Int, hedgeBelow: Float = 0) -> [String] {
        let names = templates.field ?? []
        let parts = names.compactMap { name in regions.first { $0.phrase == name }?.box }
        let field: [Float] =
            !names.isEmpty && parts.count == names.count
            ? [parts.map(\.x1).min()!, parts.map(\.y1).min()!, parts.map(\.x2).max()!, parts.map(\.y2).max()!]
            : [0, 0, Float(imageWidth), Float(imageHeight)]
        return regions.filter { !templates.anatomy.contains($0.phrase) }.map { r in
            let text = sentence(r, field: field)
            guard r.score < hedgeBelow, let hedge = templates.hedge else { return text }
            return hedge + " " + text
        }
    }

    func sentence(_ r: GroundedRegion, field: [Float]) -> String {
        let (fw, fh) = (max(field[2] - field[0], 1), max(field[3] - field[1], 1))
        let (cx, cy) = ((r.box.x1 + r.box.x2) / 2, (r.box.y1 + r.box.y2) / 2)
        let midline = field[0] + fw / 2
        let reach = templates.bilateral_overlap * Double(r.box.width)
        let spansBoth = Double(midline - r.box.x1) >= reach && Double(r.box.x2 - midline) >= reach
        // Radiographic convention: the image's left half is the patient's right.
        let side = spansBoth ? "bilateral" : (cx < midline ? "right" : "left")
        let band = Int(((cy - field[1]) / fh * Float(templates.zones.count)).rounded(.down))
        let zone = templates.zones[min(max(band, 0), templates.zones.count - 1)]
        let area = Double(r.box.width * r.box.height / (fw * fh))
        let size = templates.sizes.first { area < $0.below }?.word ?? templates.sizes.last!.word
        return (templates.phrases[r.phrase] ?? templates.default)
            .replacingOccurrences(of: "{size}", with: size).replacingOccurrences(of: "{side}", with: side)
            .replacingOccurrences(of: "{zone}", with: zone).replacingOccurrences(of: "{phrase}", with: r.phrase)
    }
}
