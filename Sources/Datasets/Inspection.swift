import Foundation
import Imaging

/// What `medglip data inspect` reports: counts per split, label and modality, and every problem
/// found (the inspection never stops at the first).
public struct Inspection: Sendable {
    /// Section title -> (key, count), e.g. "questions per split" -> [("train", 3064)].
    public var counts: [(section: String, rows: [(String, Int)])] = []
    public var problems: [String] = []
    /// Distinct images decoded.
    public var imagesDecoded = 0

    public init() {}

    mutating func count(_ section: String, _ values: [String]) {
        var tally: [String: Int] = [:]
        for v in values { tally[v, default: 0] += 1 }
        counts.append((section, tally.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }))
    }

    /// Human-readable report; long lists of one kind of problem are summarised.
    public func render(maxPerKind: Int = 10) -> String {
        var lines: [String] = []
        for (section, rows) in counts {
            lines.append("\(section):")
            for (k, v) in rows { lines.append("  \(k.padding(toLength: max(24, k.count), withPad: " ", startingAt: 0)) \(v)") }
        }
        lines.append("images decoded: \(imagesDecoded)")
        if problems.isEmpty {
            lines.append("no problems found")
        } else {
            lines.append("\(problems.count) problem(s):")
            var shown: [String: Int] = [:]
            for p in problems {
                let kind = String(p.split(separator: ":").last ?? "")
                shown[kind, default: 0] += 1
                if shown[kind]! <= maxPerKind { lines.append("  " + p) }
            }
            for (kind, n) in shown.sorted(by: { $0.key < $1.key }) where n > maxPerKind {
                lines.append("  ... and \(n - maxPerKind) more of:\(kind)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

public enum DatasetFormat: String, CaseIterable, Sendable { case coco, voc, r2gen, slake, vqaRAD = "vqa-rad" }

extension Inspection {
    /// Inspects a dataset folder in the given format: every record is checked (a bad one is a listed
    /// problem, not the end), and every image it lists is decoded.
    public static func run(format: DatasetFormat, dataDir: URL) throws -> Inspection {
        var report = Inspection()
        let fm = FileManager.default
        func exists(_ url: URL) -> Bool { fm.fileExists(atPath: url.path) }
        // (what lists the image, the image): decoded together at the end, each image once.
        var images: [(owner: String, url: URL)] = []
        switch format {
        case .coco:
            let files = ((try? fm.contentsOfDirectory(atPath: dataDir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
            guard !files.isEmpty else { throw DatasetError(dataDir, "no COCO .json files in this folder") }
            var perSplit: [String] = [], labels: [String] = [], modalities: [String] = []
            for f in files {
                let json = try LenientJSON(dataDir.appendingPathComponent(f))
                let split = (f as NSString).deletingPathExtension
                let categories = json.elements(COCOFile.Category.self, at: "categories", problems: &report.problems)
                let imageList = json.elements(COCOFile.Image.self, at: "images", problems: &report.problems)
                let annotations = json.elements(COCOFile.Annotation.self, at: "annotations", problems: &report.problems)
                let names = Dictionary(categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
                let byID = Dictionary(imageList.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                perSplit += Array(repeating: split, count: imageList.count)
                modalities += imageList.map { $0.modality ?? "unknown" }
                images += imageList.map { ("\(f): image \($0.id) \($0.file_name)", dataDir.appendingPathComponent($0.file_name)) }
                for a in annotations {
                    guard let name = names[a.category_id] else {
                        report.problems.append("\(f): annotation \(a.id): unknown category_id \(a.category_id)"); continue
                    }
                    labels.append(name)
                    guard let img = byID[a.image_id] else {
                        report.problems.append("\(f): annotation \(a.id): unknown image_id \(a.image_id)")
                        continue
                    }
                    guard a.bbox.count == 4 else { report.problems.append("\(f): annotation \(a.id): bbox is not [x, y, w, h]"); continue }
                    let box = Box(xywh: a.bbox.map(Float.init))
                    if !box.isValid {
                        report.problems.append("\(f): annotation \(a.id): empty or inverted box")
                    } else if !box.isInside(width: Float(img.width), height: Float(img.height)) {
                        report.problems.append("\(f): annotation \(a.id) on image \(img.id): box outside the image")
                    }
                }
            }
            report.count("images per file", perSplit); report.count("boxes per label", labels); report.count("images per modality", modalities)
        case .voc:
            var perSplit: [String] = [], labels: [String] = []
            for split in ["train", "val", "trainval", "test"] where exists(dataDir.appendingPathComponent("ImageSets/Main/\(split).txt")) {
                for id in try VOC.splitIDs(root: dataDir, split: split) {
                    perSplit.append(split)
                    guard split != "trainval" else { continue }
                    do {
                        let ann = try VOC.parse(dataDir.appendingPathComponent("Annotations/\(id).xml"), validate: false)
                        labels += ann.objects.map(\.name)
                        images.append((id, dataDir.appendingPathComponent("JPEGImages/\(ann.filename)")))
                        for (k, o) in ann.objects.enumerated() {
                            if !o.box.isValid {
                                report.problems.append("\(id) object \(k + 1) (\(o.name)): empty or inverted box")
                            } else if !o.box.isInside(width: Float(ann.width), height: Float(ann.height)) {
                                report.problems.append("\(id) object \(k + 1) (\(o.name)): box outside the image")
                            }
                        }
                    } catch { report.problems.append("\(error)") }
                }
            }
            if perSplit.isEmpty { throw DatasetError(dataDir, "no ImageSets/Main/{train,val,trainval,test}.txt (not a VOC folder)") }
            report.count("images per split", perSplit); report.count("boxes per label (train, val, test)", labels)
        case .r2gen:
            let json = try LenientJSON(dataDir.appendingPathComponent("annotation.json"))
            let imagesRoot = dataDir.appendingPathComponent("images")
            var perSplit: [String] = [], views: [String] = []
            let rootMissing = !exists(imagesRoot)
            if rootMissing { report.problems.append("\(imagesRoot.path): images folder missing (report text only)") }
            for name in ["train", "val", "test"] {
                let studies = json.elements(ReportStudy.self, at: name, problems: &report.problems)
                perSplit += Array(repeating: name, count: studies.count)
                for s in studies {
                    views.append("\(s.image_path.count) view(s)")
                    if s.report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { report.problems.append("\(name) \(s.id): empty report") }
                    if s.image_path.isEmpty { report.problems.append("\(name) \(s.id): lists no images") }
                    if !rootMissing { images += s.image_path.map { ("\(name) \(s.id)", imagesRoot.appendingPathComponent($0)) } }
                }
            }
            report.count("studies per split", perSplit); report.count("views per study", views)
        case .slake, .vqaRAD:
            let splits = format == .slake ? ["train", "val", "test"] : ["train", "test"]
            var perSplit: [String] = [], types: [String] = [], categories: [String] = [], modalities: [String] = []
            var found = false
            for split in splits {
                let file = format == .slake ? SLAKE.fileName(split: split) : "\(split)set.json"
                let url = dataDir.appendingPathComponent(file)
                guard exists(url) else { continue }
                found = true
                let json = try LenientJSON(url)
                let raw:
                    [(qid: String, image: URL, question: String, answer: String, type: String, category: String, modality: String?, lang: String)]
                if format == .slake {
                    raw = json.elements(SLAKE.Record.self, problems: &report.problems).map {
                        (
                            $0.qid.value, dataDir.appendingPathComponent("imgs/\($0.img_name)"), $0.question, $0.answer.value, $0.answer_type,
                            $0.content_type ?? "unknown", $0.modality, $0.q_lang
                        )
                    }
                } else {
                    raw = json.elements(VQARAD.Record.self, problems: &report.problems).map {
                        (
                            $0.qid.value, dataDir.appendingPathComponent("images/\($0.image_name)"), $0.question, $0.answer.value, $0.answer_type,
                            $0.question_type ?? "unknown", $0.image_organ, "en"
                        )
                    }
                }
                for r in raw {
                    perSplit.append("\(split) (\(r.lang))"); categories.append(r.category); modalities.append(r.modality ?? "unknown")
                    let t = r.type.trimmingCharacters(in: .whitespaces).uppercased()
                    types.append(t)
                    if AnswerType(rawValue: t) == nil { report.problems.append("\(file) qid \(r.qid): unknown answer type '\(r.type)'") }
                    if r.answer.trimmingCharacters(in: .whitespaces).isEmpty { report.problems.append("\(file) qid \(r.qid): empty answer") }
                    if r.question.trimmingCharacters(in: .whitespaces).isEmpty { report.problems.append("\(file) qid \(r.qid): empty question") }
                    images.append(("\(file) qid \(r.qid)", r.image))
                }
            }
            guard found else {
                throw DatasetError(dataDir, "no \(format == .slake ? "train.json/validate.json/test.json" : "trainset.json/testset.json") here")
            }
            report.count("questions per split", perSplit); report.count("answer types", types)
            report.count(format == .slake ? "questions per content type" : "questions per question type", categories)
            report.count(format == .slake ? "questions per modality" : "questions per organ", modalities)
        }
        let broken = imageProblems(images.map(\.url))
        var reported = Set<URL>()
        for (owner, url) in images {
            let key = url.standardizedFileURL
            guard let problem = broken[key], reported.insert(key).inserted else { continue }
            report.problems.append("\(owner) \(url.lastPathComponent): \(problem)")
        }
        report.imagesDecoded = Set(images.map { $0.url.standardizedFileURL }).count
        return report
    }
}
