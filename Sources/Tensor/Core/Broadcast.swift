/// NumPy broadcasting between two shapes: the output shape and, for each input, strides into its
/// storage aligned to the output's dimensions (0 where the input is broadcast).
struct Broadcast {
    let shape: [Int]
    let aStrides: [Int]
    let bStrides: [Int]

    init(_ a: [Int], _ b: [Int]) {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a
        let pb = [Int](repeating: 1, count: r - b.count) + b
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            precondition(
                pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1,
                "shapes \(a) and \(b) do not broadcast")
            out[i] = pa[i] == 1 ? pb[i] : pa[i]
        }
        shape = out
        aStrides = Broadcast.strides(pa, out)
        bStrides = Broadcast.strides(pb, out)
    }

    static func strides(_ padded: [Int], _ out: [Int]) -> [Int] {
        var s = [Int](repeating: 0, count: padded.count)
        var acc = 1
        for i in stride(from: padded.count - 1, through: 0, by: -1) {
            s[i] = padded[i] == 1 && out[i] != 1 ? 0 : acc
            acc *= padded[i]
        }
        return s
    }

    /// Calls `body(o, ia, ib)` for every output index `o` in row-major order with the matching
    /// storage indices of the two inputs. Rows (the last dimension) are walked with fixed strides.
    @inline(__always)
    func forEach(rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let r = shape.count
        if r == 0 { body(0, 0, 0); return }
        let last = shape[r - 1], sa = aStrides[r - 1], sb = bStrides[r - 1]
        for row in rows {
            var rem = row, ia = 0, ib = 0
            var d = r - 2
            while d >= 0 {
                let idx = rem % shape[d]
                rem /= shape[d]
                ia &+= idx &* aStrides[d]
                ib &+= idx &* bStrides[d]
                d -= 1
            }
            let o = row &* last
            for j in 0..<last { body(o &+ j, ia &+ j &* sa, ib &+ j &* sb) }
        }
    }

    var rowCount: Int { shape.count == 0 ? 1 : shape.dropLast().reduce(1, *) }
}
