import Foundation

/// A region of interest on one image of a batch, in input-image coordinates.
public struct RoI: Sendable {
    public var batchIndex: Int
    public var x1, y1, x2, y2: Float
    public init(batchIndex: Int, x1: Float, y1: Float, x2: Float, y2: Float) {
        self.batchIndex = batchIndex; self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }
}

/// RoIAlign (He et al. 2017) as torchvision defines it: each output bin averages
/// `samplingRatio`^2 bilinear samples (adaptive ceil(roi/bins) when 0); `aligned` shifts by half a pixel.
/// `features` `[N, C, H, W]` -> `[R, C, outH, outW]`; gradients flow to the features.
public func roiAlign(
    _ features: Tensor, rois: [RoI], outputSize: (h: Int, w: Int), spatialScale: Float,
    samplingRatio: Int = 0, aligned: Bool = true
) -> Tensor {
    let (n, c, h, w) = features.nchw
    let (ph, pw) = outputSize
    // Every sample as (output index, 4 source indices, 4 weights); reused by the backward pass.
    var taps: [(out: Int, idx: (Int, Int, Int, Int), wt: (Float, Float, Float, Float))] = []
    var counts = [Float](repeating: 1, count: rois.count)
    let offset: Float = aligned ? 0.5 : 0
    for (r, roi) in rois.enumerated() {
        precondition(roi.batchIndex >= 0 && roi.batchIndex < n, "RoI batch index \(roi.batchIndex) out of range 0..<\(n)")
        let sx = roi.x1 * spatialScale - offset, sy = roi.y1 * spatialScale - offset
        var rw = roi.x2 * spatialScale - offset - sx, rh = roi.y2 * spatialScale - offset - sy
        if !aligned { rw = max(rw, 1); rh = max(rh, 1) }
        let binH = rh / Float(ph), binW = rw / Float(pw)
        let gridH = samplingRatio > 0 ? samplingRatio : Int(ceil(rh / Float(ph)))
        let gridW = samplingRatio > 0 ? samplingRatio : Int(ceil(rw / Float(pw)))
        counts[r] = Float(max(gridH * gridW, 1))
        for ch in 0..<c {
            let base = (roi.batchIndex * c + ch) * h * w
            for i in 0..<ph {
                for j in 0..<pw {
                    let o = ((r * c + ch) * ph + i) * pw + j
                    for iy in 0..<gridH {
                        for ix in 0..<gridW {
                            var y = sy + Float(i) * binH + (Float(iy) + 0.5) * binH / Float(gridH)
                            var x = sx + Float(j) * binW + (Float(ix) + 0.5) * binW / Float(gridW)
                            if y < -1 || y > Float(h) || x < -1 || x > Float(w) { continue }
                            y = max(y, 0); x = max(x, 0)
                            var y0 = Int(y), x0 = Int(x), y1: Int, x1: Int
                            if y0 >= h - 1 { y0 = h - 1; y1 = h - 1; y = Float(y0) } else { y1 = y0 + 1 }
                            if x0 >= w - 1 { x0 = w - 1; x1 = w - 1; x = Float(x0) } else { x1 = x0 + 1 }
                            let ly = y - Float(y0), lx = x - Float(x0), hy = 1 - ly, hx = 1 - lx
                            taps.append(
                                (
                                    o, (base + y0 * w + x0, base + y0 * w + x1, base + y1 * w + x0, base + y1 * w + x1),
                                    (hy * hx, hy * lx, ly * hx, ly * lx)
                                ))
                        }
                    }
                }
            }
        }
    }
    let perRoI = c * ph * pw
    var out = [Float](repeating: 0, count: rois.count * perRoI)
    features.data.withUnsafeBufferPointer { f in
        for t in taps {
            let v = t.wt.0 * f[t.idx.0] + t.wt.1 * f[t.idx.1] + t.wt.2 * f[t.idx.2] + t.wt.3 * f[t.idx.3]
            out[t.out] += v / counts[t.out / perRoI]
        }
    }
    return Tensor.result([rois.count, c, ph, pw], out, [features]) { y in
        let g = y.grad!
        features.accumulateGrad { gf in
            for t in taps {
                let v = g[t.out] / counts[t.out / perRoI]
                gf[t.idx.0] += t.wt.0 * v; gf[t.idx.1] += t.wt.1 * v
                gf[t.idx.2] += t.wt.2 * v; gf[t.idx.3] += t.wt.3 * v
            }
        }
    }
}
