import XCTest
@testable import Manifests

final class ClusterSectionTests: XCTestCase {
    private func cluster(_ lines: [String]) throws -> ClusterSection {
        try Fixture.parse(Fixture.yaml(top: ["cluster:"] + lines.map { "  " + $0 })).cluster
    }

    func testDefaultsWhenAbsentOrEmpty() throws {
        let defaults = ClusterSection(maxAttempts: 3, heartbeatInterval: 1.0, liveness: 3, retryDelay: 1.0,
                                      maxRetryDelay: 60)
        XCTAssertEqual(ClusterSection(), defaults)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml()).cluster, defaults)
        XCTAssertEqual(try cluster([]), defaults)
    }

    func testValues() throws {
        let read = try cluster(["max_attempts: 5", "heartbeat_interval: 0.25", "liveness: 4", "retry_delay: 0",
                                "max_retry_delay: 30"])
        XCTAssertEqual(read, ClusterSection(maxAttempts: 5, heartbeatInterval: 0.25, liveness: 4, retryDelay: 0,
                                            maxRetryDelay: 30))
        // Seconds are doubles: 0.1 must not come back as Float(0.1) = 0.100000001490116.
        XCTAssertEqual(try cluster(["heartbeat_interval: 0.1"]).heartbeatInterval, 0.1)
        XCTAssertEqual(try cluster(["heartbeat_interval: 2"]).heartbeatInterval, 2.0)
        XCTAssertEqual(try cluster(["max_attempts: 1"]).maxAttempts, 1)
        XCTAssertEqual(try cluster(["liveness: 2"]).liveness, 2)
        XCTAssertEqual(try cluster(["retry_delay: 5", "max_retry_delay: 5"]).maxRetryDelay, 5)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["cluster: {max_attempts: 7}"])).cluster,
                       ClusterSection(maxAttempts: 7))
    }

    func testRanges() {
        assertManifestError(Fixture.yaml(top: ["cluster:", "  max_attempts: 0"]), line: 16,
                            keyPath: "cluster.max_attempts", message: "`max_attempts` must be >= 1, found 0")
        assertManifestError(Fixture.yaml(top: ["cluster: {heartbeat_interval: 0}"]), line: 15,
                            keyPath: "cluster.heartbeat_interval", message: "must be > 0 seconds, found 0.0")
        assertManifestError(Fixture.yaml(top: ["cluster: {heartbeat_interval: -0.5}"]), line: 15,
                            keyPath: "cluster.heartbeat_interval", message: "found -0.5")
        assertManifestError(Fixture.yaml(top: ["cluster: {liveness: 1}"]), line: 15, keyPath: "cluster.liveness",
                            message: "`liveness` must be >= 2, found 1")
        assertManifestError(Fixture.yaml(top: ["cluster: {retry_delay: -1}"]), line: 15,
                            keyPath: "cluster.retry_delay", message: "`retry_delay` must be >= 0 seconds")
    }

    func testWrongTypes() {
        assertManifestError(Fixture.yaml(top: ["cluster: {max_attempts: 2.5}"]), line: 15,
                            keyPath: "cluster.max_attempts", message: "expected an integer, found the number 2.5")
        assertManifestError(Fixture.yaml(top: ["cluster: {liveness: \"3\"}"]), line: 15,
                            keyPath: "cluster.liveness", message: "expected an integer, found the string \"3\"")
        assertManifestError(Fixture.yaml(top: ["cluster: {heartbeat_interval: 1s}"]), line: 15,
                            keyPath: "cluster.heartbeat_interval",
                            message: "expected a number of seconds, found the string \"1s\"", fix: "without quotes or units")
        assertManifestError(Fixture.yaml(top: ["cluster: {max_retry_delay: .inf}"]), line: 15,
                            keyPath: "cluster.max_retry_delay", message: "expected a number of seconds")
        assertManifestError(Fixture.yaml(top: ["cluster: [3]"]), line: 15, keyPath: "cluster",
                            message: "expected a map")
    }

    func testMaximumRetryDelayIsAtLeastTheFirstDelay() {
        assertManifestError(Fixture.yaml(top: ["cluster:", "  retry_delay: 10", "  max_retry_delay: 5"]), line: 17,
                            keyPath: "cluster.max_retry_delay",
                            message: "`max_retry_delay` is less than `retry_delay` 10.0",
                            fix: "write max_retry_delay: 10.0 or more")
        // Only the delay written: the default maximum (60) is what it outgrows, and the delay is to blame.
        assertManifestError(Fixture.yaml(top: ["cluster:", "  retry_delay: 120"]), line: 16,
                            keyPath: "cluster.retry_delay",
                            message: "the default `max_retry_delay` 60.0 is less than `retry_delay` 120.0")
        assertManifestError(Fixture.yaml(top: ["cluster: {max_retry_delay: 0.5}"]), line: 15,
                            keyPath: "cluster.max_retry_delay", message: "is less than `retry_delay` 1.0")
    }

    func testUnknownKeySuggestsTheClosest() {
        assertManifestError(Fixture.yaml(top: ["cluster:", "  liveness: 3", "  max_attempt: 5"]), line: 17,
                            keyPath: "cluster.max_attempt", message: "unknown key `max_attempt` in `cluster`",
                            fix: "did you mean `max_attempts`?")
        assertManifestError(Fixture.yaml(top: ["cluster: {heartbeat: 2}"]), line: 15, keyPath: "cluster.heartbeat",
                            message: "unknown key `heartbeat` in `cluster`",
                            fix: "use the keys max_attempts, heartbeat_interval, liveness, retry_delay, max_retry_delay")
    }
}
