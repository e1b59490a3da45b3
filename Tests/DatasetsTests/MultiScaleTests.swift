import Datasets
import Engine
import XCTest

/// resizeBatch, the scale-factor form for test-time scales, and MultiScale's per-batch sizes.
final class MultiScaleTests: XCTestCase {
    func testResizeBatchUpscalesEveryPlaneAlike() {
        // The same 2×2 → 4×4 values as ResizeTests' byte image, in two images of two channels.
        let plane: [Float] = [0, 100, 200, 50]
        let expected: [Float] = [0, 25, 75, 100, 50, 59.375, 78.125, 87.5, 150, 128.125, 84.375, 62.5, 200, 162.5, 87.5, 50]
        let images = Tensor(shape: [2, 2, 2, 2], scalars: plane + plane.map { $0 * 2 } + plane.map { -$0 } + plane)
        let resized = resizeBatch(images, height: 4, width: 4)
        XCTAssertEqual(resized.shape, [2, 2, 4, 4])
        let planes = [expected, expected.map { $0 * 2 }, expected.map { -$0 }, expected]
        for (p, want) in planes.enumerated() {
            for (value, target) in zip(resized.scalars[(p * 16)..<((p + 1) * 16)], want) {
                XCTAssertEqual(value, target, accuracy: 1e-4)
            }
        }
    }

    func testSameSizeIsTheBatchItselfAndHalfScaleAverages() {
        let images = Tensor(shape: [1, 1, 2, 4], scalars: [0, 40, 80, 120, 10, 50, 90, 130])
        XCTAssertEqual(resizeBatch(images, height: 2, width: 4), images)
        XCTAssertEqual(resizeBatch(images, scale: 1), images)
        let half = resizeBatch(images, scale: 0.5)
        XCTAssertEqual(half.shape, [1, 1, 1, 2])
        XCTAssertEqual(half.scalars, [25, 105])
        XCTAssertEqual(resizeBatch(images, scale: 1.25).shape, [1, 1, 3, 5])
    }

    func testRegionResizeIsCropThenResize() {
        let image: [Float] = (0..<(2 * 5 * 6)).map { Float($0 * 7 % 11) }
        let region = PixelRect(top: 1, left: 2, height: 3, width: 4)
        var cropped: [Float] = []
        for c in 0..<2 {
            for y in 1..<4 { cropped += image[((c * 5 + y) * 6 + 2)..<((c * 5 + y) * 6 + 6)] }
        }
        XCTAssertEqual(Resize.bilinear(planes: image, channels: 2, height: 5, width: 6, region: region, toHeight: 5, toWidth: 7),
                       Resize.bilinear(planes: cropped, channels: 2, height: 3, width: 4, toHeight: 5, toWidth: 7))
    }

    func testSizesAreDrawnFromTheListWithTheAspectRatioKept() {
        let scales = MultiScale(sizes: [24, 28, 32])
        var seen = Set<Int>()
        for seed in 0..<60 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let size = scales.drawSize(height: 28, width: 56, random: &random)
            XCTAssertEqual(size.width, 2 * size.height)
            seen.insert(size.height)
            var again = SeededRandom(seed: seed)
            XCTAssertEqual(scales.drawSize(height: 28, width: 56, random: &again).height, size.height)
        }
        XCTAssertEqual(seen, [24, 28, 32])
    }

    func testApplyResizesTheBatchToTheDrawnSize() {
        let scales = MultiScale(sizes: [3, 6])
        let images = Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map(Float.init))
        for seed in 0..<10 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let resized = scales.apply(images, random: &random)
            var again = SeededRandom(seed: seed)
            let side = scales.drawSize(height: 4, width: 4, random: &again).height
            XCTAssertEqual(resized, resizeBatch(images, height: side, width: side))
        }
    }
}
