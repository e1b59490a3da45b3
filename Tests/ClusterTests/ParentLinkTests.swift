import Foundation
import XCTest
@testable import Cluster

/// The pipe `foldwise run` gives its workers: the keys on its first line, its end as the signal to stop.
final class ParentLinkTests: XCTestCase {
    let security = ClientSecurity(keyPair: KeyPair.generate(), serverPublicKey: KeyPair.generate().publicKey)

    func pipe(_ text: String, close: Bool = true) -> Pipe {
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data(text.utf8))
        if close { try? pipe.fileHandleForWriting.close() }
        return pipe
    }

    func testTheKeysRoundTripThroughThePipe() throws {
        let link = pipe(ParentLink.line(for: security), close: false)
        XCTAssertEqual(try ParentLink.readSecurity(from: link.fileHandleForReading.fileDescriptor), security)
    }

    func testAnEndedOrMalformedOrOverlongFirstLineIsRefusedWithTheFix() {
        let cases = ["", "foldwise-curve a b c\n", String(repeating: "x", count: 10_000),
                     ParentLink.line(for: security).replacingOccurrences(of: "foldwise-curve", with: "other")]
        for text in cases {
            XCTAssertThrowsError(try ParentLink.readSecurity(from: pipe(text).fileHandleForReading.fileDescriptor)) { error in
                XCTAssertTrue("\(error)".contains("--keys-on-stdin") && "\(error)".contains("--server-key"), "\(error)")
            }
        }
    }

    func testTheWatcherFiresWhenTheWriterGoesAway() {
        let link = pipe("", close: false)
        let closed = expectation(description: "the end of the pipe is seen")
        ParentLink.watch(link.fileHandleForReading.fileDescriptor) { closed.fulfill() }
        link.fileHandleForWriting.write(Data("not the end\n".utf8))
        try? link.fileHandleForWriting.close()
        wait(for: [closed], timeout: 5)
    }
}
