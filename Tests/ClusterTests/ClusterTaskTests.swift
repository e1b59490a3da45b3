import XCTest
import Training
@testable import Cluster

final class ClusterTaskTests: XCTestCase {
    let task = ClusterTask(manifestHash: "abc123", stage: "base", round: 0, fold: FoldTask(model: "resnet", seed: 7, fold: 2))

    func testFNV1aMatchesPublishedVectors() {
        XCTAssertEqual(ClusterTask.fnv1a64([]), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(ClusterTask.fnv1a64(Array("a".utf8)), 0xaf63_dc4c_8601_ec8c)
    }

    func testIDIsSixteenHexDigitsOfTheCanonicalString() {
        XCTAssertEqual(task.canonicalString, "7:task-v1;6:abc123;4:base;1:0;6:resnet;1:7;1:2")
        // Computed independently (Python FNV-1a 64 over the canonical string).
        XCTAssertEqual(task.id, "90c640d898ab2585")
    }

    func testEveryFieldChangesTheID() {
        var variants: [ClusterTask] = []
        for change in 0..<6 {
            var other = task
            switch change {
            case 0: other.manifestHash = "abc124"
            case 1: other.stage = "distill"
            case 2: other.round = 1
            case 3: other.fold.model = "resnet2"
            case 4: other.fold.seed = 8
            default: other.fold.fold = 3
            }
            variants.append(other)
        }
        XCTAssertEqual(Set(variants.map(\.id) + [task.id]).count, 7)
    }

    func testLengthPrefixKeepsShiftedFieldsApart() {
        let left = ClusterTask(manifestHash: "h", stage: "a;1:b", round: 0, fold: FoldTask(model: "m", seed: 0, fold: 0))
        let right = ClusterTask(manifestHash: "h;1:a", stage: "b", round: 0, fold: FoldTask(model: "m", seed: 0, fold: 0))
        XCTAssertNotEqual(left.id, right.id)
    }

    func testCodableIsFlatAndRoundTrips() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(task), as: UTF8.self)
        XCTAssertEqual(text, #"{"fold":2,"manifestHash":"abc123","model":"resnet","round":0,"seed":7,"stage":"base"}"#)
        XCTAssertEqual(try JSONDecoder().decode(ClusterTask.self, from: Data(text.utf8)), task)
    }
}
