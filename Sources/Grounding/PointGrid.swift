import Imaging

/// The feature-map locations of an FPN (strides 8/16/32), one point per location at the centre of
/// its cell, in input-image pixels. Each point also has the square anchor box ATSS measures IoU
/// with (side `anchorScale` x stride, as in ATSS).
public struct PointGrid: Sendable, Equatable {
    public struct Level: Sendable, Equatable {
        public var stride: Int
        public var width: Int
        public var height: Int
        /// Index of this level's first point in the flat list.
        public var offset: Int
    }

    public let levels: [Level]
    public let points: [(x: Float, y: Float)]
    public let anchorScale: Float

    public static func == (a: PointGrid, b: PointGrid) -> Bool {
        a.levels == b.levels && a.anchorScale == b.anchorScale
    }

    public init(imageWidth: Int, imageHeight: Int, strides: [Int] = [8, 16, 32], anchorScale: Float = 8) {
        var levels: [Level] = [], points: [(Float, Float)] = []
        for s in strides {
            let (w, h) = ((imageWidth + s - 1) / s, (imageHeight + s - 1) / s)
            levels.append(Level(stride: s, width: w, height: h, offset: points.count))
            for y in 0..<h { for x in 0..<w { points.append((Float(x * s + s / 2), Float(y * s + s / 2))) } }
        }
        self.levels = levels; self.points = points; self.anchorScale = anchorScale
    }

    public var count: Int { points.count }

    public func level(of point: Int) -> Level { levels.last { $0.offset <= point }! }

    public func anchor(_ i: Int) -> Box {
        let half = anchorScale * Float(level(of: i).stride) / 2, p = points[i]
        return Box(x1: p.x - half, y1: p.y - half, x2: p.x + half, y2: p.y + half)
    }
}

/// (l, t, r, b) distances from a point to a box's sides, in units of the level's stride, and back.
public enum BoxCoding {
    public static func encode(_ box: Box, point p: (x: Float, y: Float), stride: Int) -> [Float] {
        let s = Float(stride)
        return [(p.x - box.x1) / s, (p.y - box.y1) / s, (box.x2 - p.x) / s, (box.y2 - p.y) / s]
    }

    public static func decode(_ ltrb: [Float], point p: (x: Float, y: Float), stride: Int) -> Box {
        let s = Float(stride)
        return Box(x1: p.x - ltrb[0] * s, y1: p.y - ltrb[1] * s, x2: p.x + ltrb[2] * s, y2: p.y + ltrb[3] * s)
    }

    /// FCOS centerness: sqrt(min(l,r)/max(l,r) x min(t,b)/max(t,b)); 1 at the box centre.
    public static func centerness(_ ltrb: [Float]) -> Float {
        let (l, t, r, b) = (ltrb[0], ltrb[1], ltrb[2], ltrb[3])
        guard min(l, t, r, b) > 0 else { return 0 }
        return ((min(l, r) / max(l, r)) * (min(t, b) / max(t, b))).squareRoot()
    }
}
