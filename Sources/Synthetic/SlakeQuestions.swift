import Datasets
import Foundation
import Tensor

/// A generated question with its answer, in SLAKE's terms.
struct SlakeQuestion: Sendable, Equatable {
    var question: String
    var answer: String
    var answerType: AnswerType
    var contentType: String
}

/// Question generation for one image from its measured facts. Every template of
/// `Corpora/slake/questions.json` lists its candidates (the words to fill in and the answer that
/// follows from the image's regions); yes/no templates mark which candidates are true, so the
/// sampler can ask a "yes" and a "no" question in turn and keep the answers balanced.
enum SlakeQuestions {
    static let known: Set<String> = [
        "modality", "modality_yes_no", "plane", "plane_yes_no", "body_part", "abnormal_organ", "organ_in_quadrant", "organ_present",
        "finding_position", "finding_side", "finding_side_yes_no", "finding_image_region", "finding_in_organ", "organ_side",
        "larger_of_two", "wider_than", "size_class", "heart_enlarged", "organ_count", "finding_count", "lesion_count",
        "finding_present", "organ_abnormal", "organ_healthy", "image_normal", "diseases", "shape", "shape_round",
        "finding_color", "organ_color", "darker_or_brighter"
    ]

    /// A way to ask a template: the placeholder values, the answer, and for yes/no templates
    /// whether the statement holds.
    struct Candidate {
        var fills: [String: String]
        var answer: String
        var truth: Bool?
    }

    /// About `spec.questions_per_image` distinct questions: each slot draws a template by its share
    /// of the spec's mix (among templates with something left to ask), then one of its candidates.
    static func generate(_ facts: SlakeImageFacts, gray: [Float], spec: SlakeSpec, rng: RandomGenerator) -> [SlakeQuestion] {
        let asker = SlakeAsker(facts: facts, gray: gray, spec: spec)
        var pools = spec.templates.map { asker.candidates($0.id, rng: rng) }
        let share = templateShares(spec)
        var wantYes = rng.chance(0.5)
        var out: [SlakeQuestion] = []
        for _ in 0..<spec.questions_per_image {
            let usable = { (c: Candidate) in c.truth == nil || c.truth == wantYes }
            let open = spec.templates.indices.filter { pools[$0].contains(where: usable) }
            guard let t = weightedPick(open, share, rng) else { break }
            let choices = pools[t].indices.filter { usable(pools[t][$0]) }
            let c = pools[t].remove(at: choices[rng.int(choices.count)])
            let template = spec.templates[t]
            out.append(
                SlakeQuestion(
                    question: fill(template.texts[rng.int(template.texts.count)], c.fills), answer: c.answer,
                    answerType: template.answer_type, contentType: template.content_type))
            if c.truth != nil { wantYes.toggle() }
        }
        return out
    }

    /// Each template's share of slots: its content type's share split by template weight. A type
    /// with only some templates askable in an image gets only their part of its share there, so a
    /// normal image does not fill its Position slots with the few questions it has (organ sides).
    static func templateShares(_ spec: SlakeSpec) -> [Double] {
        let perType = Dictionary(grouping: spec.templates, by: \.content_type).mapValues { $0.reduce(0) { $0 + ($1.weight ?? 1) } }
        return spec.templates.map { t in (spec.content_types[t.content_type] ?? 0) * (t.weight ?? 1) / max(perType[t.content_type]!, 1e-9) }
    }

    static func weightedPick(_ indices: [Int], _ weights: [Double], _ rng: RandomGenerator) -> Int? {
        let total = indices.reduce(0) { $0 + weights[$1] }
        guard total > 0 else { return nil }
        var r = Double(rng.uniform()) * total
        for i in indices { r -= weights[i]; if r < 0 { return i } }
        return indices.last
    }

    static func fill(_ text: String, _ fills: [String: String]) -> String {
        fills.keys.sorted().reduce(text) { $0.replacingOccurrences(of: "{\($1)}", with: fills[$1]!) }
    }
}

