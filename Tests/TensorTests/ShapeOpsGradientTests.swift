import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/ShapeOps.swift` (helpers in GradientCheckInputs.swift).
final class ShapeOpsGradientTests: XCTestCase {
    // MARK: - Indexing, joining and views

    func testEmbedding() {
        let w = tensor([5, 3], seed: 260)
        let ids = [1, 3, 1, 0, 1, 4]
        checkGradients("embedding repeated ids", inputs: [w]) { embedding(ids, shape: [2, 3], weight: $0[0]) }
        let y = embedding(ids, shape: [2, 3], weight: w)
        XCTAssertEqual(y.shape, [2, 3, 3])
        XCTAssertEqual(Array(y.data[0..<3]), Array(w.data[3..<6]))
        XCTAssertEqual(Array(y.data[15..<18]), Array(w.data[12..<15]))
        // Repeated ids accumulate: row 1 appears three times, row 2 never.
        w.grad = nil
        w.requiresGrad = true
        embedding(ids, shape: [6], weight: w).sum().backward()
        XCTAssertEqual(w.grad!, [1, 1, 1, 3, 3, 3, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    func testConcatStackSplitSlice() {
        let a = tensor([2, 1, 3], seed: 270), b = tensor([2, 2, 3], seed: 271), c = tensor([2, 3, 3], seed: 272)
        checkGradients("concat axis 1", inputs: [a, b, c]) { Tensor.concat($0, axis: 1) }
        checkGradients("concat axis -2", inputs: [a, b, c]) { Tensor.concat($0, axis: -2) }
        let d = tensor([1, 2, 3], seed: 273), e = tensor([3, 2, 3], seed: 274)
        checkGradients("concat axis 0", inputs: [d, b, e]) { Tensor.concat($0, axis: 0) }
        let f = tensor([2, 2, 1], seed: 275), g = tensor([2, 2, 4], seed: 276)
        checkGradients("concat axis -1", inputs: [f, b, g]) { Tensor.concat($0, axis: -1) }
        checkGradients("concat the same tensor twice", inputs: [b, f]) { Tensor.concat([$0[0], $0[1], $0[0]], axis: 2) }

        let p = tensor([2, 3], seed: 277), q = tensor([2, 3], seed: 278), r = tensor([2, 3], seed: 279)
        for axis in [0, 1, 2, -1] {
            checkGradients("stack axis \(axis)", inputs: [p, q, r]) { Tensor.stack($0, axis: axis) }
        }

        let x = tensor([2, 4, 3], seed: 280)
        checkGradients("split axis 1, reassembled out of order", inputs: [x]) {
            let parts = $0[0].split([1, 2, 1], axis: 1)
            return Tensor.concat([parts[2], parts[0], parts[1]], axis: 1)
        }
        checkGradients("split middle part only", inputs: [x]) { $0[0].split([1, 2, 1], axis: 1)[1] }
        checkGradients("split axis -1", inputs: [x]) {
            let parts = $0[0].split([2, 1], axis: -1)
            return parts[0] * parts[0] + parts[1]
        }
        checkGradients("slice axis 1", inputs: [x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients("slice axis 0", inputs: [x]) { $0[0].slice(axis: 0, 1..<2) }
        checkGradients("slice axis -1", inputs: [x]) { $0[0].slice(axis: -1, 0..<2) }
        checkGradients("two overlapping slices", inputs: [x]) { $0[0].slice(axis: 1, 0..<3) + $0[0].slice(axis: 1, 1..<4) }

        let v = Tensor((0..<12).map(Float.init), shape: [2, 3, 2])
        XCTAssertEqual(v.slice(axis: 1, 1..<3).data, [2, 3, 4, 5, 8, 9, 10, 11])
        XCTAssertEqual(Tensor.concat([Tensor([1, 2], shape: [1, 2]), Tensor([3, 4, 5, 6], shape: [2, 2])], axis: 0).data, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Tensor.concat([Tensor([1, 2], shape: [2, 1]), Tensor([3, 4, 5, 6], shape: [2, 2])], axis: 1).data, [1, 3, 4, 2, 5, 6])
        let st = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1)
        XCTAssertEqual(st.shape, [2, 2])
        XCTAssertEqual(st.data, [1, 3, 2, 4])
        let sp = v.split([1, 1], axis: 0)
        XCTAssertEqual(sp.map(\.shape), [[1, 3, 2], [1, 3, 2]])
        XCTAssertEqual(sp[1].data, Array(v.data[6..<12]))
    }

    func testIndexSelectAndGather() {
        let x = tensor([2, 3, 4], seed: 290)
        checkGradients("indexSelect axis 1 repeated", inputs: [x]) { $0[0].indexSelect(axis: 1, [2, 0, 2, 1, 2]) }
        checkGradients("indexSelect axis 0 repeated", inputs: [x]) { $0[0].indexSelect(axis: 0, [1, 1, 0]) }
        checkGradients("indexSelect axis -1 subset", inputs: [x]) { $0[0].indexSelect(axis: -1, [3, 0, 3]) }

        let gx = tensor([2, 4, 3], seed: 291)
        let index1 = [0, 3, 3, 1, 1, 1, 2, 0, 3, 2, 2, 0]  // [2, 2, 3] along axis 1
        checkGradients("gather axis 1", inputs: [gx]) { $0[0].gather(axis: 1, index: index1, indexShape: [2, 2, 3]) }
        let index0 = [1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1]  // [2, 4, 3] along axis 0
        checkGradients("gather axis 0", inputs: [gx]) { $0[0].gather(axis: 0, index: index0, indexShape: [2, 4, 3]) }
        let index2 = [2, 2, 0, 1, 0, 0, 1, 2, 2, 2, 1, 0, 0, 1, 1, 2]  // [2, 4, 2] along the last axis
        checkGradients("gather axis -1", inputs: [gx]) { $0[0].gather(axis: -1, index: index2, indexShape: [2, 4, 2]) }

        // Values: indexSelect picks whole slices; gather follows torch.gather.
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(m.indexSelect(axis: 1, [2, 0, 2]).data, [3, 1, 3, 6, 4, 6])
        XCTAssertEqual(m.indexSelect(axis: 0, [1, 1, 0]).data, [4, 5, 6, 4, 5, 6, 1, 2, 3])
        let t = Tensor([1, 2, 3, 4], shape: [2, 2])
        XCTAssertEqual(t.gather(axis: 1, index: [0, 0, 1, 0], indexShape: [2, 2]).data, [1, 1, 4, 3])
        XCTAssertEqual(t.gather(axis: 0, index: [1, 0, 0, 1], indexShape: [2, 2]).data, [3, 2, 1, 4])
        let g3 = m.gather(axis: 1, index: [2, 1, 0, 0], indexShape: [2, 2])
        XCTAssertEqual(g3.shape, [2, 2])
        XCTAssertEqual(g3.data, [3, 2, 4, 4])
        // Repeated gathers accumulate into the gradient.
        let src = Tensor([1, 2, 3], shape: [1, 3], requiresGrad: true)
        src.gather(axis: 1, index: [2, 2, 0, 2], indexShape: [1, 4]).sum().backward()
        XCTAssertEqual(src.grad!, [1, 0, 3])
    }

    func testReshapePermuteTransposeUnsqueeze() {
        let x = tensor([2, 3, 4], seed: 300)
        checkGradients("reshaped", inputs: [x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
        checkGradients("permuted [2,0,1]", inputs: [x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients("permuted [1,2,0]", inputs: [x]) { $0[0].permuted([1, 2, 0]) }
        checkGradients("permuted identity", inputs: [x]) { $0[0].permuted([0, 1, 2]) }
        checkGradients("permuted 4-D", inputs: [tensor([2, 3, 2, 2], seed: 301)]) { $0[0].permuted([0, 2, 1, 3]) }
        checkGradients("transposed default", inputs: [x]) { $0[0].transposed() }
        checkGradients("transposed(0, 2)", inputs: [x]) { $0[0].transposed(0, 2) }
        checkGradients("unsqueezed(1)", inputs: [x]) { $0[0].unsqueezed(1) * $0[0].unsqueezed(0) }
        checkGradients("unsqueezed(-1)", inputs: [x]) { $0[0].unsqueezed(-1) }
        let m = Tensor((0..<6).map(Float.init), shape: [2, 3])
        XCTAssertEqual(m.transposed().data, [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(m.unsqueezed(-1).shape, [2, 3, 1])
        XCTAssertEqual(m.unsqueezed(0).shape, [1, 2, 3])
        let p = Tensor((0..<24).map(Float.init), shape: [2, 3, 4]).permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(Array(p.data[0..<6]), [0, 4, 8, 12, 16, 20])
        XCTAssertEqual(m.reshaped([3, -1]).shape, [3, 2])
    }

    func testMaskedFill() {
        let x = tensor([2, 3, 4], seed: 310)
        let mask = Tensor([1, 0, 1], shape: [3, 1])
        checkGradients("maskedFill broadcast mask", inputs: [x]) { $0[0].maskedFill(mask, -5) }
        let full = Tensor((0..<24).map { Float($0 % 3 == 0 ? 1 : 0) }, shape: [2, 3, 4])
        checkGradients("maskedFill full mask", inputs: [x]) { $0[0].maskedFill(full, 0) * $0[0] }
        let y = Tensor([1, 2, 3, 4], shape: [2, 2]).maskedFill(Tensor([0, 1], shape: [2]), -1)
        XCTAssertEqual(y.data, [1, -1, 3, -1])
    }
}
