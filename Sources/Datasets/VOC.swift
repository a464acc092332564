import Foundation
import Imaging

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Pascal VOC as distributed: `Annotations/ID.xml`, `JPEGImages/ID.jpg`, `ImageSets/Main/{split}.txt`.
/// VOC boxes are 1-based inclusive pixel indices; they are converted to continuous coordinates
/// (xmin 1 -> x1 0, xmax inclusive -> x2 = xmax).
public enum VOC {
    public struct Object: Equatable { public var name: String; public var box: Box; public var difficult: Bool }
    public struct Annotation: Equatable {
        public var filename: String
        public var width: Int
        public var height: Int
        public var objects: [Object]
    }

    /// Image ids listed for a split (`train`, `val`, `trainval`, `test`).
    public static func splitIDs(root: URL, split: String) throws -> [String] {
        let url = root.appendingPathComponent("ImageSets/Main/\(split).txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw DatasetError(
                url, FileManager.default.fileExists(atPath: url.path) ? "cannot be read as UTF-8 text" : "no such file (VOC split list)")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Reads a split into the shared grounding form. Categories are numbered in name order.
    public static func read(root: URL, split: String, includeDifficult: Bool = true) throws -> GroundingSplit {
        var samples: [GroundingSample] = []
        var names = Set<String>()
        for (i, id) in try splitIDs(root: root, split: split).enumerated() {
            let ann = try parse(root.appendingPathComponent("Annotations/\(id).xml"))
            let objects = ann.objects.filter { includeDifficult || !$0.difficult }
            names.formUnion(objects.map(\.name))
            samples.append(
                GroundingSample(
                    imageID: i + 1, imageURL: root.appendingPathComponent("JPEGImages/\(ann.filename)"),
                    width: ann.width, height: ann.height, modality: nil,
                    regions: objects.map { LabeledBox(label: $0.name, box: $0.box) }))
        }
        let categories = names.sorted().enumerated().map { Category(id: $0.offset + 1, name: $0.element) }
        return GroundingSplit(samples: samples, categories: categories)
    }

    /// Parses one annotation file; with `validate`, a box outside its image is an error.
    public static func parse(_ url: URL, validate: Bool = true) throws -> Annotation {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError(url, "no such file") }
        // FoundationXML's parser traps on element names that are not UTF-8; VOC files are ASCII.
        guard String(data: data, encoding: .utf8) != nil else { throw DatasetError(url, "not UTF-8 text (VOC annotations are XML in UTF-8)") }
        let tree = ElementTree()
        let parser = XMLParser(data: data)
        parser.delegate = tree
        guard parser.parse() else {
            throw DatasetError(
                url, "malformed XML at line \(parser.lineNumber): \(parser.parserError.map { "\($0.localizedDescription)" } ?? "parse error")")
        }
        if let open = tree.unclosed { throw DatasetError(url, "malformed XML: <\(open)> is never closed (truncated file?)") }
        let root = tree.document
        func int(_ node: ElementTree.Node?, _ what: String) throws -> Int {
            guard let text = node?.text, let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw DatasetError(url, "missing or non-numeric <\(what)>")
            }
            guard v.isFinite, abs(v) < 1e9 else { throw DatasetError(url, "<\(what)> \(text) is not a pixel coordinate") }
            return Int(v.rounded())
        }
        guard let filename = root.child("filename")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !filename.isEmpty else {
            throw DatasetError(url, "missing <filename>")
        }
        let size = root.child("size")
        let width = try int(size?.child("width"), "size/width"), height = try int(size?.child("height"), "size/height")
        var objects: [Object] = []
        for (k, o) in root.children("object").enumerated() {
            guard let name = o.child("name")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else {
                throw DatasetError(url, "object \(k + 1) has no <name>")
            }
            let b = o.child("bndbox")
            let (xmin, ymin) = (try int(b?.child("xmin"), "bndbox/xmin"), try int(b?.child("ymin"), "bndbox/ymin"))
            let (xmax, ymax) = (try int(b?.child("xmax"), "bndbox/xmax"), try int(b?.child("ymax"), "bndbox/ymax"))
            if validate {
                try checkBox(
                    Box(x1: Float(xmin - 1), y1: Float(ymin - 1), x2: Float(xmax), y2: Float(ymax)),
                    width: width, height: height, in: url, what: "object \(k + 1) (\(name))")
            }
            let difficult = (o.child("difficult")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") == "1"
            objects.append(
                Object(
                    name: name, box: Box(x1: Float(xmin - 1), y1: Float(ymin - 1), x2: Float(xmax), y2: Float(ymax)),
                    difficult: difficult))
        }
        return Annotation(filename: filename, width: width, height: height, objects: objects)
    }
}

/// A minimal element tree built from XMLParser events (VOC files are small).
final class ElementTree: NSObject, XMLParserDelegate {
    final class Node {
        let name: String
        var text = ""
        var kids: [Node] = []
        init(_ name: String) { self.name = name }
        func child(_ n: String) -> Node? { kids.first { $0.name == n } }
        func children(_ n: String) -> [Node] { kids.filter { $0.name == n } }
    }
    let root = Node("#document")
    private lazy var stack: [Node] = [root]

    /// The innermost element still open when the input ended, if any.
    var unclosed: String? { stack.count > 1 ? stack.last!.name : nil }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        let node = Node(name)
        stack.last!.kids.append(node)
        stack.append(node)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { stack.removeLast() }
    func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last!.text += string }
}

extension ElementTree.Node {
    /// The document's top element (`<annotation>`), or the document itself when empty.
    fileprivate var top: ElementTree.Node { kids.first ?? self }
}

extension ElementTree {
    fileprivate var document: Node { root.top }
}