/// "word words" -> "Word words": answers start with a capital, as SLAKE's do.
func capitalizedFirst(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

/// "left lung" -> "Left Lung": structure names as SLAKE writes them in answers.
func titleCased(_ s: String) -> String { s.split(separator: " ").map { capitalizedFirst(String($0)) }.joined(separator: " ") }

/// Each template's candidates for one image (see `Corpora/slake/questions.json` for the wording
/// and thresholds). Answers come only from the measured structures.
struct SlakeAsker {
    typealias Candidate = SlakeQuestions.Candidate
    let facts: SlakeImageFacts
    let gray: [Float]
    let spec: SlakeSpec
    var th: SlakeSpec.Thresholds { spec.thresholds }
    var modality: SlakeSpec.Modality { spec.modalities[facts.modality]! }
    func word(_ key: String) -> String { spec.word(key) }

    func candidates(_ id: String, rng: RandomGenerator) -> [Candidate] {
        switch id {
        case "modality": return [Candidate(fills: [:], answer: modality.answer, truth: nil)]
        case "modality_yes_no":
            return spec.modalities.keys.sorted().map { yesNo(["modality": spec.modalities[$0]!.word], $0 == facts.modality) }
        case "plane": return [Candidate(fills: [:], answer: spec.planes[modality.plane] ?? modality.plane, truth: nil)]
        case "plane_yes_no": return spec.planes.keys.sorted().map { yesNo(["plane": $0], $0 == modality.plane) }
        case "body_part": return [Candidate(fills: [:], answer: modality.location, truth: nil)]
        case "abnormal_organ": return abnormalOrgan()
        case "organ_in_quadrant": return organInQuadrant()
        case "organ_present": return organPresent()
        case "finding_position": return findingPosition()
        case "finding_side": return findingSide()
        case "finding_side_yes_no": return findingSideYesNo()
        case "finding_image_region": return findingImageRegion()
        case "finding_in_organ": return findingInOrgan(rng)
        case "organ_side": return organSide()
        case "larger_of_two": return largerOfTwo(rng)
        case "wider_than": return widerThan()
        case "size_class": return sizeClass()
        case "heart_enlarged": return heartEnlarged()
        case "organ_count": return organCount()
        case "finding_count": return findingCount()
        case "lesion_count": return lesionCount()
        case "finding_present": return findingPresent()
        case "organ_abnormal": return organAbnormal(healthy: false)
        case "organ_healthy": return organAbnormal(healthy: true)
        case "image_normal": return [yesNo([:], diseases().isEmpty)]
        case "diseases":
            let d = diseases()
            return [Candidate(fills: [:], answer: d.isEmpty ? word("none") : d.joined(separator: ", "), truth: nil)]
        case "shape": return single.map { Candidate(fills: ["structure": $0.spec.noun], answer: word(shape($0.components[0])), truth: nil) }
        case "shape_round": return single.map { yesNo(["structure": $0.spec.noun], shape($0.components[0]) == "round") }
        case "finding_color": return findingColor()
        case "organ_color": return organColor()
        case "darker_or_brighter": return darkerOrBrighter()
        default: return []
        }
    }

    func yesNo(_ fills: [String: String], _ truth: Bool) -> Candidate {
        Candidate(fills: fills, answer: word(truth ? "yes" : "no"), truth: truth)
    }

    var organs: [SlakeStructure] { facts.structures.filter { $0.spec.kind == .organ } }
    /// Findings and devices present, in the renderer's order.
    var present: [SlakeStructure] { facts.findings }
    /// Structures of one piece (a size, shape or side is then unambiguous), body outlines excluded.
    var single: [SlakeStructure] { facts.structures.filter { $0.components.count == 1 && $0.spec.kind != .container } }

    // MARK: Organ

    /// Organs (by the spec's organ word) with a disease, drawn or measured.
    func abnormalOrgans() -> Set<String> {
        Set(
            present.filter { $0.spec.kind == .finding }.compactMap(\.spec.organ)
                + facts.derivedFindings.compactMap { spec.derived_findings[$0]?.organ })
    }

    func abnormalOrgan() -> [Candidate] {
        let organs = abnormalOrgans()
        guard organs.count == 1 else { return [] }
        return [Candidate(fills: [:], answer: capitalizedFirst(organs.first!), truth: nil)]
    }

    /// Quadrants one organ clearly dominates (covers `quadrant_dominance` times the next one).
    func organInQuadrant() -> [Candidate] {
        let (w, h) = (facts.width, facts.height)
        let quarter = Float(w * h) / 4
        return spec.quadrants.enumerated().compactMap { q, name in
            let cover = modality.quadrant_organs.compactMap(facts.structure).map { s -> (SlakeStructure, Float) in
                (
                    s,
                    Float(
                        s.components.reduce(0) { n, c in n + c.pixels.filter { ($0 % w < w / 2) == (q % 2 == 0) && ($0 / w < h / 2) == (q < 2) }.count
                        })
                )
            }.sorted { $0.1 > $1.1 }
            guard let best = cover.first, best.1 > 0.05 * quarter else { return nil }
            guard cover.count < 2 || best.1 >= th.quadrant_dominance * cover[1].1 else { return nil }
            return Candidate(fills: ["quadrant": name], answer: best.0.spec.answer, truth: nil)
        }
    }

    func organPresent() -> [Candidate] {
        spec.structures.filter { $0.value.kind == .organ }.keys.sorted().map { label in
            yesNo(["organ": spec.structures[label]!.noun], facts.structure(label) != nil)
        }
    }

    // MARK: Position

    /// "Right upper lung", "Left lobe of the liver", "Both lower lungs": the structure's sides
    /// (patient's) and the frame third of its pieces' mean centre.
    func findingPosition() -> [Candidate] {
        present.compactMap { s in
            guard let format = s.spec.position else { return nil }
            let sides = facts.sides(s, margin: th.side_margin)
            guard !sides.isEmpty else { return nil }
            let y = s.components.reduce(0) { $0 + $1.box.center.y } / Float(s.components.count)
            let zone = modality.zones[facts.zone(y: y)]
            let text = sides.count == 2 ? format.both : format.one.replacingOccurrences(of: "{Side}", with: word(sides.first!))
            return Candidate(
                fills: ["finding": s.spec.noun], answer: capitalizedFirst(text.replacingOccurrences(of: "{zone}", with: zone)), truth: nil)
        }
    }

    /// Findings lying on exactly one side of the patient.
    var sided: [(SlakeStructure, String)] {
        present.compactMap { s in
            let sides = facts.sides(s, margin: th.side_margin)
            return sides.count == 1 && s.components.allSatisfy({ facts.side(x: $0.box.center.x, margin: th.side_margin) != nil })
                ? (s, sides.first!) : nil
        }
    }

    func findingSide() -> [Candidate] { sided.map { Candidate(fills: ["finding": $0.0.spec.noun], answer: word($0.1), truth: nil) } }

    func findingSideYesNo() -> [Candidate] {
        sided.flatMap { s, side in ["right", "left"].map { yesNo(["finding": s.spec.noun, "side": $0], $0 == side) } }
    }

    /// The cell of a 3x3 grid over the image holding every piece's centre.
    func findingImageRegion() -> [Candidate] {
        present.compactMap { s in
            let cells = Set(
                s.components.map { c in
                    [min(2, Int(3 * c.box.center.y / Float(facts.height))), min(2, Int(3 * c.box.center.x / Float(facts.width)))]
                })
            guard cells.count == 1, let cell = cells.first else { return nil }
            return Candidate(fills: ["finding": s.spec.noun], answer: spec.image_regions[cell[0]][cell[1]], truth: nil)
        }
    }

    /// "Is the nodule in the right lung?": true for its host organ, false for one organ it does not
    /// touch (one, so that an image does not ask the same "no" about every other organ).
    func findingInOrgan(_ rng: RandomGenerator) -> [Candidate] {
        present.flatMap { s -> [Candidate] in
            guard let host = facts.host(s) else { return [] }
            let others = organs.filter { o in o.label != host && !s.components.contains { c in c.pixels.contains { o.inside[$0] } } }
            let hostNoun = facts.structure(host)!.spec.noun
            return [yesNo(["finding": s.spec.noun, "organ": hostNoun], true)]
                + (others.isEmpty ? [] : [yesNo(["finding": s.spec.noun, "organ": others[rng.int(others.count)].spec.noun], false)])
        }
    }

    /// Organs of one piece off the midline whose name does not already say the side.
    func organSide() -> [Candidate] {
        single.filter { $0.spec.kind == .organ && !$0.spec.noun.contains("right") && !$0.spec.noun.contains("left") }.compactMap { s in
            facts.side(x: s.components[0].box.center.x, margin: th.side_margin).map {
                Candidate(fills: ["organ": s.spec.noun], answer: word($0), truth: nil)
            }
        }
    }

    // MARK: Size

    /// Pairs of one-piece structures whose areas differ by at least `larger_margin`, named in random
    /// order. Their boxes must agree: a thin ring (the skull) has few pixels but a large outline,
    /// and "larger" would then depend on the reader.
    func largerOfTwo(_ rng: RandomGenerator) -> [Candidate] {
        var out: [Candidate] = []
        for (i, a) in single.enumerated() {
            for b in single[(i + 1)...] {
                let (big, small) = a.area >= b.area ? (a, b) : (b, a)
                guard Float(big.area) >= th.larger_margin * Float(small.area), big.components[0].box.area > small.components[0].box.area else {
                    continue
                }
                let (first, second) = rng.chance(0.5) ? (a, b) : (b, a)
                out.append(Candidate(fills: ["a": first.spec.noun, "b": second.spec.noun], answer: titleCased(big.spec.noun), truth: nil))
            }
        }
        return out
    }

    /// Longer box side over the image width.
    func extent(_ c: SlakeComponent) -> Float { max(c.box.width, c.box.height) / Float(facts.width) }

    var singleFindings: [SlakeStructure] { single.filter(\.isFinding) }

    /// Thresholds at least `size_margin` away from the true extent, on either side.
    func widerThan() -> [Candidate] {
        singleFindings.flatMap { s in
            let e = extent(s.components[0])
            return th.width_percentages.compactMap { pct -> Candidate? in
                let t = Float(pct) / 100
                let fills = ["finding": s.spec.noun, "pct": String(pct)]
                if e >= th.size_margin * t { return yesNo(fills, true) }
                if e * th.size_margin <= t { return yesNo(fills, false) }
                return nil
            }
        }
    }

    func sizeClass() -> [Candidate] {
        singleFindings.map { s in
            let e = extent(s.components[0])
            let key = e < th.size_small_below ? "small" : (e > th.size_large_above ? "large" : "medium")
            return Candidate(fills: ["finding": s.spec.noun], answer: word(key), truth: nil)
        }
    }

    func heartEnlarged() -> [Candidate] {
        guard let ratio = facts.cardiothoracicRatio else { return [] }
        return [yesNo(["ratio": String(th.cardiothoracic_ratio)], ratio > th.cardiothoracic_ratio)]
    }

    // MARK: Quantity

    /// Pieces of every organ of a group ("lung": right and left lung).
    func organCount() -> [Candidate] {
        let groups = Set(organs.compactMap(\.spec.group))
        return groups.sorted().map { g in
            let n = organs.filter { $0.spec.group == g }.reduce(0) { $0 + $1.components.count }
            return Candidate(fills: ["organs": g + "s"], answer: String(n), truth: nil)
        }
    }

    /// Pieces of each countable finding the modality can show ("0" when absent).
    func findingCount() -> [Candidate] {
        modality.findings.compactMap { label in
            guard let plural = spec.structures[label]?.plural else { return nil }
            return Candidate(fills: ["findings": plural], answer: String(facts.structure(label)?.components.count ?? 0), truth: nil)
        }
    }

    func lesionCount() -> [Candidate] {
        guard modality.findings.contains(where: { spec.structures[$0]?.focal == true }) else { return [] }
        let n = present.filter { $0.spec.focal == true }.reduce(0) { $0 + $1.components.count }
        return [Candidate(fills: [:], answer: String(n), truth: nil)]
    }

    // MARK: Abnormality

    func findingPresent() -> [Candidate] {
        modality.findings.compactMap { label in
            if let d = spec.derived_findings[label] { return yesNo(["a finding": d.indefinite], facts.derivedFindings.contains(label)) }
            guard let s = spec.structures[label], let a = s.indefinite else { return nil }
            return yesNo(["a finding": a], facts.structure(label) != nil)
        }
    }

    /// Disease names present (devices are not diseases), sorted.
    func diseases() -> [String] {
        (present.filter { $0.spec.kind == .finding }.map(\.spec.answer) + facts.derivedFindings.compactMap { spec.derived_findings[$0]?.answer })
            .sorted()
    }

    /// "Does the right lung look abnormal?": a disease of that organ, and for a sided organ
    /// (one of a group) a piece of it lying in that organ.
    func organAbnormal(healthy: Bool) -> [Candidate] {
        modality.organs_for_abnormality.map { phrase in
            let sidedOrgan = spec.structures[phrase].flatMap { $0.group == nil ? nil : ($0.group!, phrase) }
            let base = sidedOrgan?.0 ?? phrase
            let drawn = present.contains { s in
                s.spec.kind == .finding && s.spec.organ == base && (sidedOrgan == nil || s.components.contains { $0.host == phrase })
            }
            let measured = facts.derivedFindings.contains { spec.derived_findings[$0]?.organ == base }
            return yesNo(["organ": phrase], (drawn || measured) != healthy)
        }
    }

    // MARK: Shape

    func shape(_ c: SlakeComponent) -> String {
        if c.fill < th.irregular_below_fill { return "irregular" }
        return c.elongation <= th.round_max_elongation ? "round" : "oval"
    }

    // MARK: Color

    /// Findings with a host organ and their intensity minus the organ's (outside every finding).
    var contrasts: [(SlakeStructure, SlakeStructure, Float)] {
        present.compactMap { s in
            guard let host = facts.host(s).flatMap(facts.structure), let bg = facts.backgroundIntensity(host, image: gray) else { return nil }
            let n = s.components.reduce(0) { $0 + $1.pixels.count }
            let mean = s.components.reduce(0) { $0 + $1.meanIntensity * Float($1.pixels.count) } / Float(n)
            return (s, host, mean - bg)
        }
    }

    func findingColor() -> [Candidate] {
        contrasts.map { s, _, d in
            let key = d <= -th.contrast ? "dark" : (d >= th.contrast ? "bright" : "gray")
            return Candidate(fills: ["finding": s.spec.noun], answer: word(key), truth: nil)
        }
    }

    func organColor() -> [Candidate] {
        organs.map { o in
            let n = o.area, mean = o.components.reduce(0) { $0 + $1.meanIntensity * Float($1.pixels.count) } / Float(max(n, 1))
            let key = mean < th.dark_below ? "dark" : (mean > th.bright_above ? "bright" : "gray")
            return Candidate(fills: ["organ": o.spec.noun], answer: word(key), truth: nil)
        }
    }

    func darkerOrBrighter() -> [Candidate] {
        contrasts.filter { abs($0.2) >= th.contrast }.map { s, host, d in
            Candidate(fills: ["finding": s.spec.noun, "organ": host.spec.noun], answer: word(d < 0 ? "darker" : "brighter"), truth: nil)
        }
    }
}
