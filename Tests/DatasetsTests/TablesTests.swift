import Datasets
import Foundation
import XCTest

final class TablesTests: XCTestCase {
    func testTrainTableSortsIntegerClassesNumerically() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label,patient\na,10,p1\nb,2,p2\n\"c\",1,p1\nd,2,p3\n", named: "train.csv", in: dir)
        let table = try TrainTable.load(csv: csv, idColumn: "id", labelColumn: "label", groupColumn: "patient")
        XCTAssertEqual(table.ids, ["a", "b", "c", "d"])
        XCTAssertEqual(table.classNames, ["1", "2", "10"])
        XCTAssertEqual(table.labels, [2, 1, 0, 1])
        XCTAssertEqual(table.groups, ["p1", "p2", "p1", "p3"])
        XCTAssertEqual(table.lines, [2, 3, 4, 5])
    }

    func testTrainTableSortsTextClassesLexicographically() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("image,kind\nx,dog\ny,cat\nz,10\n", named: "train.csv", in: dir)
        let table = try TrainTable.load(csv: csv, idColumn: "image", labelColumn: "kind", groupColumn: nil)
        XCTAssertEqual(table.classNames, ["10", "cat", "dog"])
        XCTAssertEqual(table.labels, [2, 1, 0])
        XCTAssertNil(table.groups)
    }

    func testEmptyCSV() throws {
        let dir = try temporaryDirectory()
        let empty = try writeText("", named: "empty.csv", in: dir)
        let headerOnly = try writeText("id,label\n", named: "header.csv", in: dir)
        assertError(try TrainTable.load(csv: empty, idColumn: "id", labelColumn: "label", groupColumn: nil),
                    file: empty, line: 1, contains: "empty")
        assertError(try TrainTable.load(csv: headerOnly, idColumn: "id", labelColumn: "label", groupColumn: nil),
                    file: headerOnly, line: 2, contains: "no rows")
    }

    func testMissingColumnListsTheColumnsFound() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("image_id,target\na,1\n", named: "train.csv", in: dir)
        assertError(try TrainTable.load(csv: csv, idColumn: "id", labelColumn: "target", groupColumn: nil),
                    file: csv, line: 1, contains: "no id column 'id'; the columns are: image_id, target")
        assertError(try TrainTable.load(csv: csv, idColumn: "image_id", labelColumn: "target", groupColumn: "site"),
                    file: csv, line: 1, contains: "no group column 'site'")
    }

    func testEmptyLabel() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\na,1\nb, \n", named: "train.csv", in: dir)
        assertError(try TrainTable.load(csv: csv, idColumn: "id", labelColumn: "label", groupColumn: nil),
                    file: csv, line: 3, contains: "'label' value is empty for id 'b'")
    }

    func testDuplicateIDNamesBothLines() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\na,1\nb,0\na,0\n", named: "train.csv", in: dir)
        assertError(try TrainTable.load(csv: csv, idColumn: "id", labelColumn: "label", groupColumn: nil),
                    file: csv, line: 4, contains: "id 'a' appears twice, on lines 2 and 4")
    }

    func testTestTableFromSampleSubmission() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\r\nt1,0\r\nt2,0\r\n", named: "sample_submission.csv", in: dir)
        let table = try TestTable.load(csv: csv, idColumn: "id")
        XCTAssertEqual(table.ids, ["t1", "t2"])
        XCTAssertEqual(table.columns, ["id", "label"])
        XCTAssertEqual(table.file, csv)
    }

    func testTestTableErrors() throws {
        let dir = try temporaryDirectory()
        let duplicate = try writeText("id\nt1\nt1\n", named: "dup.csv", in: dir)
        let emptyID = try writeText("id,x\nt1,1\n,2\n", named: "empty-id.csv", in: dir)
        assertError(try TestTable.load(csv: duplicate, idColumn: "id"), file: duplicate, line: 3, contains: "appears twice")
        assertError(try TestTable.load(csv: emptyID, idColumn: "id"), file: emptyID, line: 3, contains: "'id' value is empty")
    }

    func testHeldOutLabelsInRequestedOrder() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\nt1,10\nt2,1\nt3,2\n", named: "test_labels.csv", in: dir)
        let labels = try heldOutLabels(csv: csv, idColumn: "id", labelColumn: "label",
                                       ids: ["t3", "t1", "t2"], classNames: ["1", "2", "10"])
        XCTAssertEqual(labels, [1, 2, 0])
    }

    func testHeldOutUnknownLabelNamesLineAndClasses() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\nt1,1\nt2,7\n", named: "test_labels.csv", in: dir)
        assertError(try heldOutLabels(csv: csv, idColumn: "id", labelColumn: "label", ids: ["t1", "t2"], classNames: ["0", "1"]),
                    file: csv, line: 3, contains: "label '7' of id 't2' is not a training class; the classes are: 0, 1")
    }

    func testHeldOutMissingID() throws {
        let dir = try temporaryDirectory()
        let csv = try writeText("id,label\nt1,1\n", named: "test_labels.csv", in: dir)
        assertError(try heldOutLabels(csv: csv, idColumn: "id", labelColumn: "label", ids: ["t1", "t9"], classNames: ["0", "1"]),
                    file: csv, line: nil, contains: "no label for id 't9'")
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, file csv: URL, line: Int?, contains text: String,
                                sourceLine: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: sourceLine) { error in
            guard let error = error as? DatasetError else { return XCTFail("not a DatasetError: \(error)", line: sourceLine) }
            XCTAssertEqual(error.file, csv.path, line: sourceLine)
            XCTAssertEqual(error.line, line, line: sourceLine)
            XCTAssertTrue(error.message.contains(text), "\(error.message)", line: sourceLine)
            XCTAssertFalse(error.fix.isEmpty, line: sourceLine)
        }
    }
}
