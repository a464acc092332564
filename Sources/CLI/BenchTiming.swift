import Dispatch
import Foundation

/// Median wall time of `body` over repeated runs lasting about `budget` seconds (after one warm-up):
/// the one timing rule every `medglip bench` measurement uses.
func medianSeconds(_ budget: Double, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    let deadline = Date().addingTimeInterval(budget)
    repeat {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    } while Date() < deadline || times.count < 3
    return times.sorted()[times.count / 2]
}
