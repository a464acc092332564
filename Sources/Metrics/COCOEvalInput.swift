import Foundation

/// The part of a COCO ground-truth file that bbox evaluation reads (pycocotools `COCO`): image ids,
/// annotations with `bbox` [x, y, w, h], `area` and `iscrowd`, and categories. Defined here rather
/// than taken from `Datasets` so that Metrics depends on nothing but Text.
public struct COCOEvalGroundTruth: Codable, Sendable, Equatable {
    public struct Image: Codable, Sendable, Equatable {
        public var id: Int
        public init(id: Int) { self.id = id }
    }
    public struct Annotation: Codable, Sendable, Equatable {
        public var id: Int
        public var image_id: Int
        public var category_id: Int
        public var bbox: [Double]
        /// The area used for the small/medium/large ranges (for COCO, the segment's area, not w*h).
        /// pycocotools requires it; when absent we fall back to w*h.
        public var area: Double?
        /// Non-zero: a crowd region (ignored, matchable many times, IoU over the detection's area).
        /// pycocotools requires it; when absent we read 0. An `ignore` key has no effect in
        /// pycocotools (`_prepare` overwrites it with iscrowd), so it is not read at all.
        public var iscrowd: Int?
        public init(id: Int, imageID: Int, categoryID: Int, bbox: [Double], area: Double? = nil, iscrowd: Int? = nil) {
            self.id = id; image_id = imageID; category_id = categoryID; self.bbox = bbox; self.area = area; self.iscrowd = iscrowd
        }
    }
    public struct Category: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public init(id: Int, name: String) { self.id = id; self.name = name }
    }
    public var images: [Image]
    public var annotations: [Annotation]
    public var categories: [Category]
    public init(images: [Image], annotations: [Annotation], categories: [Category]) {
        self.images = images; self.annotations = annotations; self.categories = categories
    }
}

/// One entry of a COCO results file: `{image_id, category_id, bbox: [x, y, w, h], score}`.
public struct COCOEvalDetection: Codable, Sendable, Equatable {
    public var image_id: Int
    public var category_id: Int
    public var bbox: [Double]
    public var score: Double
    public init(imageID: Int, categoryID: Int, bbox: [Double], score: Double) {
        image_id = imageID; category_id = categoryID; self.bbox = bbox; self.score = score
    }
}

/// A ground-truth file and a results file, read and checked for `medglip score coco`.
public struct COCOEvalInputs: Sendable {
    public var groundTruth: COCOEvalGroundTruth
    public var detections: [COCOEvalDetection]
    /// Things pycocotools silently drops (annotations or detections of unknown categories, annotations
    /// on unknown images); evaluation drops them too, but a caller should say so.
    public var warnings: [String]

    /// Reads both files. Throws `ScoreInputError` naming the file and the entry for anything pycocotools
    /// would crash or assert on (missing keys, a bbox that is not 4 numbers, a detection on an image the
    /// ground truth does not have), and for duplicate annotation or category ids, which pycocotools
    /// collapses in its id-keyed indexes and then evaluates wrongly.
    public static func load(groundTruth gtURL: URL, detections dtURL: URL) throws -> COCOEvalInputs {
        let gt = try decode(COCOEvalGroundTruth.self, from: gtURL, what: "a COCO object with images, annotations and categories")
        let dts = try decode([COCOEvalDetection].self, from: dtURL, what: "a list of detections [{image_id, category_id, bbox, score}]")
        return try check(gt, dts, gtPath: gtURL.path, dtPath: dtURL.path)
    }

    /// The checks of `load` on already decoded values.
    public static func check(_ gt: COCOEvalGroundTruth, _ dts: [COCOEvalDetection], gtPath: String, dtPath: String) throws -> COCOEvalInputs {
        var warnings: [String] = []
        let images = Set(gt.images.map(\.id))
        var categories = Set<Int>()
        for c in gt.categories {
            guard categories.insert(c.id).inserted else { throw ScoreInputError(path: gtPath, problem: "category id \(c.id) appears twice") }
        }
        var annotationIDs = Set<Int>()
        var unknownImage = 0, unknownCategory = 0
        for (i, a) in gt.annotations.enumerated() {
            let at = "annotations[\(i)] (id \(a.id))"
            guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite) else {
                throw ScoreInputError(path: gtPath, problem: "\(at): bbox must be 4 finite numbers [x, y, w, h], got \(a.bbox)")
            }
            if let area = a.area, !area.isFinite { throw ScoreInputError(path: gtPath, problem: "\(at): area must be a finite number") }
            guard annotationIDs.insert(a.id).inserted else {
                throw ScoreInputError(path: gtPath, problem: "\(at): annotation id \(a.id) appears twice (pycocotools indexes annotations by id)")
            }
            if !images.contains(a.image_id) { unknownImage += 1 }
            if !categories.contains(a.category_id) { unknownCategory += 1 }
        }
        if unknownImage > 0 { warnings.append("\(gtPath): \(unknownImage) annotation(s) on image ids not in images; not evaluated") }
        if unknownCategory > 0 { warnings.append("\(gtPath): \(unknownCategory) annotation(s) with category ids not in categories; not evaluated") }
        var dtUnknownCategory = Set<Int>(), dtUnknownCount = 0
        for (i, d) in dts.enumerated() {
            guard d.bbox.count == 4, d.bbox.allSatisfy(\.isFinite) else {
                throw ScoreInputError(path: dtPath, problem: "[\(i)]: bbox must be 4 finite numbers [x, y, w, h], got \(d.bbox)")
            }
            guard d.score.isFinite else { throw ScoreInputError(path: dtPath, problem: "[\(i)]: score must be a finite number") }
            guard images.contains(d.image_id) else {
                throw ScoreInputError(path: dtPath, problem: "[\(i)]: image_id \(d.image_id) is not an image of the ground truth \(gtPath)")
            }
            if !categories.contains(d.category_id) { dtUnknownCategory.insert(d.category_id); dtUnknownCount += 1 }
        }
        if dtUnknownCount > 0 {
            let ids = dtUnknownCategory.sorted().prefix(5).map(String.init).joined(separator: ", ")
            warnings.append("\(dtPath): \(dtUnknownCount) detection(s) with category ids not in the ground truth (\(ids)); not evaluated")
        }
        return COCOEvalInputs(groundTruth: gt, detections: dts, warnings: warnings)
    }

    /// Decodes JSON, turning decoding failures into "file: where: what" messages.
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ScoreInputError(path: url.path, problem: "no such file") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw ScoreInputError(path: url.path, problem: describe(error, expected: what))
        }
    }

    static func describe(_ error: DecodingError, expected: String) -> String {
        func place(_ path: [CodingKey]) -> String {
            var s = ""
            for key in path { s += key.intValue.map { "[\($0)]" } ?? (s.isEmpty ? key.stringValue : ".\(key.stringValue)") }
            return s.isEmpty ? "top level" : s
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath)): missing key '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty { return "expected \(expected)" }
            return "\(place(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath)): expected \(typeName(type)), got null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "malformed JSON" : "\(place(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        default: return type is any Collection.Type ? "a list" : "an object"
        }
    }
}
