import XCTest

@testable import Tensor

final class SmokeTests: XCTestCase {
    func testMatmulMatchesHandComputedProduct() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        XCTAssertEqual(Tensor.matmul(a, b).data, [58, 64, 139, 154])
    }

    func testMatmulGradients() {
        checkGradients("matmul", inputs: [randomTensor([3, 4], seed: 1), randomTensor([4, 5], seed: 2)]) { Tensor.matmul($0[0], $0[1]) }
    }
}
