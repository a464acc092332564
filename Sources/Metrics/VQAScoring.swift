import Foundation

/// Medical VQA scoring as LLaVA-Med's evaluation does it (microsoft/LLaVA-Med,
/// llava/eval/eval_metrics and run_eval*.py): its answer normalisation, closed accuracy, and open
/// recall (token recall of the reference answer, its `calculate_f1score`); plus exact-match
/// accuracy (normalised strings equal), the metric classic Med-VQA papers report.
public enum VQAScoring {
    /// LLaVA-Med's two closed-question rules.
    public enum ClosedRule: String, Sendable, CaseIterable {
        /// run_eval_batch.py: correct when the normalised reference is a substring of the prediction.
        case substring
        /// run_eval.py as fixed by its PR #35: correct when the prediction contains "yes" or "no" and
        /// the reference; every closed question counts (before the fix, wrong yes/no answers were
        /// left out of the count).
        case yesno
    }

    public struct Item: Sendable, Equatable {
        public var questionID: String, question: String, answer: String, prediction: String, closed: Bool
        public init(questionID: String, question: String, answer: String, prediction: String, closed: Bool) {
            self.questionID = questionID; self.question = question; self.answer = answer; self.prediction = prediction; self.closed = closed
        }
    }

    public struct Result: Sendable, Equatable {
        public var closedAccuracy, openRecall, openExact, closedExact, overallExact: Double
        public var nOpen, nClosed: Int
        public var rule: ClosedRule
    }

    public static func score(_ items: [Item], rule: ClosedRule = .substring) -> Result {
        var closedHits: [Double] = [], openRecalls: [Double] = [], openExact: [Double] = [], closedExact: [Double] = []
        for item in items {
            let gt = normalize(item.answer.lowercased()), pred = normalize(item.prediction.lowercased())
            let exact: Double = gt == pred ? 1 : 0
            if item.closed {
                closedExact.append(exact)
                switch rule {
                case .substring: closedHits.append(pred.contains(gt) ? 1 : 0)
                case .yesno:
                    closedHits.append((pred.contains("yes") || pred.contains("no")) && pred.contains(gt) ? 1 : 0)
                }
            } else {
                openExact.append(exact)
                openRecalls.append(recall(candidate: pred, reference: gt))
            }
        }
        func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
        return Result(
            closedAccuracy: mean(closedHits), openRecall: mean(openRecalls), openExact: mean(openExact),
            closedExact: mean(closedExact), overallExact: mean(openExact + closedExact),
            nOpen: openExact.count, nClosed: closedExact.count, rule: rule)
    }

    /// `calculate_f1score`'s recall: both sides normalised (again), words counted; a candidate word
    /// present in the reference counts with the candidate's multiplicity, as the reference does.
    static func recall(candidate: String, reference: String) -> Double {
        let c = wordCounts(normalize(candidate)), r = wordCounts(normalize(reference))
        guard !c.isEmpty, !r.isEmpty else { return 0 }
        var tp = 0, fn = 0
        for w in Set(c.keys).union(r.keys) {
            if let nc = c[w], r[w] != nil { tp += nc } else if c[w] == nil, let nr = r[w] { fn += nr }
        }
        return tp == 0 ? 0 : Double(tp) / Double(tp + fn)
    }

    static func wordCounts(_ s: String) -> [Substring: Int] {
        var out: [Substring: Int] = [:]
        for w in s.lowercased().split(whereSeparator: { $0.isWhitespace }) { out[w, default: 0] += 1 }
        return out
    }

    // MARK: normalisation (glossary.normalize_word)

