import Foundation
import Tensor

/// The report sentences of `Corpora/cxr/phrasings.json`.
struct Phrasings: Codable, Sendable {
    struct NormalStatement: Codable, Sendable {
        var absent: [String]
        var negates: [String]
        var variants: [String]
    }
    var findings: [String: [String]]
    var uncertain: [String: [String]]
    var normal: [NormalStatement]
    var sizes: [String: [String]]
    var zones: [String: String]
    var locations: [String: [String]]
}

/// A composed report and the CheXpert labels it states: 1 positive, 0 negative, -1 uncertain,
/// nil not mentioned (CheXpert's blank).
public struct ComposedReport: Sendable {
    public var text: String
    public var labels: [String: Int?]
}

/// Writes IU-Xray-style findings for a study's rendered findings, in the order radiologists
/// dictate them: heart and mediastinum, lungs, pleura, bones, devices.
struct ReportComposer: Sendable {
    let phrasings: Phrasings
    let spec: ChestFindingsFile

    init(spec: ChestFindingsFile) throws {
        phrasings = try CorpusSpecs.load(Phrasings.self, "cxr/phrasings.json")
        self.spec = spec
    }

    static let order = [
        "cardiomegaly", "mediastinum", "nodule", "mass", "consolidation", "opacity", "atelectasis", "edema",
        "effusion", "pneumothorax", "fracture", "device"
    ]
    /// Which normal statement belongs before which findings group, so the report reads in order.
    static let normalSlot: [String: String] = [
        "Cardiomegaly": "cardiomegaly", "Enlarged Cardiomediastinum": "mediastinum",
        "Lung Lesion": "nodule", "Pleural Effusion": "effusion", "Pneumothorax": "effusion",
        "Fracture": "fracture"
    ]

    func compose(_ findings: [ChestFinding], rng: RandomGenerator) -> ComposedReport {
        var labels: [String: Int?] = Dictionary(uniqueKeysWithValues: spec.observations.map { ($0, Optional<Int>.none) })
        let present = Set(findings.map(\.kind))
        var sentences: [(slot: Int, text: String)] = []
        for f in findings.sorted(by: { Self.order.firstIndex(of: $0.kind)! < Self.order.firstIndex(of: $1.kind)! }) {
            let hedged = f.uncertain ? phrasings.uncertain[f.kind] : nil
            let variants = hedged ?? phrasings.findings[f.kind]!
            sentences.append((Self.order.firstIndex(of: f.kind)!, fill(variants[rng.int(variants.count)], f, rng)))
            // A certain mention wins over a hedged one of the same observation (CheXpert's rule).
            let observation = spec.findings[f.kind]!.observation
            labels[observation] = (hedged == nil || labels[observation]! == 1) ? 1 : -1
        }
        var negated = Set<String>()
        for statement in phrasings.normal where statement.absent.allSatisfy({ !present.contains($0) }) {
            guard !statement.negates.allSatisfy(negated.contains) else { continue }
            guard statement.negates.allSatisfy({ labels[$0]! == nil }) else { continue }
            negated.formUnion(statement.negates)
            for o in statement.negates { labels[o] = 0 }
            let slotKind = Self.normalSlot[statement.negates[0]] ?? "nodule"
            sentences.append((Self.order.firstIndex(of: slotKind)!, statement.variants[rng.int(statement.variants.count)]))
        }
        let positives = labels.filter { $0.key != "Support Devices" && $0.key != "No Finding" && ($0.value == 1 || $0.value == -1) }
        labels.updateValue(positives.isEmpty ? 1 : nil, forKey: "No Finding")
        let text = sentences.enumerated().sorted { ($0.element.slot, $0.offset) < ($1.element.slot, $1.offset) }.map(\.element.text).joined(
            separator: " ")
        return ComposedReport(text: text, labels: labels)
    }

    /// Fills {side}, {zone}, {size}, {location} and their capitalised forms.
    func fill(_ template: String, _ f: ChestFinding, _ rng: RandomGenerator) -> String {
        let sizeWords = phrasings.sizes[f.size] ?? [f.size]
        let size = sizeWords[rng.int(sizeWords.count)]
        let locations = phrasings.locations[f.zone] ?? ["{side} lung"]
        let location = locations[rng.int(locations.count)].replacingOccurrences(of: "{side}", with: f.side)
        var out = template
        for (key, value) in [("side", f.side), ("zone", phrasings.zones[f.zone] ?? f.zone), ("size", size), ("location", location)] {
            out = out.replacingOccurrences(of: "{\(key)}", with: value)
            out = out.replacingOccurrences(
                of: "{\(key.prefix(1).uppercased() + key.dropFirst())}", with: value.prefix(1).uppercased() + value.dropFirst())
        }
        return out
    }
}
