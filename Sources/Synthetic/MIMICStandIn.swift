import Datasets
import Foundation
import Imaging

/// A full-size stand-in for MIMIC-CXR in R2Gen's layout (the real data needs credentials):
/// `annotation.json` with R2Gen's fields (`id`, `study_id`, `subject_id`, `report`, `image_path`,
/// `split`) and `images/p1X/pSUBJECT/sSTUDY/ID.jpg`, each a symbolic link into `pool/`, a few
/// hundred phantom chest X-rays (JPEG, frontal view) whose reports the studies reuse.
public enum MIMICStandIn {
    /// R2Gen's MIMIC-CXR split: train, val, test studies.
    public static let r2genSplit = (train: 270_790, val: 2_130, test: 3_858)

    /// Split sizes for `train` training studies, val and test in R2Gen's proportions (at least one each).
    public static func splitSizes(train: Int) -> (train: Int, val: Int, test: Int) {
        let scale = Double(train) / Double(r2genSplit.train)
        return (train, max(1, Int((Double(r2genSplit.val) * scale).rounded())), max(1, Int((Double(r2genSplit.test) * scale).rounded())))
    }

    public static func write(
        to dir: URL, trainStudies: Int, poolSize: Int, imageSize: Int, seed: UInt64, progress: (String) -> Void = { _ in }
    ) throws {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: dir.appendingPathComponent("annotation.json").path) else {
            throw DatasetError(dir, "already holds an annotation.json; choose an empty folder")
        }
        let pool = dir.appendingPathComponent("pool")
        progress("rendering \(poolSize) phantom studies into \(pool.path)")
        let rendered = dir.appendingPathComponent("pool-rendering")
        try CXRCorpus.generate(to: rendered, count: poolSize, size: imageSize, seed: seed)
        let corpus = try R2Gen.read(rendered.appendingPathComponent("annotation.json"))
        let sources = corpus.train + corpus.val + corpus.test
        try fm.createDirectory(at: pool, withIntermediateDirectories: true)
        for study in sources {
            try ImageIO.writeJPEG(try ImageIO.read(corpus.imageURLs(study)[0]), to: pool.appendingPathComponent("\(study.id).jpg"))
        }
        try fm.removeItem(at: rendered)
        let sizes = splitSizes(train: trainStudies)
        let total = sizes.train + sizes.val + sizes.test
        progress("linking \(total) studies (\(sizes.train) train, \(sizes.val) val, \(sizes.test) test) to the pool")
        // Each report is escaped once; the file is written in chunks, never held whole.
        let reports = try sources.map { String(decoding: try JSONEncoder().encode($0.report), as: UTF8.self) }
        let out = dir.appendingPathComponent("annotation.json.partial")
        guard fm.createFile(atPath: out.path, contents: nil) else { throw DatasetError(out, "cannot be created") }
        let file = try FileHandle(forWritingTo: out)
        var buffer = "{"
        var index = 0
        for (name, count) in [("train", sizes.train), ("val", sizes.val), ("test", sizes.test)] {
            buffer += (name == "train" ? "" : "], ") + "\"\(name)\": ["
            for k in 0..<count {
                let source = index % sources.count
                let subject = 10_000_000 + index / 3, study = 50_000_000 + index
                let id = String(format: "%08x-%08x", UInt32(truncatingIfNeeded: index &* 2_654_435_761), UInt32(truncatingIfNeeded: study))
                let path = "p\(subject / 1_000_000)/p\(subject)/s\(study)/\(id).jpg"
                let link = dir.appendingPathComponent("images/\(path)")
                try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.createSymbolicLink(atPath: link.path, withDestinationPath: "../../../../pool/\(sources[source].id).jpg")
                buffer += (k == 0 ? "" : ", ")
                buffer += "{\"id\": \"\(id)\", \"study_id\": \(study), \"subject_id\": \(subject), \"report\": \(reports[source]), "
                buffer += "\"image_path\": [\"\(path)\"], \"split\": \"\(name)\"}"
                index += 1
                if buffer.utf8.count > 1 << 20 {
                    try file.write(contentsOf: Data(buffer.utf8))
                    buffer = ""
                }
                if index % 50_000 == 0 { progress("\(index) of \(total) studies") }
            }
        }
        buffer += "]}\n"
        try file.write(contentsOf: Data(buffer.utf8))
        try file.close()
        try fm.moveItem(at: out, to: dir.appendingPathComponent("annotation.json"))
    }
}
