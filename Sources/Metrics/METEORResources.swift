/// Word lists and matcher resources for METEOR (reference: METEOR 1.5, Denkowski and Lavie 2014,
/// `meteor-1.5.jar` as bundled with pycocoevalcap 1.2).
///
/// The English function-word list is the 93-entry `function/english.words` list METEOR 1.5 loads
/// (LGPL, Carnegie Mellon University), reproduced because the delta weighting of content versus
/// function words depends on exactly this list. The synonym stage (WordNet synsets) and the
/// paraphrase stage (a 1.5 GB-derived phrase table) cannot ship; their slots exist so that data
/// can be supplied, and they are empty by default. Their absence is the one known source of
/// difference to the jar (measured in Tests/MetricsTests/Fixtures/README.md).
public struct METEORResources: Sendable {
    /// Lower-cased words that count as function words (weight 1 - delta).
    public var functionWords: Set<String>
    /// Synonym stage: word -> ids of the synsets it belongs to; two words match when their sets
    /// intersect (and they matched neither exactly nor by stem). Empty by default.
    public var synonymSets: [String: Set<Int>]
    /// Paraphrase stage: phrase (tokens) -> phrases it may be matched with. Empty by default.
    public var paraphrases: [[String]: [[String]]]

    public init(
        functionWords: Set<String> = METEORResources.englishFunctionWords,
        synonymSets: [String: Set<Int>] = [:], paraphrases: [[String]: [[String]]] = [:]
    ) {
        self.functionWords = functionWords; self.synonymSets = synonymSets; self.paraphrases = paraphrases
    }

    public static let english = METEORResources()

    public static let englishFunctionWords: Set<String> = [
        "the", ",", ".", "to", "of", "and", "a", "in", "that", "for", "\"", "is", "on", "'s", "it", "with",
        "was", "as", "said", "at", "he", "by", "be", "from", "have", "has", "are", "his", "but", "an", "this",
        "not", "i", "will", "\u{2019}", "they", ")", "-rrb-", "(", "-lrb-", "who", "their", "had", "we", "which",
        "were", "been", "more", "or", "s", "its", "would", "about", "new", "one", "after", "you", ":", "also",
        "up", "when", "there", "than", "$", "all", "out", "her", "people", "she", "year", "two", "-", "can",
        "if", "last", "first", "\u{201C}", "over", "other", "\u{201D}", "into", "some", "what", "so", "--", "no",
        "time", "years", "could", "?", "'t", "\u{2014}", "'"
    ]
}