    static let punctuation: [String] = [";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
    static let numbers = [
        "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
        "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"
    ]
    static let articles: Set<String> = ["a", "an", "the"]

    /// LLaVA-Med's `normalize_word`, quirks included: a punctuation mark is deleted when it touches
    /// a space (or the text has a digit-comma-digit) and replaced by a space otherwise; periods not
    /// followed by a digit are removed, but only the first 32 (re.sub's count receives re.UNICODE);
    /// number words become digits, articles go, contractions are restored, commas are dropped.
    public static func normalize(_ text: String) -> String {
        let original = text
        var t = text
        let digitCommaDigit = original.range(of: #"\d,\d"#, options: .regularExpression) != nil
        for p in punctuation {
            if original.contains(p + " ") || original.contains(" " + p) || digitCommaDigit {
                t = t.replacingOccurrences(of: p, with: "")
            } else {
                t = t.replacingOccurrences(of: p, with: " ")
            }
        }
        t = removePeriods(t, limit: 32)
        var words: [String] = []
        for w in t.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init) {
            let mapped = numbers[w] ?? w
            if !articles.contains(mapped) { words.append(mapped) }
        }
        words = words.map { contractions[$0] ?? $0 }
        return words.joined(separator: " ").replacingOccurrences(of: ",", with: "")
    }

    /// Removes up to `limit` periods that are not followed by a digit.
    static func removePeriods(_ s: String, limit: Int) -> String {
        var out = "", removed = 0
        let chars = Array(s)
        for (i, ch) in chars.enumerated() {
            if ch == ".", removed < limit, !(i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber) {
                removed += 1
                continue
            }
            out.append(ch)
        }
        return out
    }

    /// The contraction repairs of LLaVA-Med's glossary (VQA-v2's list): "dont" -> "don't", ...
    static let contractions: [String: String] = {
        let pairs =
            """
            aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've|couldnt've couldn't've|didnt didn't|\
            doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've|hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|\
            he'dve he'd've|hes he's|howd how'd|howll how'll|hows how's|Id've I'd've|I'dve I'd've|Im I'm|Ive I've|isnt isn't|itd it'd|\
            itd've it'd've|it'dve it'd've|itll it'll|let's let's|maam ma'am|mightnt mightn't|mightnt've mightn't've|mightn'tve mightn't've|\
            mightve might've|mustnt mustn't|mustve must've|neednt needn't|notve not've|oclock o'clock|oughtnt oughtn't|ow's'at 'ow's'at|\
            'ows'at 'ow's'at|'ow'sat 'ow's'at|shant shan't|shed've she'd've|she'dve she'd've|she's she's|shouldve should've|shouldnt shouldn't|\
            shouldnt've shouldn't've|shouldn'tve shouldn't've|somebody'd somebodyd|somebodyd've somebody'd've|somebody'dve somebody'd've|\
            somebodyll somebody'll|somebodys somebody's|someoned someone'd|someoned've someone'd've|someone'dve someone'd've|\
            someonell someone'll|someones someone's|somethingd something'd|somethingd've something'd've|something'dve something'd've|\
            somethingll something'll|thats that's|thered there'd|thered've there'd've|there'dve there'd've|therere there're|theres there's|\
            theyd they'd|theyd've they'd've|they'dve they'd've|theyll they'll|theyre they're|theyve they've|twas 'twas|wasnt wasn't|\
            wed've we'd've|we'dve we'd've|weve we've|werent weren't|whatll what'll|whatre what're|whats what's|whatve what've|whens when's|\
            whered where'd|wheres where's|whereve where've|whod who'd|whod've who'd've|who'dve who'd've|wholl who'll|whos who's|whove who've|\
            whyll why'll|whyre why're|whys why's|wont won't|wouldve would've|wouldnt wouldn't|wouldnt've wouldn't've|wouldn'tve wouldn't've|\
            yall y'all|yall'll y'all'll|y'allll y'all'll|yall'd've y'all'd've|y'alld've y'all'd've|y'all'dve y'all'd've|youd you'd|\
            youd've you'd've|you'dve you'd've|youll you'll|youre you're|youve you've
            """
        return Dictionary(
            uniqueKeysWithValues: pairs.split(separator: "|").map { pair in
                let parts = pair.split(separator: " ")
                return (String(parts[0]), String(parts[1]))
            })
    }()
}
