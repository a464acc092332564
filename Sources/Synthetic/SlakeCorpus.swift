import Datasets
import Foundation
import Imaging
import Tensor

/// The phantom VQA corpus in SLAKE's layout (`SLAKE.read` and `SLAKE.detections` read it):
/// `imgs/xmlabN/source.jpg`, `mask.png` (pixel value = structure id of `Corpora/slake/questions.json`),
/// `detection.json` (`[{label: [x, y, w, h]}]`, one entry per box), and `train.json`,
/// `validate.json`, `test.json` (70/15/15 by image). Images cycle through CT, MRI and chest X-ray;
/// every answer is measured from the image's own regions. Each image's renderer and question
/// generators are seeded from (seed, index) alone, so output does not depend on scheduling.
public enum SlakeCorpus {
    /// CT and MRI from the grounding spec, then the chest X-ray renderer: the order images cycle in.
    public static func defaultRenderers() throws -> [any PhantomRenderer] {
        GroundingSpec.renderers(try GroundingSpec.load()).filter { ["CT", "MRI"].contains($0.modality) } + [try ChestXrayRenderer()]
    }

    /// One SLAKE record; field names and order of meaning are SLAKE's.
    struct Record: Codable {
        var img_id: Int
        var img_name: String
        var question: String
        var answer: String
        var q_lang: String
        var location: String
        var modality: String
        var answer_type: String
        var base_type: String
        var content_type: String
        var triple: [String]
        var qid: Int
    }

    /// What one image job leaves for the split files.
    struct Made: Sendable {
        var modality: String
        var location: String
        var questions: [SlakeQuestion]
    }

    public static func generate(
        to dir: URL, count: Int, size: Int, seed: UInt64, renderers: [any PhantomRenderer]? = nil,
        progress: (@Sendable (Int) -> Void)? = nil
    ) throws {
        let spec = try SlakeSpec.load()
        let renderers = try renderers ?? defaultRenderers()
        for r in renderers where spec.modalities[r.modality] == nil {
            throw DatasetError(SlakeSpec.file, "no modality entry for renderer '\(r.modality)'")
        }
        let imgs = dir.appendingPathComponent("imgs")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        let made = try generateInParallel(count, progress: progress) { i in
            try makeImage(i, renderer: renderers[i % renderers.count], size: size, seed: seed, spec: spec, imgs: imgs)
        }
        try writeSplits(made, spec: spec, seed: seed, dir: dir)
    }

    /// Renders, measures and writes one image folder; returns its questions.
    static func makeImage(_ index: Int, renderer: any PhantomRenderer, size: Int, seed: UInt64, spec: SlakeSpec, imgs: URL) throws -> Made {
        let phantom = renderer.render(size: size, rng: RandomGenerator(seed: stableHash("slake-\(index)", seed)))
        let (facts, labelMask, gray) = try SlakeMeasure.measure(phantom, spec: spec)
        let folder = imgs.appendingPathComponent("xmlab\(index)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ImageIO.writeJPEG(phantom.image, to: folder.appendingPathComponent("source.jpg"), quality: spec.jpeg_quality)
        let maskImage = Image(width: size, height: size, channels: 1, pixels: labelMask.map { Float($0) / 255 })
        try ImageIO.writePNG(maskImage, to: folder.appendingPathComponent("mask.png"), fast: true)
        try writeJSON(detections(facts), to: folder.appendingPathComponent("detection.json"))
        // Questions draw from their own stream, so rewording the spec never changes an image.
        let questions = SlakeQuestions.generate(facts, gray: gray, spec: spec, rng: RandomGenerator(seed: stableHash("slake-q-\(index)", seed)))
        let m = spec.modalities[phantom.modality]!
        return Made(modality: m.answer, location: m.location, questions: questions)
    }

    /// SLAKE's detection.json: one single-key object per box, in integer pixels.
    static func detections(_ facts: SlakeImageFacts) -> [[String: [Int]]] {
        facts.structures.flatMap { s in s.components.map { c in [s.label: c.box.xywh.map { Int($0.rounded()) }] } }
    }

    /// Image indices of each split: a seeded shuffle cut at the spec's fractions.
    static func splitIndices(count: Int, spec: SlakeSpec, seed: UInt64) -> [(name: String, indices: [Int])] {
        var order = Array(0..<count)
        RandomGenerator(seed: stableHash("slake/split", seed)).shuffle(&order)
        let train = Int((Double(count) * (spec.splits["train"] ?? 0.7)).rounded())
        let val = min(count - train, Int((Double(count) * (spec.splits["validate"] ?? 0.15)).rounded()))
        return [
            ("train", Array(order.prefix(train))), ("validate", Array(order.dropFirst(train).prefix(val))),
            ("test", Array(order.dropFirst(train + val)))
        ]
    }

    /// Records numbered in image order (qid), then written per split in image order.
    static func writeSplits(_ made: [Made], spec: SlakeSpec, seed: UInt64, dir: URL) throws {
        var records: [[Record]] = []
        var qid = 0
        for (i, m) in made.enumerated() {
            records.append(
                m.questions.map { q in
                    defer { qid += 1 }
                    return Record(
                        img_id: i, img_name: "xmlab\(i)/source.jpg", question: q.question, answer: q.answer, q_lang: "en",
                        location: m.location, modality: m.modality, answer_type: q.answerType.rawValue, base_type: "vqa",
                        content_type: q.contentType, triple: ["vhead", "_", "_"], qid: qid)
                })
        }
        for (name, indices) in splitIndices(count: made.count, spec: spec, seed: seed) {
            try writeJSON(indices.sorted().flatMap { records[$0] }, to: dir.appendingPathComponent("\(name).json"))
        }
    }
}
