import Foundation
import XCTest

/// `foldwise bench-conv` at a toy size on both backends: one JSON line each.
final class BenchConvCommandTests: XCTestCase {
    func testPrintsOneJSONLinePerBackend() throws {
        for backend in ["blas", "dnnl"] {
            let result = try FoldwiseProcess.run(["bench-conv", "--backend", backend, "--threads", "1", "--size", "8",
                                                  "--batch", "2", "--steps", "1", "--warmup", "0"])
            assertSucceeded(result)
            XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as? [String: Any])
            XCTAssertEqual(json["backend"] as? String, backend)
            XCTAssertEqual(json["batch"] as? Int, 2)
            for key in ["train_images_per_s", "infer_images_per_s", "train_gflop_per_s"] {
                XCTAssertGreaterThan(try XCTUnwrap(json[key] as? Double, key), 0, key)
            }
        }
    }

    func testRejectsAnUnknownBackendWithTheChoices() throws {
        let result = try FoldwiseProcess.run(["bench-conv", "--backend", "mkl"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("use blas or dnnl"), result.stderr)
    }
}
