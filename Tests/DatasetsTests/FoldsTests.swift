import Datasets
import XCTest

final class FoldsTests: XCTestCase {
    func testStratifiedFoldsKeepClassProportions() {
        let labels = [Int](repeating: 0, count: 30) + [Int](repeating: 1, count: 20) + [Int](repeating: 2, count: 10)
        let folds = stratifiedFolds(labels: labels, folds: 5, seed: 3)
        for fold in 0..<5 {
            let members = labels.indices.filter { folds[$0] == fold }.map { labels[$0] }
            XCTAssertEqual([0, 1, 2].map { k in members.filter { $0 == k }.count }, [6, 4, 2], "fold \(fold)")
        }
    }

    func testStratifiedFoldsWithUnevenClassesStayBalanced() {
        let labels = [Int](repeating: 0, count: 7) + [Int](repeating: 1, count: 4)
        let folds = stratifiedFolds(labels: labels, folds: 3, seed: 1)
        let sizes = (0..<3).map { fold in folds.filter { $0 == fold }.count }
        XCTAssertEqual(sizes.sorted(), [3, 4, 4])
        for k in 0...1 {
            let perFold = (0..<3).map { fold in labels.indices.filter { folds[$0] == fold && labels[$0] == k }.count }
            XCTAssertLessThanOrEqual(perFold.max()! - perFold.min()!, 1)
        }
    }

    func testStratifiedFoldsAreReproducibleAndSeeded() {
        let labels = (0..<100).map { $0 % 4 }
        XCTAssertEqual(stratifiedFolds(labels: labels, folds: 5, seed: 11), stratifiedFolds(labels: labels, folds: 5, seed: 11))
        XCTAssertNotEqual(stratifiedFolds(labels: labels, folds: 5, seed: 11), stratifiedFolds(labels: labels, folds: 5, seed: 12))
    }

    func testGroupsAreNeverSplitAndFoldsAreBalanced() {
        // Group sizes 5,5,4,4,3,3,2,2,1,1 (30 rows) pack exactly into 3 folds of 10.
        let sizes = [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
        let groups = sizes.enumerated().flatMap { index, size in [String](repeating: "g\(index)", count: size) }
        for seed in 0..<5 as Range<UInt64> {
            let folds = groupFolds(groups: groups, folds: 3, seed: seed)
            for group in Set(groups) {
                XCTAssertEqual(Set(groups.indices.filter { groups[$0] == group }.map { folds[$0] }).count, 1, group)
            }
            XCTAssertEqual((0..<3).map { fold in folds.filter { $0 == fold }.count }, [10, 10, 10])
        }
    }

    func testGroupFoldsAreReproducibleAndSeeded() {
        let groups = (0..<40).map { "patient\($0 / 2)" }
        XCTAssertEqual(groupFolds(groups: groups, folds: 4, seed: 1), groupFolds(groups: groups, folds: 4, seed: 1))
        XCTAssertNotEqual(groupFolds(groups: groups, folds: 4, seed: 1), groupFolds(groups: groups, folds: 4, seed: 2))
    }

    func testRandomFolds() {
        let folds = randomFolds(count: 10, folds: 3, seed: 9)
        XCTAssertEqual((0..<3).map { fold in folds.filter { $0 == fold }.count }, [4, 3, 3])
        XCTAssertEqual(folds, randomFolds(count: 10, folds: 3, seed: 9))
        XCTAssertNotEqual(folds, randomFolds(count: 10, folds: 3, seed: 10))
    }
}
