import Datasets
import Engine
import XCTest

final class RandomErasingTests: XCTestCase {
    private let image: [Float] = (0..<(2 * 10 * 10)).map { Float($0 + 1) }

    private func erase(_ erasing: RandomErasing, seed: UInt64) -> [Float] {
        augmented(image, seed: seed) { erasing.apply(to: &$0, channels: 2, height: 10, width: 10, random: &$1) }
    }

    func testProbabilityZeroIsIdentity() {
        for seed in 0..<50 as Range<UInt64> { XCTAssertEqual(erase(RandomErasing(p: 0), seed: seed), image) }
    }

    func testErasesOneBoxInEveryChannelWithZero() {
        let erasing = RandomErasing(p: 1, area: 0.1...0.3, ratio: 0.5...2)
        for seed in 0..<100 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            guard let box = erasing.region(height: 10, width: 10, random: &random) else {
                XCTFail("a 10–30% box always fits a 10×10 image"); continue
            }
            XCTAssertTrue(box.height < 10 && box.width < 10 && box.top + box.height <= 10 && box.left + box.width <= 10)
            let output = erase(erasing, seed: seed)
            for c in 0..<2 {
                for y in 0..<10 {
                    for x in 0..<10 {
                        let inside = (box.top..<(box.top + box.height)).contains(y) && (box.left..<(box.left + box.width)).contains(x)
                        let index = (c * 10 + y) * 10 + x
                        XCTAssertEqual(output[index], inside ? 0 : image[index])
                    }
                }
            }
        }
    }

    func testErasesAboutHalfTheImagesAtTheDefaultProbability() {
        let erased = (0..<400 as Range<UInt64>).filter { erase(RandomErasing(), seed: $0) != image }.count
        XCTAssertTrue((160...240).contains(erased), "\(erased) of 400 erased")
    }

    func testSameSeedSameBox() {
        assertDependsOnTheSeedAlone({ erase(RandomErasing(p: 1), seed: $0) }, count: image.count)
    }
}
