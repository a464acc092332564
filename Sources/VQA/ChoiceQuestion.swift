/// A question that names its answers ("Is the lesion solid or cystic?", "Is the trachea deviated to
/// the right or left?"). A model trained on few such questions tends to answer them with a finding
/// or a yes/no; answering one of the named options instead is what the question asks for. The
/// options are read from the question text alone (the word on each side of "or"), so this works
/// on any question, whatever its answer type.
public enum ChoiceQuestion {
    static let articles: Set<String> = ["the", "a", "an"]
    /// Words that end a clause before a comma rather than start a list ("Which side is it on, left
    /// or right?"), articles included.
    static let notListItems: Set<String> = articles.union(["on", "in", "at", "of", "to", "is", "are", "be", "it", "this", "that", "which", "what"])

    /// The words on either side of each "or" (articles and commas skipped), and the earlier items of
    /// a comma list before it: "Is gray or white matter highlighted?" -> ["gray", "white"], "Does it
    /// appear black, white or gray?" -> ["white", "gray", "black"]. Empty without an "or" between words.
    public static func options(_ question: String) -> [String] {
        let words = VQAVocabulary.tokenize(question)
        func isWord(_ w: String) -> Bool { w.first?.isLetter == true || w.first?.isNumber == true }
        var out: [String] = []
        func add(_ option: String) { if !out.contains(option) { out.append(option) } }
        for (i, w) in words.enumerated() where w == "or" {
            guard let b = words[..<i].lastIndex(where: { isWord($0) && !articles.contains($0) }),
                let after = words[(i + 1)...].first(where: { isWord($0) && !articles.contains($0) })
            else { continue }
            add(words[b]); add(after)
            var item = b
            while item >= 2, words[item - 1] == ",", isWord(words[item - 2]), !notListItems.contains(words[item - 2]) {
                item -= 2
                add(words[item])
            }
        }
        return out
    }

    /// The answers among `answers` (normalised training answers) that contain one of the question's
    /// options as a word (a hyphen separates words here, so "non-enhanced" offers "non" and
    /// "enhanced"), plus each option on its own; empty when the question names no options.
    public static func candidates(_ question: String, answers: [String]) -> [String] {
        let options = options(question)
        guard !options.isEmpty else { return [] }
        var out = options
        for answer in answers where !out.contains(answer) {
            let words = answer.split(whereSeparator: { $0 == " " || $0 == "-" }).map(String.init)
            if options.contains(where: words.contains) { out.append(answer) }
        }
        return out
    }
}
