import XCTest
import Training
@testable import Cluster

/// What lost leases and refused results cost a peer (`PeerPolicy`), driven
/// through `CoordinatorLogic` with a fake clock.
final class PeerStandingTests: XCTestCase {
    let logic = Helpers()
    let worker = WorkerIdentity([0xAA])

    /// `CoordinatorLogicTests`' message helpers, without its tests.
    struct Helpers {
        func hello(_ id: String) -> Message {
            .hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: id, host: "node-\(id)", threads: 1, datasetFingerprint: "fp01"))
        }
        func result(_ assignment: TaskAssignment) -> Message {
            .result(TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: 0.5, predictions: TaskPredictions(
                validationRows: [0], testRows: 1, classes: 1, sets: [SetPredictions(name: "last", oof: [1], test: [1])])))
        }
        func progress(_ assignment: TaskAssignment) -> Message {
            .progress(TaskProgress(taskID: assignment.taskID, attempt: assignment.attempt, epoch: 1, epochs: 5, trainLoss: 1,
                                   validationLoss: 1, validationScore: 0.5, learningRate: 0.1, seconds: 1))
        }
        func join(_ coordinator: inout CoordinatorLogic, _ peers: [(WorkerIdentity, String)], now: Double = 0) -> [TaskAssignment] {
            peers.flatMap { peer, id -> [TaskAssignment] in
                _ = coordinator.handle(.received(peer, hello(id)), now: now)
                return assignments(coordinator.handle(.received(peer, .ready), now: now)).map(\.1)
            }
        }
        func assignments(_ actions: [CoordinatorAction]) -> [(WorkerIdentity, TaskAssignment)] {
            actions.compactMap { if case .send(let peer, .task(let assignment)) = $0 { (peer, assignment) } else { nil } }
        }
        func logs(_ actions: [CoordinatorAction]) -> [String] {
            actions.compactMap { if case .log(let text) = $0 { text } else { nil } }
        }
    }

    private func coordinator(maxAttempts: Int = 1, policy: PeerPolicy = PeerPolicy()) -> CoordinatorLogic {
        var coordinator = CoordinatorLogic(tasks: CoordinatorLogicTests.tasks(1), maxAttempts: maxAttempts, datasetFingerprint: "fp01")
        coordinator.peerPolicy = policy
        coordinator.retryInitialDelay = 0
        return coordinator
    }

    /// `id` joins on a fresh connection, takes the task and vanishes; returns what the loss did.
    private func phantom(_ coordinator: inout CoordinatorLogic, _ id: String, connection: UInt8, now: Double) -> [CoordinatorAction] {
        let peer = WorkerIdentity([connection])
        _ = coordinator.handle(.received(peer, logic.hello(id)), now: now)
        XCTAssertEqual(logic.assignments(coordinator.handle(.received(peer, .ready), now: now)).count, 1, "\(id) gets the lease")
        return coordinator.handle(.unreachable(peer, taskUndelivered: false), now: now)
    }

    private func lost(_ actions: [CoordinatorAction]) -> [String] {
        actions.compactMap { if case .taskLost(_, _, let message) = $0 { message } else { nil } }
    }

    func testEightPhantomsTakingTheLeaseAndVanishingCostNoAttempt() {
        var coordinator = coordinator(maxAttempts: 1)
        for index in 0..<8 {
            let actions = phantom(&coordinator, "phantom-\(index)", connection: UInt8(index), now: Double(index))
            XCTAssertTrue(lost(actions).first?.hasSuffix("before reporting progress; costs no attempt (\(63 - index) such losses left this run)") == true, "\(actions)")
            XCTAssertFalse(actions.contains { if case .taskAbandoned = $0 { true } else { false } })
        }
        // The real worker gets the ninth attempt of a task allowed one, and finishes it.
        let real = logic.join(&coordinator, [(worker, "real")], now: 9)
        XCTAssertEqual(real.first?.attempt, 9)
        let done = coordinator.handle(.received(worker, logic.result(real[0])), now: 10)
        XCTAssertTrue(done.contains { if case .taskDone = $0 { true } else { false } })
        XCTAssertTrue(coordinator.isFinished)
        XCTAssertEqual(coordinator.summary.abandoned, 0)
    }

    func testFreeLossesAreBoundedForTheWholeRun() {
        var coordinator = coordinator(maxAttempts: 1, policy: PeerPolicy(freeLostLeases: 2))
        XCTAssertEqual(lost(phantom(&coordinator, "p0", connection: 0, now: 0)).count, 1)
        XCTAssertEqual(lost(phantom(&coordinator, "p1", connection: 1, now: 1)).count, 1)
        let third = phantom(&coordinator, "p2", connection: 2, now: 2)
        XCTAssertEqual(lost(third), ["worker p2 on node-p2 disconnected; its lease is lost"])
        XCTAssertTrue(third.contains(.taskAbandoned(taskID: CoordinatorLogicTests.tasks(1)[0].id)), "\(third)")
    }

    func testALeaseLostAfterProgressCostsItsAttempt() {
        var coordinator = coordinator(maxAttempts: 1)
        let lease = logic.join(&coordinator, [(worker, "trainer")])
        _ = coordinator.handle(.received(worker, logic.progress(lease[0])), now: 0.5)
        let actions = coordinator.handle(.unreachable(worker, taskUndelivered: false), now: 1)
        XCTAssertEqual(lost(actions), ["worker trainer on node-trainer disconnected; its lease is lost"])
        XCTAssertTrue(actions.contains(.taskAbandoned(taskID: lease[0].taskID)))
    }

    func testAWorkerIDThatKeepsLosingLeasesIsQuarantinedWhateverItsConnection() {
        var coordinator = coordinator(maxAttempts: 3)
        for attempt in 0..<2 { _ = phantom(&coordinator, "ghost", connection: UInt8(attempt), now: Double(attempt)) }
        let third = phantom(&coordinator, "ghost", connection: 2, now: 2)
        let quarantine = "worker ghost on node-ghost is quarantined for the rest of this run: 3 lost leases or refused results in a row (last: worker ghost on node-ghost disconnected; its lease is lost); fix the worker, then start the coordinator again"
        XCTAssertTrue(logic.logs(third).contains(quarantine), "\(third)")
        // Back under a new connection: refused at hello, and the task stays queued.
        let again = coordinator.handle(.received(WorkerIdentity([9]), logic.hello("ghost")), now: 3)
        XCTAssertTrue(again.contains(.send(WorkerIdentity([9]), .reject(Reject(reason: quarantine)))), "\(again)")
        XCTAssertEqual(coordinator.summary, CoordinatorLogic.Summary(queued: 1, running: 0, done: 0, abandoned: 0, workers: 0))
        // A well-behaved worker is unaffected.
        XCTAssertEqual(logic.join(&coordinator, [(worker, "real")], now: 4).first?.attempt, 4)
    }

    func testAConnectionOfAQuarantinedWorkerIsRefusedUnderAnotherID() {
        var coordinator = coordinator(maxAttempts: 3, policy: PeerPolicy(quarantineAfter: 1))
        let peer = WorkerIdentity([7])
        _ = coordinator.handle(.received(peer, logic.hello("first")), now: 0)
        _ = coordinator.handle(.received(peer, .ready), now: 0)
        // Hello again while holding the lease: lost, one strike, quarantined.
        let renamed = coordinator.handle(.received(peer, logic.hello("second")), now: 1)
        XCTAssertTrue(renamed.contains { if case .send(peer, .reject(let reject)) = $0 { reject.reason.contains("quarantined") } else { false } }, "\(renamed)")
        let again = coordinator.handle(.received(peer, logic.hello("third")), now: 2)
        XCTAssertTrue(again.contains(.send(peer, .reject(Reject(reason: "worker third on node-third is quarantined for the rest of this run: its connection belongs to a quarantined worker; fix the worker, then start the coordinator again")))), "\(again)")
    }

    func testAnAcceptedResultClearsTheStrikes() {
        var coordinator = CoordinatorLogic(tasks: CoordinatorLogicTests.tasks(2), maxAttempts: 3, datasetFingerprint: "fp01")
        coordinator.retryInitialDelay = 0
        for connection: UInt8 in [0, 1] { _ = phantom(&coordinator, "flaky", connection: connection, now: Double(connection)) }
        let lease = logic.join(&coordinator, [(worker, "flaky")], now: 2)
        let done = coordinator.handle(.received(worker, logic.result(lease[0])), now: 3)
        XCTAssertEqual(logic.assignments(done).count, 1, "flaky goes on with the next task")
        for connection: UInt8 in [4, 5] {
            _ = coordinator.handle(.unreachable(connection == 4 ? worker : WorkerIdentity([4]), taskUndelivered: false), now: 4)
            let back = coordinator.handle(.received(WorkerIdentity([connection]), logic.hello("flaky")), now: 5)
            XCTAssertFalse(back.contains { if case .send(_, .reject) = $0 { true } else { false } }, "two strikes since its result: \(back)")
            _ = coordinator.handle(.received(WorkerIdentity([connection]), .ready), now: 5)
        }
    }

    func testRefusedResultsFromFreshPeersCostNoAttemptWhileTheBudgetLasts() {
        var coordinator = coordinator(maxAttempts: 3, policy: PeerPolicy(freeLostLeases: 4, quarantineAfter: 3))
        for index: UInt8 in 0..<5 {
            let peer = WorkerIdentity([0x40 + index])
            let lease = logic.join(&coordinator, [(peer, "fake-\(index)")], now: Double(index))[0]
            let actions = coordinator.handle(.refusedResult(peer, taskID: lease.taskID, attempt: lease.attempt, reason: "nan"),
                                             now: Double(index) + 0.5)
            let free = actions.contains { if case .taskFailed(_, _, let message) = $0 { message.contains("costs no attempt") } else { false } }
            XCTAssertEqual(free, index < 4, "refusal \(index): \(actions)")
            XCTAssertFalse(actions.contains(.taskAbandoned(taskID: lease.taskID)), "\(actions)")
            // The peer leaves politely (a hand-back costs nothing), so the next fake one gets the task.
            for (_, again) in logic.assignments(actions) {
                _ = coordinator.handle(.received(peer, .failure(TaskFailure(taskID: again.taskID, attempt: again.attempt,
                                                                            message: "bye", handedBack: true))), now: Double(index) + 0.6)
            }
        }
        XCTAssertEqual(coordinator.summary.abandoned, 0, "five fake peers used one of three attempts")
    }

    func testARefusedResultFailsTheAttemptTellsTheWorkerWhyAndIsAStrike() {
        var coordinator = coordinator(maxAttempts: 5, policy: PeerPolicy(freeLostLeases: 0, quarantineAfter: 2))
        var lease = logic.join(&coordinator, [(worker, "liar")])[0]
        let first = coordinator.handle(.refusedResult(worker, taskID: lease.taskID, attempt: 1, reason: "set last OOF row 0 holds nan"), now: 1)
        let message = "result refused: set last OOF row 0 holds nan"
        XCTAssertTrue(first.contains(.taskFailed(taskID: lease.taskID, attempt: 1, message: message)), "\(first)")
        XCTAssertTrue(first.contains(.send(worker, .cancel(TaskCancel(taskID: lease.taskID, attempt: 1, reason: message)))), "\(first)")
        XCTAssertFalse(first.contains(.taskAbandoned(taskID: lease.taskID)))
        // With no backoff the retry goes straight back to the (ready again) worker.
        lease = logic.assignments(first)[0].1
        let second = coordinator.handle(.refusedResult(worker, taskID: lease.taskID, attempt: 2, reason: "it claims accuracy 1.0"), now: 3)
        XCTAssertTrue(second.contains { if case .send(worker, .reject(let reject)) = $0 { reject.reason.contains("quarantined") } else { false } }, "\(second)")
        XCTAssertEqual(coordinator.summary.workers, 0)
        // A refusal of an attempt that is no longer the lease changes nothing.
        XCTAssertEqual(logic.logs(coordinator.handle(.refusedResult(worker, taskID: lease.taskID, attempt: 1, reason: "late"), now: 4)).count, 1)
    }
}
