import XCTest
import Kernels

final class ChannelsTests: XCTestCase {
    /// [N=2, C=3, inner=2] -> channels 1..<3 into [2, 4, 2] at offset 2; the rest of y is untouched.
    func testCopiesAChannelRangeOfEverySample() {
        let x: [Float] = [0, 1, 10, 11, 20, 21,
                          100, 101, 110, 111, 120, 121]
        var y = [Float](repeating: -1, count: 16)
        copyChannels(x, xChannels: 3, range: 1..<3, into: &y, yChannels: 4, at: 2, N: 2, inner: 2)
        XCTAssertEqual(y, [-1, -1, -1, -1, 10, 11, 20, 21,
                           -1, -1, -1, -1, 110, 111, 120, 121])
    }
}
