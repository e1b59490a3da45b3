import Datasets
import Engine
import XCTest

final class AugmentationTests: XCTestCase {
    // One 1×2×3 image: rows [0 1 2] and [3 4 5].
    private let image: [Float] = [0, 1, 2, 3, 4, 5]

    func testFlippedMirrorsEachPlane() {
        let images = Tensor(shape: [1, 2, 2, 3], scalars: image + image.map { $0 + 10 })
        XCTAssertEqual(flipped(images, horizontal: true, vertical: false).scalars,
                       [2, 1, 0, 5, 4, 3, 12, 11, 10, 15, 14, 13])
        XCTAssertEqual(flipped(images, horizontal: false, vertical: true).scalars,
                       [3, 4, 5, 0, 1, 2, 13, 14, 15, 10, 11, 12])
        XCTAssertEqual(flipped(images, horizontal: true, vertical: true).scalars,
                       [5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10])
        XCTAssertEqual(flipped(images, horizontal: false, vertical: false), images)
    }

    func testHorizontalFlipIsExactAndHappensForSomeSeedsOnly() {
        let augmentation = Augmentation(hflip: true)
        var outcomes = Set<[Float]>()
        for seed in 0..<40 as Range<UInt64> {
            var buffer = image
            var random = SeededRandom(seed: seed)
            augmentation.apply(to: &buffer, at: 0, channels: 1, height: 2, width: 3, random: &random)
            outcomes.insert(buffer)
        }
        XCTAssertEqual(outcomes, [image, [2, 1, 0, 5, 4, 3]])
    }

    func testVerticalFlipIsExact() {
        let augmentation = Augmentation(vflip: true)
        var outcomes = Set<[Float]>()
        for seed in 0..<40 as Range<UInt64> {
            var buffer = image
            var random = SeededRandom(seed: seed)
            augmentation.apply(to: &buffer, at: 0, channels: 1, height: 2, width: 3, random: &random)
            outcomes.insert(buffer)
        }
        XCTAssertEqual(outcomes, [image, [3, 4, 5, 0, 1, 2]])
    }

    func testCropKeepsShapeAndShiftsWithZeroPadding() {
        // A 3×3 image of 1...9 with padding 1: every result is the image shifted
        // by (dx, dy) in -1...1 with zeros shifted in.
        let source: [Float] = (1...9).map(Float.init)
        let augmentation = Augmentation(cropPadding: 1)
        var shifts = Set<[Int]>()
        for seed in 0..<200 as Range<UInt64> {
            var buffer: [Float] = [7, 7] + source
            var random = SeededRandom(seed: seed)
            augmentation.apply(to: &buffer, at: 2, channels: 1, height: 3, width: 3, random: &random)
            XCTAssertEqual(buffer.count, 11)
            XCTAssertEqual(Array(buffer[0..<2]), [7, 7], "must not write outside the image")
            let match = shiftsOf(source).first { $0.value == Array(buffer[2...]) }
            XCTAssertNotNil(match, "\(buffer) is not a shifted copy")
            if let match { shifts.insert(match.key) }
        }
        XCTAssertEqual(shifts.count, 9, "all nine offsets should occur")
    }

    func testSameSeedSameResultOtherSeedDifferent() {
        let augmentation = Augmentation(hflip: true, vflip: true, cropPadding: 2)
        let source: [Float] = (0..<(3 * 8 * 8)).map(Float.init)
        func run(_ seed: UInt64) -> [Float] {
            var buffer = source
            var random = SeededRandom(seed: seed)
            augmentation.apply(to: &buffer, at: 0, channels: 3, height: 8, width: 8, random: &random)
            return buffer
        }
        XCTAssertEqual(run(5), run(5))
        XCTAssertTrue((6..<16).contains { run($0) != run(5) })
    }

    func testFlipsAndCropDrawFirstSoLaterOperationsKeepTheirResult() {
        // Erasing with p 0 draws after the flips and the padded crop and changes nothing, so those
        // see the same stream as without it (and as before the later operations existed).
        let source: [Float] = (0..<(2 * 6 * 6)).map(Float.init)
        let old = Augmentation(hflip: true, vflip: true, cropPadding: 1)
        var withLater = old
        withLater.randomErasing = RandomErasing(p: 0)
        for seed in 0..<20 as Range<UInt64> {
            var a = source, b = source
            var randomA = SeededRandom(seed: seed), randomB = SeededRandom(seed: seed)
            old.apply(to: &a, at: 0, channels: 2, height: 6, width: 6, random: &randomA)
            withLater.apply(to: &b, at: 0, channels: 2, height: 6, width: 6, random: &randomB)
            XCTAssertEqual(a, b)
        }
        XCTAssertEqual(Augmentation(hflip: true), Augmentation(hflip: true, randomResizedCrop: nil, randAugment: nil,
                                                               randomErasing: nil))
    }

    func testAllOperationsTogetherStayInsideTheImageAndRepeatForASeed() {
        let augmentation = Augmentation(hflip: true, cropPadding: 1, randomResizedCrop: RandomResizedCrop(),
                                        randAugment: RandAugment(n: 2, magnitude: 9), randomErasing: RandomErasing(p: 1))
        let source: [Float] = (0..<(3 * 8 * 8)).map { Float($0 % 13) / 13 }
        func run(_ seed: UInt64) -> [Float] {
            let buffer = augmented([7, 7] + source + [7], seed: seed) {
                augmentation.apply(to: &$0, at: 2, channels: 3, height: 8, width: 8, random: &$1)
            }
            XCTAssertEqual(Array(buffer[0..<2]) + [buffer.last!], [7, 7, 7], "must not write outside the image")
            return Array(buffer[2..<(buffer.count - 1)])
        }
        assertDependsOnTheSeedAlone(run, count: source.count)
        XCTAssertTrue((0..<12).allSatisfy { run($0) != source })
    }

    func testIdentitySettingsChangeNothing() {
        let identity = Augmentation(randomResizedCrop: RandomResizedCrop(scale: 1...1, ratio: 1...1),
                                    randAugment: RandAugment(n: 2, magnitude: 0), randomErasing: RandomErasing(p: 0))
        let source: [Float] = (0..<(2 * 5 * 5)).map { Float($0) - 20 }
        for seed in 0..<20 as Range<UInt64> {
            XCTAssertEqual(augmented(source, seed: seed) {
                identity.apply(to: &$0, at: 0, channels: 2, height: 5, width: 5, random: &$1)
            }, source)
        }
    }

    private func shiftsOf(_ source: [Float]) -> [[Int]: [Float]] {
        var result: [[Int]: [Float]] = [:]
        for dy in -1...1 {
            for dx in -1...1 {
                result[[dx, dy]] = (0..<3).flatMap { y in
                    (0..<3).map { x -> Float in
                        let (fromY, fromX) = (y + dy, x + dx)
                        return (0..<3).contains(fromY) && (0..<3).contains(fromX) ? source[fromY * 3 + fromX] : 0
                    }
                }
            }
        }
        return result
    }
}
