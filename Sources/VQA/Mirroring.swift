import Injection

/// Left-right mirroring, the one flip a VQA image allows: the picture, its boxes and every "left"
/// and "right" of the question, the answer and the region phrases swap together, so a mirrored
/// example is as true as its original. Sided questions are few (267 yes/no ones in the embedded
/// SLAKE-format training split) and skewed ("right" is "yes" 88 times, "no" 57); mirrored copies
/// double them and take the skew away, so the answer has to come from the image or the hint.
enum Mirroring {
    /// "left" <-> "right" as whole words, keeping their capitalisation ("Left Lung" -> "Right Lung").
    static func swapSides(_ text: String) -> String {
        var out = "", word = ""
        func flush() {
            switch word.lowercased() {
            case "left": out += matchCase("right", word)
            case "right": out += matchCase("left", word)
            default: out += word
            }
            word = ""
        }
        for c in text {
            if c.isLetter { word.append(c) } else { flush(); out.append(c) }
        }
        flush()
        return out
    }

    private static func matchCase(_ word: String, _ like: String) -> String {
        if like == like.uppercased() { return word.uppercased() }
        if like.first!.isUppercase { return word.prefix(1).uppercased() + word.dropFirst() }
        return word
    }

    /// Regions (pixels of an image `width` wide) as they lie on the mirrored image.
    static func regions(_ regions: [GroundedRegion], width: Float) -> [GroundedRegion] {
        regions.map { GroundedRegion(phrase: swapSides($0.phrase), score: $0.score, box: [width - $0.box[2], $0.box[1], width - $0.box[0], $0.box[3]]) }
    }
}
