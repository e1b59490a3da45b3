import Datasets
import Foundation
import XCTest
@testable import Ensemble

/// Every format a sample submission can ask for, each in the sample's own
/// column order and id order; the expected texts are the golden outputs.
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

    /// Writes, checks and returns the submission of `probabilities` for `sampleText`.
    private func written(_ sampleText: String, probabilities wantsProbabilities: Bool, idColumn: String = "id",
                         classNames: [String]? = nil, scores: [Float]? = nil, testIDs: [String]? = nil) throws -> String {
        let names = classNames ?? classes
        let url = try sample(sampleText)
        let submission = try Submission(sample: url, idColumn: idColumn, classNames: names, probabilities: wantsProbabilities)
        XCTAssertEqual(submission.writesProbabilities, wantsProbabilities)
        let text = try submission.csv(probabilities: scores ?? probabilities, classes: names.count,
                                      testIDs: testIDs ?? self.testIDs, classNames: names)
        XCTAssertNoThrow(try submission.check(text, classNames: names, file: url))
        return text
    }

    func testLabelColumnGetsTheMostLikelyClassInTheSamplesIdOrder() throws {
        let text = try written("id,label\na,cat\nb,cat\nc,cat\n", probabilities: false)
        XCTAssertEqual(text, "id,label\na,cat\nb,dog\nc,fox\n")
    }

    func testProbabilityColumnsFollowTheSamplesColumnOrder() throws {
        let text = try written("id,fox,cat,dog\na,0,0,0\nb,0,0,0\nc,0,0,0\n", probabilities: true)
        XCTAssertEqual(text, "id,fox,cat,dog\na,0.1,0.6,0.3\nb,0.2,0.1,0.7\nc,0.6,0.2,0.2\n")
    }

    func testLabelsInPerClassColumnsAreOneHot() throws {
        let text = try written("id,fox,cat,dog\na,0.33,0.33,0.34\nb,0.33,0.33,0.34\nc,0.33,0.33,0.34\n", probabilities: false)
        XCTAssertEqual(text, "id,fox,cat,dog\na,0,1,0\nb,0,0,1\nc,1,0,0\n")
    }

    func testTheIdColumnKeepsItsPlaceInTheSamplesHeader() throws {
        let text = try written("dog,cat,id,fox\n0,0,a,0\n0,0,b,0\n0,0,c,0\n", probabilities: true)
        XCTAssertEqual(text, "dog,cat,id,fox\n0.3,0.6,a,0.1\n0.7,0.1,b,0.2\n0.2,0.2,c,0.6\n")
        let labels = try written("label,id\ncat,a\ncat,b\ncat,c\n", probabilities: false)
        XCTAssertEqual(labels, "label,id\ncat,a\ndog,b\nfox,c\n")
    }

    /// A sample of all `0` says nothing about the format: the caller's choice decides.
    func testBinarySingleColumnIsTheSecondClassProbabilityOrTheLabel() throws {
        let sample = "image_id,target\na,0\nb,0\n"
        let scores: [Float] = [0.9, 0.1, 0.25, 0.75]
        let binary = ["0", "1"]
        XCTAssertEqual(try written(sample, probabilities: true, idColumn: "image_id", classNames: binary, scores: scores,
                                   testIDs: ["a", "b"]), "image_id,target\na,0.1\nb,0.75\n")
        XCTAssertEqual(try written(sample, probabilities: false, idColumn: "image_id", classNames: binary, scores: scores,
                                   testIDs: ["a", "b"]), "image_id,target\na,0\nb,1\n")
    }

    /// A lone column named by one of two classes holds that class's probability, not class 1's.
    func testBinarySingleColumnNamedByAClassHoldsThatClass() throws {
        let scores: [Float] = [0.9, 0.1, 0.25, 0.75]
        let names = ["benign", "malignant"]
        XCTAssertEqual(try written("id,benign\na,0\nb,0\n", probabilities: true, classNames: names, scores: scores, testIDs: ["a", "b"]),
                       "id,benign\na,0.9\nb,0.25\n")
        XCTAssertEqual(try written("id,benign\na,0\nb,0\n", probabilities: false, classNames: names, scores: scores, testIDs: ["a", "b"]),
                       "id,benign\na,1\nb,0\n")
    }

    func testProbabilitiesOfManyClassesInOneColumnNameTheFix() throws {
        let url = try sample("id,label\na,0\nb,0\nc,0\n")
        XCTAssertThrowsError(try Submission(sample: url, idColumn: "id", classNames: classes, probabilities: true)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("one value column `label` cannot hold the probabilities of 3 classes"), text)
            XCTAssertTrue(text.contains("submission: {format: label}"), text)
            XCTAssertTrue(text.contains(url.path), text)
        }
    }

    func testMisfitsAreClearErrors() throws {
        let unknown = try sample("id,cat,wolf,dog\na,0,0,1\n")
        XCTAssertThrowsError(try Submission(sample: unknown, idColumn: "id", classNames: classes, probabilities: true)) {
            XCTAssertTrue("\($0)".contains("unknown: [\"wolf\"]"), "\($0)")
        }
        let url = try sample("id,label\na,cat\nz,cat\n")
        let submission = try Submission(sample: url, idColumn: "id", classNames: classes, probabilities: false)
        XCTAssertThrowsError(try submission.csv(probabilities: probabilities, classes: 3, testIDs: testIDs, classNames: classes)) {
            XCTAssertTrue("\($0)".contains("first: z"), "\($0)")
        }
    }

    func testCheckComparesWithTheSamplesOwnHeaderIdsAndValues() throws {
        let url = try sample("id,fox,cat,dog\na,0,0,0\nb,0,0,0\n")
        let submission = try Submission(sample: url, idColumn: "id", classNames: classes, probabilities: true)
        let check = { (text: String) in try submission.check(text, classNames: self.classes, file: url) }
        XCTAssertNoThrow(try check("id,fox,cat,dog\na,0.1,0.6,0.3\nb,0,1,0\n"))
        XCTAssertThrowsError(try check("id,cat,dog,fox\na,0.1,0.6,0.3\nb,0,1,0\n")) {
            XCTAssertTrue("\($0)".contains("is not the sample's [\"id\", \"fox\", \"cat\", \"dog\"]"), "\($0)")
        }
        XCTAssertThrowsError(try check("id,fox,cat,dog\nb,0.1,0.6,0.3\na,0,1,0\n")) {
            XCTAssertTrue("\($0)".contains("ids are not the sample submission's"), "\($0)")
        }
        for bad in ["nan", "inf", "1.5", "-0.1", "x"] {
            XCTAssertThrowsError(try check("id,fox,cat,dog\na,0.1,\(bad),0.3\nb,0,1,0\n"), bad)
        }
        let labels = try Submission(sample: try sample("id,label\na,cat\nz,cat\n"), idColumn: "id", classNames: classes,
                                    probabilities: false)
        XCTAssertThrowsError(try labels.check("id,label\na,cat\nz,wolf\n", classNames: classes, file: url))
        let oneHot = try Submission(sample: url, idColumn: "id", classNames: classes, probabilities: false)
        XCTAssertNoThrow(try oneHot.check("id,fox,cat,dog\na,0,1,0\nb,1,0,0\n", classNames: classes, file: url))
        XCTAssertThrowsError(try oneHot.check("id,fox,cat,dog\na,0,1,1\nb,1,0,0\n", classNames: classes, file: url))
        XCTAssertThrowsError(try oneHot.check("id,fox,cat,dog\na,0,0.5,0\nb,1,0,0\n", classNames: classes, file: url))
    }
}
