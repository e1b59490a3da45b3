import Datasets
import Foundation
import XCTest
@testable import Ensemble

final class SubmissionTests: XCTestCase {
    private func sample(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sample-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // Test rows in another order than the sample's ids.
    let testIDs = ["b", "a", "c"]
    let probabilities: [Float] = [0.1, 0.7, 0.2,   0.6, 0.3, 0.1,   0.2, 0.2, 0.6]
    let classes = ["cat", "dog", "fox"]

    func testLabelColumnGetsTheMostLikelyClassInTheSamplesIdOrder() throws {
        let url = try sample("id,label\na,cat\nb,cat\nc,cat\n")
        let submission = try Submission(sample: url, idColumn: "id", classNames: classes)
        XCTAssertEqual(submission.format, .label(column: "label"))
        let text = try submission.csv(probabilities: probabilities, classes: 3, testIDs: testIDs, classNames: classes)
        XCTAssertEqual(text, "id,label\na,cat\nb,dog\nc,fox\n")
        XCTAssertNoThrow(try submission.check(text, classNames: classes, file: url))
    }

    func testProbabilityColumnsFollowTheSamplesColumnOrder() throws {
        let url = try sample("id,fox,cat,dog\na,0.33,0.33,0.34\nb,0.33,0.33,0.34\nc,0.33,0.33,0.34\n")
        let submission = try Submission(sample: url, idColumn: "id", classNames: classes)
        let text = try submission.csv(probabilities: probabilities, classes: 3, testIDs: testIDs, classNames: classes)
        XCTAssertEqual(text, "id,fox,cat,dog\na,0.1,0.6,0.3\nb,0.2,0.1,0.7\nc,0.6,0.2,0.2\n")
        XCTAssertNoThrow(try submission.check(text, classNames: classes, file: url))
    }

    func testBinarySampleWithFractionsWantsTheSecondClassProbability() throws {
        let url = try sample("image_id,target\na,0.5\nb,0.5\n")
        let submission = try Submission(sample: url, idColumn: "image_id", classNames: ["0", "1"])
        XCTAssertEqual(submission.format, .positiveProbability(column: "target"))
        let text = try submission.csv(probabilities: [0.9, 0.1, 0.25, 0.75], classes: 2, testIDs: ["a", "b"], classNames: ["0", "1"])
        XCTAssertEqual(text, "image_id,target\na,0.1\nb,0.75\n")
    }

    func testMisfitsAreClearErrors() throws {
        let unknown = try sample("id,cat,wolf,dog\na,0,0,1\n")
        XCTAssertThrowsError(try Submission(sample: unknown, idColumn: "id", classNames: classes)) {
            XCTAssertTrue("\($0)".contains("unknown: [\"wolf\"]"), "\($0)")
        }
        let url = try sample("id,label\na,cat\nz,cat\n")
        let submission = try Submission(sample: url, idColumn: "id", classNames: classes)
        XCTAssertThrowsError(try submission.csv(probabilities: probabilities, classes: 3, testIDs: testIDs, classNames: classes)) {
            XCTAssertTrue("\($0)".contains("first: z"), "\($0)")
        }
        XCTAssertThrowsError(try submission.check("id,label\nz,cat\na,cat\n", classNames: classes, file: url)) {
            XCTAssertTrue("\($0)".contains("ids are not the sample submission's"), "\($0)")
        }
        XCTAssertThrowsError(try submission.check("id,label\na,cat\nz,wolf\n", classNames: classes, file: url))
    }
}
