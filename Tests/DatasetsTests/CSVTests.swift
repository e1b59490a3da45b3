@testable import Datasets
import Foundation
import XCTest

final class CSVTests: XCTestCase {
    private let url = URL(fileURLWithPath: "/data/t.csv")

    func testQuotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let text = "id,note\n\"a,1\",\"say \"\"hi\"\"\"\n\"b\",\"two\nlines\"\nc,plain\n"
        let csv = try CSVFile.parse(text, url: url)
        XCTAssertEqual(csv.header, ["id", "note"])
        XCTAssertEqual(csv.rows, [CSVRow(line: 2, fields: ["a,1", "say \"hi\""]),
                                  CSVRow(line: 3, fields: ["b", "two\nlines"]),
                                  CSVRow(line: 5, fields: ["c", "plain"])])
    }

    func testCRLFByteOrderMarkBlankLinesAndNoFinalNewline() throws {
        let csv = try CSVFile.parse("\u{FEFF}id,label\r\nx,1\r\n\r\ny,2", url: url)
        XCTAssertEqual(csv.header, ["id", "label"])
        XCTAssertEqual(csv.rows, [CSVRow(line: 2, fields: ["x", "1"]), CSVRow(line: 4, fields: ["y", "2"])])
    }

    func testEmptyFieldsAreKept() throws {
        let csv = try CSVFile.parse("a,b,c\n,,\n", url: url)
        XCTAssertEqual(csv.rows, [CSVRow(line: 2, fields: ["", "", ""])])
    }

    func testUnclosedQuoteNamesItsLine() {
        XCTAssertThrowsError(try CSVFile.parse("id,label\nx,1\n\"y,2\n", url: url)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, "/data/t.csv")
            XCTAssertEqual(error.line, 3)
            XCTAssertTrue(error.message.contains("never closed"))
        }
    }

    func testWrongFieldCountNamesLineAndHeader() {
        XCTAssertThrowsError(try CSVFile.parse("id,label\nx,1\ny\n", url: url)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.line, 3)
            XCTAssertTrue(error.message.contains("1 fields but the header has 2 (id,label)"), error.message)
        }
    }

    func testEmptyFileIsAnError() {
        XCTAssertThrowsError(try CSVFile.parse("", url: url)) { error in
            XCTAssertTrue((error as! DatasetError).message.contains("empty"))
        }
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try CSVFile.load(URL(fileURLWithPath: "/nonexistent/train.csv"))) { error in
            XCTAssertEqual((error as! DatasetError).file, "/nonexistent/train.csv")
        }
    }

    func testFieldsAreQuotedOnlyWhenTheyMustBe() {
        XCTAssertEqual(CSVFile.field("img_01"), "img_01")
        XCTAssertEqual(CSVFile.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVFile.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVFile.field("two\nlines"), "\"two\nlines\"")
    }
}
