/// METEOR 1.5's aligner (`edu.cmu.meteor.aligner.Aligner`), reproduced step by step, because the
/// score depends on which alignment the jar's beam search settles on, not on the best one:
/// - stages run in order exact -> stem -> synonym -> paraphrase; each adds every candidate pair it
///   finds (a stage does not skip words an earlier stage already matched); identical sentences run
///   the exact stage only;
/// - a reference word with exactly one candidate, whose words have no other candidate at all, is
///   fixed before the search;
/// - a left-to-right beam search (width 40) over reference positions keeps, per step, the paths that
///   sort first by (weighted matches, fewer chunks, smaller distance). The weighted match counts are
///   Java `int` fields updated with `+= length * weight` under the alignment weights 1/0.5/0.5/0.5,
///   so a non-exact single-word match adds (int)(count + 0.5) - count = 0: stem matches never make a
///   path rank higher. The distance of a new path is added to the path it was copied from, not the
///   new one. Both are the reference's behaviour and kept.
/// The chosen alignment's matches and chunks are then recounted from its match array. One bound the
/// jar lacks: each reference word keeps at most `candidatesPerWord` candidates per stage.
struct METEORAligner {
    struct Match: Equatable {
        var module: Int
        var start: Int  // position in the reference (line 2)
        var length: Int
        var matchStart: Int  // position in the hypothesis (line 1)
        var matchLength: Int
    }

    /// One tokenised, lower-cased sentence with the keys the matchers compare. Keys are Java
    /// `String.hashCode` values because the jar compares those (collisions included).
    struct Sentence {
        var words: [String]
        var keys: [Int32]
        var stemKeys: [Int32]
        var isFunctionWord: [Bool]
    }

    struct Result {
        var matches: [Match?]
        var contentMatches1: [Int], contentMatches2: [Int], functionMatches1: [Int], functionMatches2: [Int]
        var line1Matches: Int, line2Matches: Int, chunks: Int
    }

    static let moduleCount = 4
    /// Weights used only to rank partial alignments (MeteorScorer sets exact 1, others 0.5).
    static let alignmentWeights: [Double] = [1.0, 0.5, 0.5, 0.5]
    static let beamSize = 40

    static func javaHash(_ s: String) -> Int32 {
        var h: Int32 = 0
        for c in s.utf16 { h = h &* 31 &+ Int32(c) }
        return h
    }

    /// The matches a path took while branching, newest first, shared between the paths that continue it.
    final class Taken {
        let match: Match, earlier: Taken?
        init(_ match: Match, _ earlier: Taken?) { self.match = match; self.earlier = earlier }
    }

    /// A partial alignment. The reference positions it has used are those of the definite matches
    /// plus `idx` (a branch's match covers positions below its end, and the search only looks
    /// ahead of itself), so only the hypothesis side needs a set: a bitset, copied per survivor.
    struct Path {
        var taken: Taken?
        var line1Used: [UInt64]
        var matches1 = 0, matches2 = 0
        var chunks = 0, idx = 0, lastMatchEnd = -1, distance = 0

        /// The counts after taking `m` (`PartialAlignment`'s Java int arithmetic).
        func taking(_ m: Match) -> Path {
            var p = self
            p.matches1 = Int(Double(matches1) + Double(m.matchLength) * METEORAligner.alignmentWeights[m.module])
            p.matches2 = Int(Double(matches2) + Double(m.length) * METEORAligner.alignmentWeights[m.module])
            if lastMatchEnd != -1 && m.matchStart != lastMatchEnd { p.chunks += 1 }
            p.idx = m.start + m.length
            p.lastMatchEnd = m.matchStart + m.matchLength
            return p
        }

        /// `Constants.PARTIAL_COMPARE_TOTAL`: more weighted matches, then fewer chunks, then less distance.
        static func precedes(_ x: Path, _ y: Path) -> Bool {
            let mx = x.matches1 + x.matches2, my = y.matches1 + y.matches2
            if mx != my { return mx > my }
            if x.chunks != y.chunks { return x.chunks < y.chunks }
            return x.distance < y.distance
        }
    }

    /// A path of the next step before it is built: its parent, the match it adds (nil: the parent
    /// goes on unchanged) and its counts, so only the beam's survivors copy their parent's bitset.
    struct Candidate {
        var parent: Int, added: Match?, counts: Path
    }

    /// The first `beamSize` candidates in the order of Java's stable `Collections.sort`.
    static func survivors(_ next: [Candidate]) -> [Candidate] {
        let order = next.indices.sorted { a, b in
            if Path.precedes(next[a].counts, next[b].counts) { return true }
            if Path.precedes(next[b].counts, next[a].counts) { return false }
            return a < b
        }
        return order.prefix(beamSize).map { next[$0] }
    }

