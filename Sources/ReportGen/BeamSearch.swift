/// A decoder that advances all hypotheses (rows) by one token at a time.
protocol StepDecoder {
    var vocabularySize: Int { get }
    /// Log-probabilities `[rows * vocabularySize]` of the next token after each row's `tokens`.
    mutating func step(_ tokens: [Int]) -> [Float]
    /// Keeps row `rows[i]`'s state as the new row `i`.
    mutating func reorder(_ rows: [Int])
}

/// Beam search over `batch` inputs with `beamSize` rows each (rows of input b are b*k ..< (b+1)*k).
/// A hypothesis's score is its summed log-probability (R2Gen decodes without a length penalty);
/// a hypothesis ends when it emits `end`, or at `maxLength` tokens. Returns each input's best
/// hypothesis without the end token. A beam size of 1 is greedy decoding.
struct BeamSearch {
    var beamSize: Int
    var maxLength: Int
    var start = 0, end = 0

    private struct Candidate { var row: Int; var token: Int; var score: Float }

    func run<D: StepDecoder>(_ decoder: inout D, batch: Int) -> [[Int]] {
        let k = beamSize, vocab = decoder.vocabularySize
        // Only the first row of each input is live at the start, so the first step fans out from it.
        var scores = (0..<(batch * k)).map { $0 % k == 0 ? Float(0) : -.infinity }
        var sequences = [[Int]](repeating: [], count: batch * k)
        var last = [Int](repeating: start, count: batch * k)
        var finished = [[(tokens: [Int], score: Float)]](repeating: [], count: batch)
        var done = [Bool](repeating: false, count: batch)
        for t in 0..<maxLength where done.contains(false) {
            let logProbs = decoder.step(last)
            var rows: [Int] = [], newScores: [Float] = [], newSequences: [[Int]] = [], newLast: [Int] = []
            for b in 0..<batch {
                var live: [Candidate] = []
                if !done[b] {
                    for c in best(logProbs, rows: (b * k)..<((b + 1) * k), scores: scores, vocab: vocab, count: 2 * k) {
                        let tokens = sequences[c.row]
                        if c.token == end || t == maxLength - 1 {
                            finished[b].append((c.token == end ? tokens : tokens + [c.token], c.score))
                        } else if live.count < k {
                            live.append(c)
                        }
                        if live.count == k { break }
                    }
                    // Scores only fall as tokens are added, so a finished hypothesis that beats every live one is final.
                    let bestFinished = finished[b].map(\.score).max() ?? -.infinity
                    if live.isEmpty || (finished[b].count >= k && bestFinished >= live[0].score) { done[b] = true; live = [] }
                }
                for i in 0..<k {
                    let c = i < live.count ? live[i] : Candidate(row: b * k, token: end, score: -.infinity)
                    rows.append(c.row); newScores.append(c.score); newLast.append(c.token)
                    newSequences.append(c.score.isFinite ? sequences[c.row] + [c.token] : [])
                }
            }
            decoder.reorder(rows)
            (scores, sequences, last) = (newScores, newSequences, newLast)
        }
        return finished.map { hypotheses in hypotheses.max { $0.score < $1.score }?.tokens ?? [] }
    }

    /// The `count` best (row, token) extensions of the live rows, best first.
    private func best(_ logProbs: [Float], rows: Range<Int>, scores: [Float], vocab: Int, count: Int) -> [Candidate] {
        var top: [Candidate] = []
        for r in rows where scores[r].isFinite {
            for v in 0..<vocab {
                let s = scores[r] + logProbs[r * vocab + v]
                guard top.count < count || s > top[top.count - 1].score else { continue }
                let at = top.firstIndex { $0.score < s } ?? top.count
                top.insert(Candidate(row: r, token: v, score: s), at: at)
                if top.count > count { top.removeLast() }
            }
        }
        return top
    }
}
