import Datasets
import Engine
import XCTest

final class RandomResizedCropTests: XCTestCase {
    func testWholeImageAtFullScaleAndSquareRatioIsIdentity() {
        let crop = RandomResizedCrop(scale: 1...1, ratio: 1...1)
        let image: [Float] = (0..<(2 * 5 * 5)).map(Float.init)
        for seed in 0..<20 as Range<UInt64> {
            XCTAssertEqual(augmented(image, seed: seed) { crop.apply(to: &$0, channels: 2, height: 5, width: 5, random: &$1) },
                           image)
        }
    }

    func testQuarterAreaCropIsItsTwoByTwoBoxUpscaled() {
        // A 4×4 image of distinct values; the crop is a 2×2 box [[a, b], [c, d]] at a random place, and
        // 2 → 4 bilinear taps weigh the second neighbour 0, 0.25, 0.75, 1 (half-pixel centres, clamped).
        let image: [Float] = (0..<16).map { Float($0 * $0) }
        let crop = RandomResizedCrop(scale: 0.25...0.25, ratio: 1...1)
        let weights: [Float] = [0, 0.25, 0.75, 1]
        var places = Set<[Int]>()
        for seed in 0..<60 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let box = crop.region(height: 4, width: 4, random: &random)
            XCTAssertEqual([box.height, box.width], [2, 2])
            places.insert([box.top, box.left])
            let output = augmented(image, seed: seed) { crop.apply(to: &$0, channels: 1, height: 4, width: 4, random: &$1) }
            let value = { (y: Int, x: Int) in image[(box.top + y) * 4 + box.left + x] }
            for y in 0..<4 {
                for x in 0..<4 {
                    let top = value(0, 0) + (value(0, 1) - value(0, 0)) * weights[x]
                    let bottom = value(1, 0) + (value(1, 1) - value(1, 0)) * weights[x]
                    XCTAssertEqual(output[y * 4 + x], top + (bottom - top) * weights[y], accuracy: 1e-4)
                }
            }
        }
        XCTAssertEqual(places.count, 9, "every position of a 2×2 box in a 4×4 image should occur")
    }

    func testFallsBackToTheCentredCropOfTheNearestRatio() {
        // Width / height of 3...4 at full area never fits a square image: 10 tries fail, then
        // torchvision keeps the full width and a height of width / 3.
        let crop = RandomResizedCrop(scale: 1...1, ratio: 3...4)
        for seed in 0..<5 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            XCTAssertEqual(crop.region(height: 6, width: 6, random: &random), PixelRect(top: 2, left: 0, height: 2, width: 6))
        }
        let tall = RandomResizedCrop(scale: 1...1, ratio: 0.25...0.5)
        var random = SeededRandom(seed: 1)
        XCTAssertEqual(tall.region(height: 6, width: 6, random: &random), PixelRect(top: 0, left: 1, height: 6, width: 3))
    }

    func testBoxesStayInsideAndFollowTheSettings() {
        let crop = RandomResizedCrop(scale: 0.3...0.6, ratio: 0.75...(4.0 / 3.0))
        for seed in 0..<200 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let box = crop.region(height: 32, width: 32, random: &random)
            XCTAssertTrue(box.top >= 0 && box.left >= 0 && box.top + box.height <= 32 && box.left + box.width <= 32, "\(box)")
            let fraction = Float(box.area) / 1024
            XCTAssertTrue(fraction > 0.25 && fraction < 0.66, "area fraction \(fraction)")
            let aspect = Float(box.width) / Float(box.height)
            XCTAssertTrue(aspect > 0.65 && aspect < 1.5, "aspect \(aspect)")
        }
    }

    func testSameSeedSameCrop() {
        let crop = RandomResizedCrop()
        let image: [Float] = (0..<(3 * 8 * 8)).map { sinf(Float($0)) }
        assertDependsOnTheSeedAlone({ seed in
            augmented(image, seed: seed) { crop.apply(to: &$0, channels: 3, height: 8, width: 8, random: &$1) }
        }, count: image.count)
    }
}
