import Foundation
import XCTest

@testable import Tensor

final class ThreadCPUTimeTests: XCTestCase {
    /// Busy work on this thread shows up as CPU time, sleeping does not.
    func testBusyWorkCountsAndSleepDoesNot() throws {
        let before = ThreadCPUTimes.sample()
        try XCTSkipIf(before.byThread.isEmpty, "no /proc/self/task/*/schedstat on this system")
        let start = DispatchTime.now().uptimeNanoseconds
        var x: Float = 1
        while DispatchTime.now().uptimeNanoseconds - start < 100_000_000 { for _ in 0..<10_000 { x = x * 1.000_001 + 1e-7 } }
        XCTAssertGreaterThan(x, 0)
        let busy = ThreadCPUTimes.sample().since(before).values.reduce(0, +)
        XCTAssertGreaterThan(busy, 50_000_000, "100 ms of spinning on this thread must count at least 50 ms of CPU")
        let idleStart = ThreadCPUTimes.sample()
        Thread.sleep(forTimeInterval: 0.2)
        let idle = ThreadCPUTimes.sample().since(idleStart).values.reduce(0, +)
        XCTAssertLessThan(idle, 100_000_000, "a sleeping process must not burn half of 200 ms")
    }
}
