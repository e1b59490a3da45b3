import Foundation
import XCTest

/// `foldwise bench-engine` at a toy size: one JSON line describing the run.
final class BenchEngineCommandTests: XCTestCase {
    func testPrintsOneJSONLineWithTheMeasuredSettings() throws {
        let result = try FoldwiseProcess.run(["bench-engine", "--threads", "1", "--size", "8", "--batch", "2",
                                              "--steps", "1", "--warmup", "0"])
        assertSucceeded(result)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as? [String: Any])
        XCTAssertEqual(json["network"] as? String, "resnet_ref")
        XCTAssertEqual(json["threads"] as? Int, 1)
        XCTAssertEqual(json["batch"] as? Int, 2)
        XCTAssertEqual(json["input"] as? [Int], [1, 8, 8])
        for key in ["train_images_per_s", "infer_images_per_s", "peak_rss_mib"] {
            XCTAssertGreaterThan(try XCTUnwrap(json[key] as? Double, key), 0, key)
        }
        XCTAssertFalse(try XCTUnwrap(json["blas_core"] as? String).isEmpty)
    }

    /// FOLDWISE_ENGINE=dnnl runs oneDNN with OpenMP's passive wait unless the variable says otherwise.
    func testDNNLKernelsRunWithPassiveOpenMPUnlessSetExplicitly() throws {
        for (policy, expected) in [(nil, "passive"), ("active", "active")] as [(String?, String)] {
            var environment = ["FOLDWISE_ENGINE": "dnnl"]
            environment["OMP_WAIT_POLICY"] = policy
            let result = try FoldwiseProcess.run(["bench-engine", "--threads", "1", "--size", "8", "--batch", "2",
                                                  "--steps", "1", "--warmup", "0"], environment: environment)
            assertSucceeded(result)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as? [String: Any])
            XCTAssertEqual(json["kernels"] as? String, "dnnl")
            XCTAssertEqual(json["omp_wait_policy"] as? String, expected)
        }
    }
}
