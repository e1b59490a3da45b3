@testable import Datasets
import XCTest

final class ResizeTests: XCTestCase {
    func testUpscaleTwoByTwoToFourByFour() {
        // Half-pixel centres: output columns sample x = -0.25→0, 0.25, 0.75, 1.25→1.
        let image = DecodedImage(width: 2, height: 2, components: 1, pixels: [0, 100, 200, 50])
        let expected: [Float] = [
            0, 25, 75, 100,
            50, 59.375, 78.125, 87.5,
            150, 128.125, 84.375, 62.5,
            200, 162.5, 87.5, 50,
        ]
        let output = Resize.bilinear(image, height: 4, width: 4)
        XCTAssertEqual(output.count, 16)
        for (value, want) in zip(output, expected) { XCTAssertEqual(value, want, accuracy: 1e-4) }
    }

    func testDownscaleAveragesNeighbours() {
        let image = DecodedImage(width: 4, height: 1, components: 1, pixels: [0, 40, 80, 120])
        XCTAssertEqual(Resize.bilinear(image, height: 1, width: 2), [20, 100])
    }

    func testSameSizeIsIdentityAndChannelsBecomePlanes() {
        let image = DecodedImage(width: 2, height: 1, components: 3, pixels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Resize.bilinear(image, height: 1, width: 2), [1, 4, 2, 5, 3, 6])
    }
}
