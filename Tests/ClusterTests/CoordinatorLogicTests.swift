import XCTest
import Training
@testable import Cluster

/// The coordinator driven by hand with a fake clock: no sockets, no sleeps.
final class CoordinatorLogicTests: XCTestCase {
    static func tasks(_ count: Int) -> [ClusterTask] {
        (0..<count).map { ClusterTask(manifestHash: "m1", stage: "base", round: 0, fold: FoldTask(model: "resnet", seed: 1, fold: $0)) }
    }
    let w1 = WorkerIdentity([0x01]), w2 = WorkerIdentity([0x02])

    func hello(_ id: String, version: Int = Int(WireProtocol.version), fingerprint: String = "fp01") -> Message {
        .hello(Hello(protocolVersion: version, workerID: id, host: "node-\(id)", threads: 1, datasetFingerprint: fingerprint))
    }

    func result(_ assignment: TaskAssignment, score: Double = 0.5) -> Message {
        .result(TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: score, predictions: TaskPredictions(
            validationRows: [0], testRows: 1, classes: 1, sets: [SetPredictions(name: "last", oof: [1], test: [1])])))
    }

    /// The first epoch's progress on `assignment`: the peer is training it.
    func progress(_ assignment: TaskAssignment) -> Message {
        .progress(TaskProgress(taskID: assignment.taskID, attempt: assignment.attempt, epoch: 1, epochs: 5, trainLoss: 1,
                               validationLoss: 1, validationScore: 0.5, learningRate: 0.1, seconds: 1))
    }

    /// Hello and ready from each peer at `now`; returns the tasks they were given.
    func join(_ coordinator: inout CoordinatorLogic, _ peers: [(WorkerIdentity, String)], now: Double = 0) -> [TaskAssignment] {
        var given: [TaskAssignment] = []
        for (peer, id) in peers {
            let welcome = coordinator.handle(.received(peer, hello(id)), now: now)
            XCTAssertTrue(welcome.contains(.send(peer, .welcome(Welcome(workerID: id, heartbeatInterval: 1)))))
            given += assignments(coordinator.handle(.received(peer, .ready), now: now)).map(\.1)
        }
        return given
    }

    func assignments(_ actions: [CoordinatorAction]) -> [(WorkerIdentity, TaskAssignment)] {
        actions.compactMap { if case .send(let peer, .task(let assignment)) = $0 { (peer, assignment) } else { nil } }
    }

    func logs(_ actions: [CoordinatorAction]) -> [String] {
        actions.compactMap { if case .log(let text) = $0 { text } else { nil } }
    }

    func testHappyPathTwoWorkersFiveTasksEachDoneOnce() {
        let tasks = Self.tasks(5)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 3, datasetFingerprint: "fp01")
        var leases = Dictionary(uniqueKeysWithValues: zip([w1, w2], join(&coordinator, [(w1, "a"), (w2, "b")])))
        XCTAssertEqual(leases[w1]?.task, tasks[0])
        XCTAssertEqual(leases[w2]?.task, tasks[1])
        var done: [String] = [], shutdowns: [WorkerIdentity] = [], now = 0.0
        while shutdowns.count < 2 {
            now += 0.5
            guard now < 10 else { return XCTFail("the run should end") }
            for peer in [w1, w2] {
                guard let lease = leases.removeValue(forKey: peer) else { continue }
                let actions = coordinator.handle(.received(peer, result(lease)), now: now)
                done += actions.compactMap { if case .taskDone(let id, _) = $0 { id } else { nil } }
                for (to, next) in assignments(actions) { leases[to] = next }
                shutdowns += actions.compactMap { if case .send(let to, .shutdown) = $0 { to } else { nil } }
            }
        }
        XCTAssertEqual(done.sorted(), tasks.map(\.id).sorted())
        XCTAssertEqual(Set(shutdowns), [w1, w2])
        XCTAssertTrue(coordinator.isFinished)
        XCTAssertEqual(coordinator.summary, CoordinatorLogic.Summary(queued: 0, running: 0, done: 5, abandoned: 0, workers: 0))
    }

    func testSilentWorkerLosesItsLeaseAndItsLateResultIsStale() {
        let tasks = Self.tasks(2)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 3, datasetFingerprint: "fp01")
        let first = join(&coordinator, [(w1, "a"), (w2, "b")])
        _ = coordinator.handle(.received(w1, progress(first[0])), now: 0)
        XCTAssertTrue(assignments(coordinator.handle(.received(w2, result(first[1])), now: 1)).isEmpty, "nothing left to lease yet")
        for now in [1.0, 2.0, 2.9] {
            _ = coordinator.handle(.received(w2, .heartbeat), now: now)
            let actions = coordinator.handle(.tick, now: now)
            XCTAssertFalse(actions.contains { if case .taskLost = $0 { true } else { false } }, "w1 is silent for only \(now) s")
        }
        let expiry = coordinator.handle(.tick, now: 3)
        XCTAssertTrue(expiry.contains(.taskLost(taskID: tasks[0].id, attempt: 1, message: "worker a on node-a silent for 3.0 s; its lease is lost")))
        XCTAssertTrue(assignments(expiry).isEmpty, "the retry waits for its backoff")
        _ = coordinator.handle(.received(w2, .heartbeat), now: 3.5)
        let retry = assignments(coordinator.handle(.tick, now: 4))
        XCTAssertEqual(retry.map(\.0), [w2])
        XCTAssertEqual(retry.first?.1, TaskAssignment(task: tasks[0], attempt: 2))

        let late = coordinator.handle(.received(w1, result(first[0])), now: 4.5)
        XCTAssertFalse(late.contains { if case .taskDone = $0 { true } else { false } })
        XCTAssertTrue(logs(late).contains { $0.contains("stale result") && $0.contains("attempt 1") }, "\(late)")

        let current = coordinator.handle(.received(w2, result(retry[0].1, score: 0.75)), now: 5)
        XCTAssertTrue(current.contains { if case .taskDone(tasks[0].id, let result) = $0 { result.attempt == 2 && result.score == 0.75 } else { false } })
        let duplicate = coordinator.handle(.received(w2, result(retry[0].1)), now: 5.5)
        XCTAssertFalse(duplicate.contains { if case .taskDone = $0 { true } else { false } })
        XCTAssertTrue(logs(duplicate).contains { $0.contains("duplicate result") }, "\(duplicate)")
    }

    func testFailureRetriesAfterDoublingBackoffThenAbandons() {
        let task = Self.tasks(1)[0]
        var coordinator = CoordinatorLogic(tasks: [task], maxAttempts: 3, datasetFingerprint: "fp01")
        var lease = join(&coordinator, [(w1, "a")])[0]
        var retryTimes: [Double] = []
        var now = 0.0, finalActions: [CoordinatorAction] = []
        for attempt in 1...3 {
            XCTAssertEqual(lease.attempt, attempt)
            now += 0.5
            let failed = coordinator.handle(.received(w1, .failure(TaskFailure(taskID: task.id, attempt: attempt, message: "diverged"))), now: now)
            XCTAssertTrue(failed.contains(.taskFailed(taskID: task.id, attempt: attempt, message: "diverged")))
            if attempt == 3 { finalActions = failed; break }
            let failedAt = now
            while true {
                now += 0.25
                guard now < 20 else { return XCTFail("attempt \(attempt) was never retried") }
                let actions = coordinator.handle(.received(w1, .heartbeat), now: now) + coordinator.handle(.tick, now: now)
                if let next = assignments(actions).first { lease = next.1; break }
            }
            retryTimes.append(now - failedAt)
        }
        XCTAssertEqual(retryTimes, [1, 2])
        XCTAssertTrue(finalActions.contains(.taskAbandoned(taskID: task.id)))
        XCTAssertTrue(finalActions.contains(.send(w1, .shutdown(Shutdown(reason: "all tasks are finished")))))
        XCTAssertEqual(coordinator.summary.abandoned, 1)
        XCTAssertEqual((1...8).map { coordinator.retryDelay(afterAttempts: $0) }, [1, 2, 4, 8, 16, 32, 60, 60])
    }

    func testWrongProtocolVersionIsRejectedNamingBothVersions() {
        var coordinator = CoordinatorLogic(tasks: Self.tasks(1), maxAttempts: 1, datasetFingerprint: "fp01")
        let actions = coordinator.handle(.received(w1, hello("a", version: 1)), now: 0)
        guard case .send(w1, .reject(let reject))? = actions.first(where: { if case .send = $0 { true } else { false } }) else {
            return XCTFail("\(actions)")
        }
        XCTAssertTrue(reject.reason.contains("version 1") && reject.reason.contains("version \(WireProtocol.version)"), reject.reason)
        XCTAssertTrue(logs(actions).contains { $0.contains(reject.reason) })
        XCTAssertTrue(assignments(coordinator.handle(.received(w1, .ready), now: 0)).isEmpty, "a rejected worker gets no task")
        // A version 2 worker's hello cannot be decoded at all; the reject still names both versions.
        var olderHello = Message.hello(Hello(protocolVersion: 2, workerID: "old", host: "h", threads: 1, datasetFingerprint: "fp01")).encode()
        olderHello[0] = Array("FWP".utf8) + [2]
        XCTAssertThrowsError(try Message.decode(olderHello)) { error in
            let undecodable = coordinator.handle(.undecodable(w2, error as! ProtocolError), now: 0)
            guard case .send(w2, .reject(let other))? = undecodable.last else { return XCTFail("\(undecodable)") }
            XCTAssertTrue(other.reason.contains("version 2") && other.reason.contains("version 3"), other.reason)
        }
    }

    func testWrongDatasetFingerprintIsRejectedWithoutTellingTheCoordinatorsFingerprint() {
        var coordinator = CoordinatorLogic(tasks: Self.tasks(1), maxAttempts: 1, datasetFingerprint: "fp01")
        let actions = coordinator.handle(.received(w1, hello("a", fingerprint: "fp99")), now: 0)
        guard case .send(w1, .reject(let reject))? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertTrue(reject.reason.contains("fp99") && reject.reason.contains("worker a"), reject.reason)
        XCTAssertFalse(actions.contains { "\($0)".contains("fp01") }, "a peer could pose as a worker with the real fingerprint: \(actions)")
        XCTAssertTrue(logs(actions).contains { $0.contains(reject.reason) })
        XCTAssertEqual(coordinator.summary.workers, 0)
    }

    func testRestoredDoneTasksAreNeverAssigned() {
        let tasks = Self.tasks(3)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 2, datasetFingerprint: "fp01",
                                           restoring: .init(doneTaskIDs: [tasks[0].id, tasks[2].id], attemptsStarted: [tasks[1].id: 4]))
        XCTAssertEqual(coordinator.summary.done, 2)
        let given = join(&coordinator, [(w1, "a"), (w2, "b")])
        XCTAssertEqual(given, [TaskAssignment(task: tasks[1], attempt: 5)], "only the unfinished task, numbered after the stored attempts")
        let finish = coordinator.handle(.received(w1, result(given[0])), now: 1)
        XCTAssertTrue(finish.contains { if case .taskDone(tasks[1].id, _) = $0 { true } else { false } })
        XCTAssertTrue(assignments(finish).isEmpty)
        XCTAssertTrue(finish.contains(.send(w1, .shutdown(Shutdown(reason: "all tasks are finished")))))
        XCTAssertTrue(finish.contains(.send(w2, .shutdown(Shutdown(reason: "all tasks are finished")))))
    }

    func testProgressOfTheLeaseIsReportedAndOfAnotherAttemptCancelled() {
        let task = Self.tasks(1)[0]
        var coordinator = CoordinatorLogic(tasks: [task], maxAttempts: 2, datasetFingerprint: "fp01")
        let lease = join(&coordinator, [(w1, "a")])[0]
        let progress = TaskProgress(taskID: task.id, attempt: lease.attempt, epoch: 1, epochs: 4, trainLoss: 0.5,
                                    validationLoss: 0.6, validationScore: 0.8, learningRate: 0.01, seconds: 1)
        XCTAssertEqual(coordinator.handle(.received(w1, .progress(progress)), now: 0.5), [.taskProgress(progress)])
        var old = progress
        old.attempt = 7
        let actions = coordinator.handle(.received(w1, .progress(old)), now: 0.6)
        XCTAssertTrue(actions.contains(.send(w1, .cancel(TaskCancel(taskID: task.id, attempt: 7)))))
    }

    func testCoordinatorHeartbeatsEachWorkerEveryInterval() {
        var coordinator = CoordinatorLogic(tasks: Self.tasks(1), maxAttempts: 1, datasetFingerprint: "fp01")
        _ = coordinator.handle(.received(w1, hello("a")), now: 0)
        XCTAssertEqual(coordinator.handle(.tick, now: 0.5), [])
        XCTAssertEqual(coordinator.handle(.tick, now: 1.0), [.send(w1, .heartbeat)])
        XCTAssertEqual(coordinator.handle(.tick, now: 1.5), [])
        // A heartbeat queued on a replaced connection is ignored quietly; anything else from a stranger is logged.
        XCTAssertEqual(coordinator.handle(.received(w2, .heartbeat), now: 1.6), [])
        XCTAssertTrue(logs(coordinator.handle(.received(w2, .ready), now: 1.7)).first?.contains("not said hello") ?? false)
    }

    func testWorkerWithoutTheManifestGetsItAndIsAdmittedOnlyWithItsData() {
        let tasks = Self.tasks(1)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 1, datasetFingerprint: "fp01")
        let offer = ManifestOffer(hash: "m1", json: "{}", directory: "/exp")
        coordinator.manifestOffer = offer
        let bare = Message.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "a", host: "node-a", threads: 1, datasetFingerprint: ""))
        XCTAssertEqual(coordinator.handle(.received(w1, bare), now: 0).filter { if case .send = $0 { true } else { false } },
                       [.send(w1, .welcome(Welcome(workerID: "a", heartbeatInterval: 1, manifest: offer)))])
        XCTAssertEqual(coordinator.summary.workers, 0, "not admitted before it has the data")
        XCTAssertTrue(assignments(coordinator.handle(.received(w1, .ready), now: 0.1)).isEmpty)
        let loaded = Message.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "a", host: "node-a", threads: 1, datasetFingerprint: "fp01",
                                         manifestHash: "m1"))
        XCTAssertTrue(coordinator.handle(.received(w1, loaded), now: 0.2).contains(.send(w1, .welcome(Welcome(workerID: "a", heartbeatInterval: 1)))))
        XCTAssertEqual(assignments(coordinator.handle(.received(w1, .ready), now: 0.3)).map(\.1), [TaskAssignment(task: tasks[0], attempt: 1)])
        // Loaded for the manifest but from other data: rejected like any mismatch.
        let other = Message.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "b", host: "node-b", threads: 1, datasetFingerprint: "fp02",
                                        manifestHash: "m1"))
        XCTAssertTrue(coordinator.handle(.received(w2, other), now: 0.4).contains {
            if case .send(w2, .reject(let reject)) = $0 { reject.reason.contains("fp02") } else { false }
        })
    }

    func testHandedBackTaskIsRequeuedAtOnceWithoutUsingAnAttemptAndTheWorkerGetsNoMore() {
        let tasks = Self.tasks(1)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 1, datasetFingerprint: "fp01")
        let lease = join(&coordinator, [(w1, "a")])[0]
        let back = Message.failure(TaskFailure(taskID: lease.taskID, attempt: lease.attempt, message: "SIGTERM", handedBack: true))
        let actions = coordinator.handle(.received(w1, back), now: 1)
        XCTAssertTrue(actions.contains(.taskHandedBack(taskID: lease.taskID, attempt: 1, message: "SIGTERM")))
        XCTAssertFalse(actions.contains(.taskAbandoned(taskID: lease.taskID)), "one allowed attempt, yet not given up")
        XCTAssertTrue(assignments(actions).isEmpty, "the stopping worker gets nothing")
        XCTAssertEqual(coordinator.summary, CoordinatorLogic.Summary(queued: 1, running: 0, done: 0, abandoned: 0, workers: 0))
        let next = join(&coordinator, [(w2, "b")], now: 1.1)
        XCTAssertEqual(next, [TaskAssignment(task: tasks[0], attempt: 2)], "no backoff for a hand-back")
    }

    func testALaterStagesTasksGoOutWithTheirInputsAndHeldWorkersWaitForThem() {
        let base = Self.tasks(1)
        var coordinator = CoordinatorLogic(tasks: base, maxAttempts: 1, datasetFingerprint: "fp01")
        coordinator.holdsWorkers = true
        let lease = join(&coordinator, [(w1, "a")])[0]
        let after = coordinator.handle(.received(w1, result(lease)), now: 1)
        XCTAssertTrue(coordinator.isFinished)
        XCTAssertFalse(after.contains { if case .send(_, .shutdown) = $0 { true } else { false } }, "held for the next stage")
        let pseudo = ClusterTask(manifestHash: "m1", stage: "pseudo", round: 1, fold: FoldTask(model: "resnet", seed: 1, fold: 0))
        let extras = TaskExtras(pseudoRows: [4, 9], pseudoLabels: [1, 0])
        coordinator.add([pseudo] + base, inputs: [pseudo.id: (extras, [])])
        XCTAssertEqual(coordinator.summary.queued, 1, "a task already listed is not added twice")
        let next = assignments(coordinator.handle(.tick, now: 1.1))
        XCTAssertEqual(next.map(\.1), [TaskAssignment(task: pseudo, attempt: 1, extras: extras)])
        coordinator.holdsWorkers = false
        let done = coordinator.handle(.received(w1, result(next[0].1)), now: 2)
        XCTAssertTrue(done.contains(.send(w1, .shutdown(Shutdown(reason: "all tasks are finished")))))
    }

    func testAnUnreachablePeerIsDroppedAtOnce() {
        let tasks = Self.tasks(2)
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 1, datasetFingerprint: "fp01")
        let leases = join(&coordinator, [(w1, "a"), (w2, "b")])
        // The assignment itself could not be delivered: back to the queue, no attempt used.
        let undelivered = coordinator.handle(.unreachable(w1, taskUndelivered: true), now: 1)
        XCTAssertTrue(undelivered.contains(.taskHandedBack(taskID: leases[0].taskID, attempt: 1,
                                                           message: "worker a on node-a disconnected before the task reached it")))
        XCTAssertFalse(undelivered.contains(.taskAbandoned(taskID: leases[0].taskID)))
        // A peer that was training when its connection went: the lease is lost (the only attempt, so given up).
        _ = coordinator.handle(.received(w2, progress(leases[1])), now: 1)
        let lost = coordinator.handle(.unreachable(w2, taskUndelivered: false), now: 1)
        XCTAssertTrue(lost.contains(.taskLost(taskID: leases[1].taskID, attempt: 1, message: "worker b on node-b disconnected; its lease is lost")))
        XCTAssertTrue(lost.contains(.taskAbandoned(taskID: leases[1].taskID)))
        XCTAssertEqual(coordinator.summary.workers, 0)
        XCTAssertEqual(coordinator.handle(.unreachable(w1, taskUndelivered: true), now: 2), [], "an unknown peer changes nothing")
    }
}
