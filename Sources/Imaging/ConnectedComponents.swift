/// The 8-connected components of the `true` pixels of a `width` x `height` mask (row-major), each
/// as its pixel indices, in order of their first pixel.
public func connectedComponents(_ inside: [Bool], width w: Int, height h: Int) -> [[Int]] {
    var seen = [Bool](repeating: false, count: w * h)
    var out: [[Int]] = [], stack: [Int] = []
    for start in 0..<(w * h) where inside[start] && !seen[start] {
        var pixels: [Int] = []
        seen[start] = true
        stack.append(start)
        while let p = stack.popLast() {
            pixels.append(p)
            let (x, y) = (p % w, p / w)
            for dy in -1...1 {
                for dx in -1...1 where dx != 0 || dy != 0 {
                    let (nx, ny) = (x + dx, y + dy)
                    guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                    let q = ny * w + nx
                    if inside[q] && !seen[q] { seen[q] = true; stack.append(q) }
                }
            }
        }
        out.append(pixels)
    }
    return out
}
