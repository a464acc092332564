import Foundation
import Imaging

/// Whether a question has a closed answer set (yes/no, either/or) or is open.
public enum AnswerType: String, Codable, Sendable { case open = "OPEN", closed = "CLOSED" }

/// A question about an image, in the shared form every VQA format is read into.
public struct VQAItem: Equatable, Sendable {
    public var qid: String
    public var imageName: String
    public var imageURL: URL
    public var question: String
    public var answer: String
    public var answerType: AnswerType
    /// SLAKE's content type or VQA-RAD's question type: what results are broken down by.
    public var category: String
    public var modality: String?
    public var organ: String?
    public var language: String

    public init(
        qid: String, imageName: String, imageURL: URL, question: String, answer: String, answerType: AnswerType,
        category: String, modality: String? = nil, organ: String? = nil, language: String = "en"
    ) {
        self.qid = qid; self.imageName = imageName; self.imageURL = imageURL; self.question = question
        self.answer = answer; self.answerType = answerType; self.category = category
        self.modality = modality; self.organ = organ; self.language = language
    }
}

/// A JSON scalar read as text: answers and ids are numbers in some records and strings in others.
public struct LenientString: Codable, Equatable, Sendable {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            value = s
        } else if let i = try? c.decode(Int.self) {
            value = String(i)
        } else if let d = try? c.decode(Double.self) {
            value = String(d)
        } else if let b = try? c.decode(Bool.self) {
            value = b ? "yes" : "no"
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or number"))
        }
    }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(value) }
}

func parseAnswerType(_ raw: String, at url: URL, index: Int) throws -> AnswerType {
    // VQA-RAD carries "CLOSED " with a trailing space in two records.
    guard let t = AnswerType(rawValue: raw.trimmingCharacters(in: .whitespaces).uppercased()) else {
        throw DatasetError(url, "record \(index): unknown answer_type '\(raw)' (expected OPEN or CLOSED)")
    }
    return t
}

/// SLAKE (Slake1.0): `train.json`, `validate.json`, `test.json`, images in `imgs/xmlabN/source.jpg`
/// with `mask.png` and `detection.json` beside each.
public enum SLAKE {
    public struct Record: Codable, Equatable {
        public var img_id: LenientString
        public var img_name: String
        public var question: String
        public var answer: LenientString
        public var q_lang: String
        public var location: String?
        public var modality: String?
        public var answer_type: String
        public var base_type: String?
        public var content_type: String?
        public var triple: [String]?
        public var qid: LenientString
    }

    /// File name of a split: `train`, `val`/`validate`, `test`.
    public static func fileName(split: String) -> String { split == "val" ? "validate.json" : "\(split).json" }

    /// Reads a split, keeping questions in `language` (`en` by default, `zh`, or nil for both).
    public static func read(root: URL, split: String, language: String? = "en") throws -> [VQAItem] {
        let url = root.appendingPathComponent(fileName(split: split))
        let records = try decodeJSON([Record].self, from: url)
        var items: [VQAItem] = []
        for (i, r) in records.enumerated() where language == nil || r.q_lang == language {
            items.append(
                VQAItem(
                    qid: r.qid.value, imageName: r.img_name, imageURL: root.appendingPathComponent("imgs/\(r.img_name)"),
                    question: r.question, answer: r.answer.value,
                    answerType: try parseAnswerType(r.answer_type, at: url, index: i),
                    category: r.content_type ?? "unknown", modality: r.modality, organ: r.location, language: r.q_lang))
        }
        return items
    }

    /// An image folder's `detection.json`: a list of single-key objects `{organ: [x, y, w, h]}` in pixels.
    public static func detections(imageURL: URL) throws -> [LabeledBox] {
        let url = imageURL.deletingLastPathComponent().appendingPathComponent("detection.json")
        let entries = try decodeJSON([[String: [Double]]].self, from: url)
        return try entries.enumerated().flatMap { i, entry in
            try entry.map { name, xywh in
                guard xywh.count == 4 else { throw DatasetError(url, "entry \(i) (\(name)): box must be [x, y, w, h], got \(xywh)") }
                return LabeledBox(label: name, box: Box(xywh: xywh.map(Float.init)))
            }
        }
    }
}

