import Injection

/// Horizontal mirroring as a training augmentation that keeps every answer true: the image is
/// flipped and "left" and "right" trade places in the prompt (question and hint), the answer and
/// the region tokens' phrases and boxes. The mirrored study is a patient with the same findings
/// on the other side, so a sided question keeps its answer only by reading the side from the
/// pixels; without it the model answered sided yes/no questions at chance.
struct SideMirror: Sendable {
    /// Word id -> the id of the word naming the other side.
    private let words: [Int: Int]
    /// Answer class -> the class of the answer with sides swapped (classify head).
    private let classes: [Int: Int]

    init(vocabulary: VQAVocabulary) {
        var words: [Int: Int] = [:]
        for (a, b) in Self.sides {
            if let i = vocabulary.index[a], let j = vocabulary.index[b] { words[i] = j; words[j] = i }
        }
        self.words = words
        var classes: [Int: Int] = [:]
        for (c, answer) in vocabulary.answers.enumerated() {
            if let other = vocabulary.answerClass(Self.swapSides(answer)), other != c { classes[c] = other }
        }
        self.classes = classes
    }

    static let sides = [("left", "right")]

    /// `text` with the side words swapped ("left lung" -> "right lung").
    static func swapSides(_ text: String) -> String {
        VQAVocabulary.join(VQAVocabulary.tokenize(text).map { word in
            sides.lazy.compactMap { $0.0 == word ? $0.1 : $0.1 == word ? $0.0 : nil }.first ?? word
        })
    }

    func ids(_ ids: [Int]) -> [Int] { ids.map { words[$0] ?? $0 } }

    func answerClass(_ c: Int) -> Int { classes[c] ?? c }

    /// A region of a mirrored image: box in [0, 1] coordinates flipped, phrase's side swapped.
    static func region(_ r: GroundedRegion) -> GroundedRegion {
        GroundedRegion(phrase: swapSides(r.phrase), score: r.score, box: [1 - r.box[2], r.box[1], 1 - r.box[0], r.box[3]])
    }
}
