import Datasets
import Foundation
import Imaging

/// Preview tiles of the SLAKE-format corpus: source.jpg with its detection boxes, a few of its
/// questions and answers underneath.
enum SlakePreview {
    /// Location and size questions first: they are the ones a look at the boxes can check.
    static let captionOrder = ["Position", "Size", "Quantity", "Abnormality", "Color", "Shape", "Organ", "Modality", "Plane"]

    static func tiles(dir: URL, limit: Int, questionsPerTile: Int = 4) throws -> [Image] {
        let items = try ["train", "val", "test"].flatMap { try SLAKE.read(root: dir, split: $0) }
        let byImage = Dictionary(grouping: items, by: \.imageName)
        let names = byImage.keys.sorted { imageNumber($0) < imageNumber($1) }.prefix(limit)
        return try names.map { name in
            let questions = byImage[name]!
            let url = questions[0].imageURL
            let drawn = try ImageIO.read(url).drawing(try SLAKE.detections(imageURL: url).map { Annotation(box: $0.box, label: $0.label) })
            return CorpusPreview.captioned(drawn, caption(questions, limit: questionsPerTile))
        }
    }

    /// One question per content type in `captionOrder`, as "Q? A." pairs.
    static func caption(_ items: [VQAItem], limit: Int) -> String {
        let picked = captionOrder.compactMap { type in items.first { $0.category == type } }.prefix(limit)
        return picked.map { "\($0.question) - \($0.answer)." }.joined(separator: " ")
    }

    /// N of "xmlabN/source.jpg", so tiles follow the image numbers.
    static func imageNumber(_ name: String) -> Int { Int(name.dropFirst("xmlab".count).prefix { $0.isNumber }) ?? 0 }
}
