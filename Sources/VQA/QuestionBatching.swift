/// Questions are batched by image: an image's questions always train together.
extension Array where Element == [Int] {
    /// Consecutive groups joined into chunks of about `total` members (a group is never split).
    func chunked(byTotal total: Int) -> [[Int]] {
        var chunks: [[Int]] = [], current: [Int] = []
        for g in self {
            if !current.isEmpty && current.count + g.count > total { chunks.append(current); current = [] }
            current += g
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