/// VQA-RAD in the MEVF split format: `trainset.json` / `testset.json`, images in `images/`.
public enum VQARAD {
    public struct Record: Codable, Equatable {
        public var qid: LenientString
        public var image_name: String
        public var image_organ: String?
        public var answer: LenientString
        public var answer_type: String
        public var question_type: String?
        public var question: String
        public var phrase_type: String?
    }

    /// `train` or `test` (the MEVF files); for a validation split see `carveValidation`.
    public static func read(root: URL, split: String) throws -> [VQAItem] {
        let url = root.appendingPathComponent("\(split)set.json")
        return try decodeJSON([Record].self, from: url).enumerated().map { i, r in
            VQAItem(
                qid: r.qid.value, imageName: r.image_name, imageURL: root.appendingPathComponent("images/\(r.image_name)"),
                question: r.question, answer: r.answer.value, answerType: try parseAnswerType(r.answer_type, at: url, index: i),
                category: r.question_type ?? "unknown", modality: nil, organ: r.image_organ)
        }
    }

    /// How a validation split is carved from the train file.
    public enum ValidationGrouping: String, Codable, Sendable, CaseIterable {
        /// Every image's questions on one side: validation images are unseen in training.
        case image
        /// Questions drawn one by one, each validation image keeping training questions too: the
        /// condition of VQA-RAD's official test split, whose 451 questions are all on training images.
        case question
    }

    /// Splits items into (train, validation), `fraction` of the images (grouped by image) or of the
    /// questions (grouped by question). Order comes from a seeded hash of the image name or
    /// question id, so the split does not depend on file order.
    public static func carveValidation(
        _ items: [VQAItem], by grouping: ValidationGrouping = .image, fraction: Double = 0.15,
        seed: UInt64 = 0
    ) -> (train: [VQAItem], val: [VQAItem]) {
        switch grouping {
        case .image:
            let images = Set(items.map(\.imageName)).sorted { stableHash($0, seed) < stableHash($1, seed) }
            let valImages = Set(images.prefix(Int((Double(images.count) * fraction).rounded())))
            return (items.filter { !valImages.contains($0.imageName) }, items.filter { valImages.contains($0.imageName) })
        case .question:
            // Question ids are short numbers, whose FNV hashes differ mostly in the low bits: ordered
            // by the raw hash, VQA-RAD's validation got no 3-digit id at all (and 59% "yes" against
            // 46% in training), so the hash is mixed first.
            let key = items.map { avalanche(stableHash($0.qid, seed)) }
            let order = items.indices.sorted { key[$0] < key[$1] }
            var isVal = [Bool](repeating: false, count: items.count)
            for i in order.prefix(Int((Double(items.count) * fraction).rounded())) { isVal[i] = true }
            // An image whose questions all fell into validation goes back to training whole.
            let trainImages = Set(items.indices.filter { !isVal[$0] }.map { items[$0].imageName })
            for i in items.indices where isVal[i] && !trainImages.contains(items[i].imageName) { isVal[i] = false }
            return (items.indices.filter { !isVal[$0] }.map { items[$0] }, items.indices.filter { isVal[$0] }.map { items[$0] })
        }
    }
}

/// MurmurHash3's 64-bit finaliser: every input bit flips about half the output bits.
func avalanche(_ h: UInt64) -> UInt64 {
    var k = h
    k ^= k >> 33; k = k &* 0xFF51_AFD7_ED55_8CCD
    k ^= k >> 33; k = k &* 0xC4CE_B9FE_1A85_EC53
    return k ^ (k >> 33)
}

/// FNV-1a over the UTF-8 bytes, mixed with a seed: stable across runs and machines (unlike `hashValue`).
public func stableHash(_ s: String, _ seed: UInt64) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}
