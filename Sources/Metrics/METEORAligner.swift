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
/// The chosen alignment's matches and chunks are then recounted from its match array.
struct METEORAligner {
    struct Match: Equatable {
        var module: Int
        var start: Int        // position in the reference (line 2)
        var length: Int
        var matchStart: Int   // position in the hypothesis (line 1)
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

    struct Path {
        var matches: [Match?]
        var line1Used: [Bool], line2Used: [Bool]
        var matches1 = 0, matches2 = 0, allMatches1 = 0, allMatches2 = 0
        var chunks = 0, idx = 0, lastMatchEnd = -1, distance = 0

        func isUsed(_ m: Match) -> Bool {
            for j in 0..<m.length where line2Used[m.start + j] { return true }
            for j in 0..<m.matchLength where line1Used[m.matchStart + j] { return true }
            return false
        }

        mutating func take(_ m: Match) {
            matches1 = Int(Double(matches1) + Double(m.matchLength) * METEORAligner.alignmentWeights[m.module])
            matches2 = Int(Double(matches2) + Double(m.length) * METEORAligner.alignmentWeights[m.module])
            allMatches1 += m.matchLength; allMatches2 += m.length
            if lastMatchEnd != -1 && m.matchStart != lastMatchEnd { chunks += 1 }
            idx = m.start + m.length
            lastMatchEnd = m.matchStart + m.matchLength
        }

        /// `Constants.PARTIAL_COMPARE_TOTAL`: more weighted matches, then fewer chunks, then less distance.
        static func precedes(_ x: Path, _ y: Path) -> Bool {
            let mx = x.matches1 + x.matches2, my = y.matches1 + y.matches2
            if mx != my { return mx > my }
            if x.chunks != y.chunks { return x.chunks < y.chunks }
            return x.distance < y.distance
        }
    }

    /// Java's `Collections.sort` is stable; Swift's sort does not promise it, so ties keep input order.
    static func stableSorted(_ paths: [Path]) -> [Path] {
        paths.indices.sorted { a, b in
            if Path.precedes(paths[a], paths[b]) { return true }
            if Path.precedes(paths[b], paths[a]) { return false }
            return a < b
        }.map { paths[$0] }
    }

    static func align(test: Sentence, reference: Sentence, resources: METEORResources) -> Result {
        let n1 = test.words.count, n2 = reference.words.count
        var candidates = [[Match]](repeating: [], count: n2)
        var coverage1 = [Int](repeating: 0, count: n1), coverage2 = [Int](repeating: 0, count: n2)
        func add(_ m: Match) {
            candidates[m.start].append(m)
            for k in 0..<m.matchLength { coverage1[m.matchStart + k] += 1 }
            for k in 0..<m.length { coverage2[m.start + k] += 1 }
        }
        let identical = n1 == n2 && test.keys == reference.keys
        // Exact.
        for j in 0..<n2 { for i in 0..<n1 where test.keys[i] == reference.keys[j] {
            add(Match(module: 0, start: j, length: 1, matchStart: i, matchLength: 1)) } }
        if !identical {
            // Stem: equal stems, different words.
            for j in 0..<n2 { for i in 0..<n1 where test.stemKeys[i] == reference.stemKeys[j] && test.keys[i] != reference.keys[j] {
                add(Match(module: 1, start: j, length: 1, matchStart: i, matchLength: 1)) } }
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
                for j in 0..<n2 { for len2 in 1...min(n2 - j, 4) {
                    guard let alternatives = resources.paraphrases[Array(reference.words[j..<(j + len2)])] else { continue }
                    for alt in alternatives where !alt.isEmpty && alt.count <= n1 {
                        for i in 0...(n1 - alt.count) where Array(test.words[i..<(i + alt.count)]) == alt {
                            add(Match(module: 3, start: j, length: len2, matchStart: i, matchLength: alt.count))
                        }
                    }
                } }
            }
        }

        // Definite one-to-one matches.
        var start = Path(matches: Array(repeating: nil, count: n2), line1Used: Array(repeating: false, count: n1),
                         line2Used: Array(repeating: false, count: n2))
        for j in 0..<n2 where candidates[j].count == 1 {
            let m = candidates[j][0]
            let overlap = (0..<m.length).contains { coverage2[j + $0] != 1 } || (0..<m.matchLength).contains { coverage1[m.matchStart + $0] != 1 }
            if !overlap {
                start.matches[j] = m
                for k in 0..<m.length { start.line2Used[j + k] = true }
                for k in 0..<m.matchLength { start.line1Used[m.matchStart + k] = true }
            }
        }

        // Beam search.
        var next = [start]
        for current in 0...n2 {
            let paths = stableSorted(next)
            next = []
            for rank in 0..<min(beamSize, paths.count) {
                var path = paths[rank]
                if current == n2 {
                    if path.lastMatchEnd != -1 { path.chunks += 1 }
                    next.append(path); continue
                }
                if path.line2Used[current] {
                    if current < path.idx { next.append(path) }
                    else if let m = path.matches[path.idx] {
                        path.take(m)
                        path.distance += abs(m.start - m.matchStart)
                        next.append(path)
                    }
                    continue
                }
                for m in candidates[current] where !path.isUsed(m) {
                    var branch = path
                    for k in 0..<m.length { branch.line2Used[m.start + k] = true }
                    for k in 0..<m.matchLength { branch.line1Used[m.matchStart + k] = true }
                    branch.matches[current] = m
                    branch.take(m)
                    path.distance += abs(m.start - m.matchStart)  // sic: the reference updates the parent
                    next.append(branch)
                }
                if path.lastMatchEnd != -1 { path.chunks += 1; path.lastMatchEnd = -1 }
                path.idx += 1
                next.append(path)
            }
            if next.isEmpty { next.append(paths[0]) }
        }
        let best = stableSorted(next)[0]

        var result = Result(matches: best.matches,
                            contentMatches1: Array(repeating: 0, count: moduleCount), contentMatches2: Array(repeating: 0, count: moduleCount),
                            functionMatches1: Array(repeating: 0, count: moduleCount), functionMatches2: Array(repeating: 0, count: moduleCount),
                            line1Matches: 0, line2Matches: 0, chunks: 0)
        for case let m? in best.matches {
            for k in 0..<m.matchLength {
                if test.isFunctionWord[m.matchStart + k] { result.functionMatches1[m.module] += 1 } else { result.contentMatches1[m.module] += 1 }
            }
            for k in 0..<m.length {
                if reference.isFunctionWord[m.start + k] { result.functionMatches2[m.module] += 1 } else { result.contentMatches2[m.module] += 1 }
            }
        }
        // Matches and chunks recounted along the reference (`getCountAndChunks`).
        var idx = 0, lastMatchEnd = -1
        while idx < best.matches.count {
            if let m = best.matches[idx] {
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