    /// Candidates kept per reference word and stage: the nearest in position. The jar keeps all (a
    /// word repeated n times in both sentences gives n^2 candidates, and the search's time and
    /// memory grew with them: 17 s and 0.95 GB for 480 copies); a word occurs this often in one
    /// report only in degenerate output, and with the bound the search costs a bounded amount
    /// per reference word.
    static let candidatesPerWord = 64

    /// The `candidatesPerWord` of the ascending hypothesis `positions` nearest to reference position
    /// `j` (a window around it), in ascending order as the jar adds them.
    static func nearest(_ positions: [Int], to j: Int) -> ArraySlice<Int> {
        guard positions.count > candidatesPerWord else { return positions[...] }
        var (lo, hi) = (0, positions.count)
        while lo < hi { let mid = (lo + hi) / 2; if positions[mid] < j { lo = mid + 1 } else { hi = mid } }
        let first = min(max(0, lo - candidatesPerWord / 2), positions.count - candidatesPerWord)
        return positions[first..<(first + candidatesPerWord)]
    }

    static func align(test: Sentence, reference: Sentence, resources: METEORResources) -> Result {
        let n1 = test.words.count, n2 = reference.words.count
        var candidates = [[Match]](repeating: [], count: n2)
        var coverage1 = [Int](repeating: 0, count: n1), coverage2 = [Int](repeating: 0, count: n2)
        func add(_ m: Match, counted: Bool = false) {
            guard !counted else { candidates[m.start].append(m); return }
            if candidates[m.start].count < moduleCount * candidatesPerWord { candidates[m.start].append(m) }
            for k in 0..<m.matchLength { coverage1[m.matchStart + k] += 1 }
            for k in 0..<m.length { coverage2[m.start + k] += 1 }
        }
        let identical = n1 == n2 && test.keys == reference.keys
        // Exact and stem stages through position lists, with every pair counted for the coverage
        // (definite matches need it) but only the first `candidatesPerWord` stored.
        let testByKey = Dictionary(grouping: 0..<n1, by: { test.keys[$0] })
        let testByStem = Dictionary(grouping: 0..<n1, by: { test.stemKeys[$0] })
        let referenceKeyCount = Dictionary(reference.keys.map { ($0, 1) }, uniquingKeysWith: +)
        let referenceStemCount = Dictionary(reference.stemKeys.map { ($0, 1) }, uniquingKeysWith: +)
        for j in 0..<n2 {
            let same = testByKey[reference.keys[j]] ?? []
            for i in nearest(same, to: j) { add(Match(module: 0, start: j, length: 1, matchStart: i, matchLength: 1), counted: true) }
            coverage2[j] += same.count
        }
        for i in 0..<n1 { coverage1[i] += referenceKeyCount[test.keys[i]] ?? 0 }
        if !identical {
            // Stem: equal stems, different words (equal words have equal stems).
            var otherWords: [[Int32]: [Int]] = [:]
            for j in 0..<n2 {
                let (stem, key) = (reference.stemKeys[j], reference.keys[j])
                let positions = otherWords[[stem, key]] ?? (testByStem[stem] ?? []).filter { test.keys[$0] != key }
                otherWords[[stem, key]] = positions
                for i in nearest(positions, to: j) { add(Match(module: 1, start: j, length: 1, matchStart: i, matchLength: 1), counted: true) }
                coverage2[j] += positions.count
            }
            for i in 0..<n1 { coverage1[i] += (referenceStemCount[test.stemKeys[i]] ?? 0) - (referenceKeyCount[test.keys[i]] ?? 0) }
            // Synonym: shared synset, different stems (empty unless synonym data is supplied).
            if !resources.synonymSets.isEmpty {
                for j in 0..<n2 {
                    guard let s2 = resources.synonymSets[reference.words[j]] else { continue }
                    for i in 0..<n1 where test.stemKeys[i] != reference.stemKeys[j] {
                        if let s1 = resources.synonymSets[test.words[i]], !s1.isDisjoint(with: s2) {
                            add(Match(module: 2, start: j, length: 1, matchStart: i, matchLength: 1))
                        }
                    }
                }
            }
            // Paraphrase: phrase pairs from the table (empty unless paraphrase data is supplied).
            if !resources.paraphrases.isEmpty {
                for j in 0..<n2 {
                    for len2 in 1...min(n2 - j, 4) {
                        guard let alternatives = resources.paraphrases[Array(reference.words[j..<(j + len2)])] else { continue }
                        for alt in alternatives where !alt.isEmpty && alt.count <= n1 {
                            for i in 0...(n1 - alt.count) where Array(test.words[i..<(i + alt.count)]) == alt {
                                add(Match(module: 3, start: j, length: len2, matchStart: i, matchLength: alt.count))
                            }
                        }
                    }
                }
            }
        }

        // Definite one-to-one matches.
        var definite = [Match?](repeating: nil, count: n2), line2Used = [Bool](repeating: false, count: n2)
        var start = Path(taken: nil, line1Used: [UInt64](repeating: 0, count: (n1 + 63) / 64))
        func markUsed(_ bits: inout [UInt64], _ m: Match) {
            for k in m.matchStart..<(m.matchStart + m.matchLength) { bits[k >> 6] |= 1 << (k & 63) }
        }
        for j in 0..<n2 where candidates[j].count == 1 {
            let m = candidates[j][0]
            let overlap = (0..<m.length).contains { coverage2[j + $0] != 1 } || (0..<m.matchLength).contains { coverage1[m.matchStart + $0] != 1 }
            if !overlap {
                definite[j] = m
                for k in 0..<m.length { line2Used[j + k] = true }
                markUsed(&start.line1Used, m)
            }
        }
        func isUsed(_ path: Path, _ m: Match) -> Bool {
            for k in 0..<m.length where line2Used[m.start + k] || m.start + k < path.idx { return true }
            for k in 0..<m.matchLength where path.line1Used[(m.matchStart + k) >> 6] & (1 << ((m.matchStart + k) & 63)) != 0 { return true }
            return false
        }

        // Beam search: each step's paths are the survivors of the candidates the last step proposed.
        var paths = [start], next: [Candidate] = []
        for current in 0...n2 {
            next = []
            for (rank, parent) in paths.enumerated() {
                var path = parent
                if current == n2 {
                    if path.lastMatchEnd != -1 { path.chunks += 1 }
                    next.append(Candidate(parent: rank, added: nil, counts: path)); continue
                }
                if line2Used[current] || current < path.idx {
                    if current < path.idx {
                        next.append(Candidate(parent: rank, added: nil, counts: path))
                    } else if let m = definite[path.idx] {
                        var taken = path.taking(m)
                        taken.distance += abs(m.start - m.matchStart)
                        next.append(Candidate(parent: rank, added: nil, counts: taken))
                    }
                    continue
                }
                for m in candidates[current] where !isUsed(path, m) {
                    next.append(Candidate(parent: rank, added: m, counts: path.taking(m)))
                    path.distance += abs(m.start - m.matchStart)  // sic: the reference updates the parent
                }
                if path.lastMatchEnd != -1 { path.chunks += 1; path.lastMatchEnd = -1 }
                path.idx += 1
                next.append(Candidate(parent: rank, added: nil, counts: path))
            }
            let kept = next.isEmpty ? [Candidate(parent: 0, added: nil, counts: paths[0])] : survivors(next)
            paths = kept.map { c in
                var p = c.counts
                p.taken = paths[c.parent].taken
                p.line1Used = paths[c.parent].line1Used
                if let m = c.added { p.taken = Taken(m, p.taken); markUsed(&p.line1Used, m) }
                return p
            }
        }
        var bestMatches = definite
        var chain = paths[0].taken
        while let t = chain { bestMatches[t.match.start] = t.match; chain = t.earlier }

        var result = Result(
            matches: bestMatches,
            contentMatches1: Array(repeating: 0, count: moduleCount), contentMatches2: Array(repeating: 0, count: moduleCount),
            functionMatches1: Array(repeating: 0, count: moduleCount), functionMatches2: Array(repeating: 0, count: moduleCount),
            line1Matches: 0, line2Matches: 0, chunks: 0)
        for case let m? in bestMatches {
            for k in 0..<m.matchLength {
                if test.isFunctionWord[m.matchStart + k] { result.functionMatches1[m.module] += 1 } else { result.contentMatches1[m.module] += 1 }
            }
            for k in 0..<m.length {
                if reference.isFunctionWord[m.start + k] { result.functionMatches2[m.module] += 1 } else { result.contentMatches2[m.module] += 1 }
            }
        }
        // Matches and chunks recounted along the reference (`getCountAndChunks`).
        var idx = 0, lastMatchEnd = -1
        while idx < bestMatches.count {
            if let m = bestMatches[idx] {
                result.line1Matches += m.matchLength; result.line2Matches += m.length
                if lastMatchEnd != -1 && m.matchStart != lastMatchEnd { result.chunks += 1 }
                idx = m.start + m.length
                lastMatchEnd = m.matchStart + m.matchLength
            } else {
                if lastMatchEnd != -1 { result.chunks += 1; lastMatchEnd = -1 }
                idx += 1
            }
        }
        if lastMatchEnd != -1 { result.chunks += 1 }
        return result
    }
}
