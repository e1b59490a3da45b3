import Datasets
import Engine
import XCTest

final class BatchLoaderTests: XCTestCase {
    /// Ten 1×2×2 images; image i is filled with the value i.
    private let images = ImageSet(spec: ImageSpec(height: 2, width: 2, channels: 1),
                                  scalars: (0..<10).flatMap { [Float](repeating: Float($0), count: 4) })

    private func loader(rows: [Int], batchSize: Int = 3, shuffleSeed: UInt64? = 7, augmentation: Augmentation? = nil,
                        augmentSeed: UInt64 = 1, dropLast: Bool = false, prefetch: Int = 2) -> BatchLoader {
        BatchLoader(images: images, rows: rows, labels: rows.map { $0 * 10 }, batchSize: batchSize,
                    shuffleSeed: shuffleSeed, augmentation: augmentation, augmentSeed: augmentSeed,
                    dropLast: dropLast, prefetch: prefetch)
    }

    func testEveryRowExactlyOncePerEpochWithMatchingImagesAndLabels() {
        let rows = [0, 2, 3, 5, 6, 7, 9]
        let batches = Array(loader(rows: rows))
        XCTAssertEqual(batches.map(\.rows.count), [3, 3, 1])
        XCTAssertEqual(batches.flatMap(\.rows).sorted(), rows)
        XCTAssertNotEqual(batches.flatMap(\.rows), rows, "seed 7 should not leave the rows in order")
        for batch in batches {
            XCTAssertEqual(batch.images.shape, [batch.rows.count, 1, 2, 2])
            XCTAssertEqual(batch.labels, batch.rows.map { $0 * 10 })
            XCTAssertEqual(batch.images.scalars, batch.rows.flatMap { [Float](repeating: Float($0), count: 4) })
        }
    }

    func testDeterministicAcrossRunsAndThreading() {
        let augmentation = Augmentation(hflip: true, vflip: true, cropPadding: 1)
        let background = Array(loader(rows: Array(0..<10), augmentation: augmentation))
        let again = Array(loader(rows: Array(0..<10), augmentation: augmentation))
        let foreground = Array(loader(rows: Array(0..<10), augmentation: augmentation, prefetch: 0))
        XCTAssertEqual(background, again)
        XCTAssertEqual(background, foreground)
        let reshuffled = Array(loader(rows: Array(0..<10), shuffleSeed: 8, augmentation: augmentation))
        XCTAssertNotEqual(background.flatMap(\.rows), reshuffled.flatMap(\.rows))
    }

    func testAugmentSeedChangesOnlyTheImages() {
        let augmentation = Augmentation(cropPadding: 1)
        let first = Array(loader(rows: Array(0..<10), augmentation: augmentation, augmentSeed: 1))
        let second = Array(loader(rows: Array(0..<10), augmentation: augmentation, augmentSeed: 2))
        XCTAssertEqual(first.map(\.rows), second.map(\.rows))
        XCTAssertNotEqual(first.map(\.images), second.map(\.images))
    }

    func testWithoutShuffleRowsComeInOrderAndNothingIsDropped() {
        let batches = Array(loader(rows: [4, 1, 8, 2], shuffleSeed: nil, dropLast: true))
        XCTAssertEqual(batches.map(\.rows), [[4, 1, 8], [2]])
    }

    func testDropLastDropsAShortFinalBatchWhenShuffling() {
        let dropping = loader(rows: Array(0..<10), dropLast: true)
        XCTAssertEqual(dropping.batchCount, 3)
        XCTAssertEqual(Array(dropping).map(\.rows.count), [3, 3, 3])
        XCTAssertEqual(loader(rows: [0, 1], dropLast: true).batchCount, 1, "a lone short batch is kept")
    }

    func testUnlabelledRowsAndEarlyStop() {
        let unlabelled = BatchLoader(images: images, rows: [3, 4], labels: [], batchSize: 4, shuffleSeed: nil,
                                     augmentation: nil, augmentSeed: 0, dropLast: false)
        XCTAssertEqual(Array(unlabelled).map(\.labels), [[]])
        // Leaving after one batch must stop the background thread rather than hang.
        for batch in loader(rows: Array(0..<10), batchSize: 1, prefetch: 1) {
            XCTAssertEqual(batch.rows.count, 1)
            break
        }
    }
}
