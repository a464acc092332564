import Foundation

/// R2Gen's `annotation.json` for IU-Xray (two views per study) and MIMIC-CXR (one or more views):
/// `{"train": [...], "val": [...], "test": [...]}`, entries `{id, report, image_path: [...], split}`
/// with image paths relative to an images root.
public struct ReportStudy: Codable, Equatable, Sendable {
    public var id: String
    public var report: String
    public var image_path: [String]
    public var split: String

    public init(id: String, report: String, imagePaths: [String], split: String) {
        self.id = id; self.report = report; self.image_path = imagePaths; self.split = split
    }

    private enum CodingKeys: String, CodingKey { case id, report, image_path, split }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // MIMIC-CXR's file has numeric-looking ids in some releases; keep them as text.
        if let s = try? c.decode(String.self, forKey: .id) { id = s } else { id = String(try c.decode(Int.self, forKey: .id)) }
        report = try c.decode(String.self, forKey: .report)
        image_path = try c.decode([String].self, forKey: .image_path)
        split = try c.decodeIfPresent(String.self, forKey: .split) ?? ""
    }
}

public struct ReportDataset: Sendable {
    public var train: [ReportStudy]
    public var val: [ReportStudy]
    public var test: [ReportStudy]
    /// Folder that `image_path` entries are relative to.
    public var imagesRoot: URL

    public init(train: [ReportStudy], val: [ReportStudy], test: [ReportStudy], imagesRoot: URL) {
        self.train = train; self.val = val; self.test = test; self.imagesRoot = imagesRoot
    }

    public func split(_ name: String) -> [ReportStudy]? {
        ["train": train, "val": val, "test": test][name]
    }

    public func imageURLs(_ study: ReportStudy) -> [URL] { study.image_path.map { imagesRoot.appendingPathComponent($0) } }
}

public enum R2Gen {
    /// Reads `annotation.json`; `imagesRoot` defaults to an `images` folder beside it.
    /// With `viewsPerStudy` (2 for IU-Xray) every study must list exactly that many images.
    public static func read(_ url: URL, imagesRoot: URL? = nil, viewsPerStudy: Int? = nil) throws -> ReportDataset {
        let file = try decodeJSON([String: [ReportStudy]].self, from: url)
        for key in ["train", "val", "test"] where file[key] == nil {
            throw DatasetError(url, "missing split '\(key)' (R2Gen annotation.json has train, val and test)")
        }
        for (key, studies) in file {
            for (i, s) in studies.enumerated() {
                if s.image_path.isEmpty { throw DatasetError(url, "\(key)[\(i)] (id \(s.id)) lists no images") }
                if let v = viewsPerStudy, s.image_path.count != v {
                    throw DatasetError(url, "\(key)[\(i)] (id \(s.id)) lists \(s.image_path.count) images, expected \(v) views per study")
                }
            }
        }
        return ReportDataset(
            train: file["train"]!, val: file["val"]!, test: file["test"]!,
            imagesRoot: imagesRoot ?? url.deletingLastPathComponent().appendingPathComponent("images"))
    }

    public static func write(_ dataset: ReportDataset, to url: URL) throws {
        try writeJSON(["train": dataset.train, "val": dataset.val, "test": dataset.test], to: url)
    }
}
