import XCTest
import Training
@testable import Cluster

/// The worker driven by hand with a fake clock, and a whole run of one
/// coordinator and two workers exchanging encoded frames.
final class WorkerLogicTests: XCTestCase {
    let task = ClusterTask(manifestHash: "m1", stage: "base", round: 0, fold: FoldTask(model: "resnet", seed: 1, fold: 0))
    static let predictions = TaskPredictions(validationRows: [0], testRows: 1, classes: 1,
                                             sets: [SetPredictions(name: "last", oof: [1], test: [1])])

    func makeWorker(_ id: String = "a") -> WorkerLogic {
        WorkerLogic(workerID: id, host: "node-\(id)", threads: 2, datasetFingerprint: "fp01")
    }

    /// A worker that is welcomed at time 0 and then given `task` (attempt 3).
    func workingWorker() -> WorkerLogic {
        var worker = makeWorker()
        _ = worker.handle(.connected, now: 0)
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: 0)
        _ = worker.handle(.received(.task(TaskAssignment(task: task, attempt: 3))), now: 0)
        return worker
    }

    func testHandshakeTaskProgressAndResult() {
        var worker = makeWorker()
        XCTAssertEqual(worker.handle(.connected, now: 0),
                       [.send(.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "a", host: "node-a", threads: 2, datasetFingerprint: "fp01")))])
        XCTAssertEqual(worker.state, .helloSent)
        let welcome = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: 0.1)
        XCTAssertEqual(welcome.last, .send(.ready))
        let assignment = TaskAssignment(task: task, attempt: 3)
        XCTAssertEqual(worker.handle(.received(.task(assignment)), now: 0.2), [.startTask(assignment)])
        XCTAssertEqual(worker.state, .working(assignment))
        let record = EpochRecord(epoch: 1, trainLoss: 0.5, validationLoss: 0.4, validationScore: 0.9, learningRate: 0.01, seconds: 2)
        XCTAssertEqual(worker.handle(.taskProgress(record, epochs: 4), now: 0.3),
                       [.send(.progress(TaskProgress(taskID: task.id, attempt: 3, epoch: 1, epochs: 4, trainLoss: 0.5, validationLoss: 0.4,
                                                     validationScore: 0.9, learningRate: 0.01, seconds: 2)))])
        let predictions = TaskPredictions(validationRows: [5], testRows: 1, classes: 2,
                                          sets: [SetPredictions(name: "last", oof: [0.25, 0.75], test: [1, 0])])
        XCTAssertEqual(worker.handle(.taskFinished(score: 0.9, predictions: predictions), now: 0.4),
                       [.send(.result(TaskResult(taskID: task.id, attempt: 3, score: 0.9, predictions: predictions)))])
        XCTAssertEqual(worker.state, .ready)
    }

    func testHeartbeatsEveryIntervalWhileWorking() {
        var worker = workingWorker()
        var beats: [Double] = []
        for step in 1...8 {
            let now = Double(step) * 0.5
            _ = worker.handle(.received(.heartbeat), now: now)
            if worker.handle(.tick, now: now) == [.send(.heartbeat)] { beats.append(now) }
        }
        XCTAssertEqual(beats, [1, 2, 3, 4])
    }

    func testFailureIsReportedWithTheAttempt() {
        var worker = workingWorker()
        XCTAssertEqual(worker.handle(.taskFailed("loss is NaN"), now: 0.5),
                       [.send(.failure(TaskFailure(taskID: task.id, attempt: 3, message: "loss is NaN")))])
        XCTAssertEqual(worker.state, .ready)
    }

    func testReconnectBackoffDoublesToEightSecondsAndResetsOnWelcome() {
        var worker = makeWorker()
        var delays: [Double] = [], now = 0.0
        _ = worker.handle(.connected, now: now)
        while delays.count < 6 {
            now += 0.5
            for case .reconnect(let delay) in worker.handle(.tick, now: now) {
                delays.append(delay)
                now += delay
                XCTAssertEqual(worker.handle(.connected, now: now).count, 1, "hello again")
            }
        }
        XCTAssertEqual(delays, [0.5, 1, 2, 4, 8, 8])
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: now)
        XCTAssertTrue(worker.handle(.tick, now: now + 3).contains(.reconnect(after: 0.5)))
    }

    /// A welcome carrying a large checkpoint may take longer than one liveness window to
    /// arrive whole: each unanswered hello waits twice as long as the last, up to 32 windows.
    func testEachUnansweredHelloWaitsTwiceAsLongForItsWelcome() {
        var worker = makeWorker()
        var waits: [Double] = [], now = 0.0, helloAt = 0.0
        _ = worker.handle(.connected, now: now)
        while waits.count < 7 {
            now += 0.5
            for case .reconnect(let delay) in worker.handle(.tick, now: now) {
                waits.append(now - helloAt)
                now += delay
                helloAt = now
                _ = worker.handle(.connected, now: now)
            }
        }
        XCTAssertEqual(waits, [3, 6, 12, 24, 48, 96, 96])
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: now)
        XCTAssertTrue(worker.handle(.tick, now: now + 3).contains(.reconnect(after: 0.5)), "a welcome resets the patience")
        _ = worker.handle(.connected, now: now + 4)
        XCTAssertTrue(worker.handle(.tick, now: now + 7).contains { if case .reconnect = $0 { true } else { false } })
    }

    func testSilentCoordinatorWhileWorkingCancelsTheTask() {
        var worker = workingWorker()
        XCTAssertEqual(worker.handle(.tick, now: 2.9), [.send(.heartbeat)])
        let actions = worker.handle(.tick, now: 3)
        XCTAssertEqual(actions.first, .cancelTask)
        XCTAssertEqual(actions.last, .reconnect(after: 0.5))
        XCTAssertEqual(worker.state, .connecting)
        XCTAssertEqual(worker.handle(.taskFinished(score: 1, predictions: Self.predictions), now: 3.1), [.log("dropped the result of a cancelled task")])
    }

    func testRejectAndShutdownExitWithTheReason() {
        var worker = makeWorker()
        _ = worker.handle(.connected, now: 0)
        let reason = "protocol version mismatch: worker a on node-a speaks version 2, the coordinator speaks version 1"
        let actions = worker.handle(.received(.reject(Reject(reason: reason))), now: 0.1)
        XCTAssertEqual(actions, [.exit(WorkerExit(reason: "the coordinator rejected this worker: \(reason)", outcome: .refused))])
        XCTAssertEqual(worker.handle(.tick, now: 10), [], "an exited worker does nothing")

        var busy = workingWorker()
        XCTAssertEqual(busy.handle(.received(.shutdown(Shutdown(reason: "all tasks are finished"))), now: 1),
                       [.cancelTask, .exit(WorkerExit(reason: "the coordinator shut this worker down: all tasks are finished", outcome: .shutDown))])
    }

    func testCancelOnlyOfTheCurrentAttempt() {
        var worker = workingWorker()
        XCTAssertEqual(worker.handle(.received(.cancel(TaskCancel(taskID: task.id, attempt: 2))), now: 0.5).count, 1, "a log only")
        XCTAssertEqual(worker.handle(.received(.cancel(TaskCancel(taskID: task.id, attempt: 3))), now: 0.6), [.cancelTask, .send(.ready)])
        XCTAssertEqual(worker.state, .ready)
    }

    func testARefusedResultIsLoggedWithTheCoordinatorsReason() {
        var worker = workingWorker()
        _ = worker.handle(.taskFinished(score: 1, predictions: TaskPredictions(validationRows: [], testRows: 0, classes: 1, sets: [])), now: 0.5)
        let refusal = TaskCancel(taskID: task.id, attempt: 3, reason: "result refused: it claims accuracy 1.0")
        XCTAssertEqual(worker.handle(.received(.cancel(refusal)), now: 0.6),
                       [.log("the coordinator failed task \(task.id) attempt 3: result refused: it claims accuracy 1.0")])
        XCTAssertEqual(worker.state, .ready)
    }

    func testARejectOfItsDataNamesTheFirstImageThatDiffers() {
        var worker = WorkerLogic(workerID: "a", host: "node-a", threads: 2)
        _ = worker.handle(.connected, now: 0)
        let offer = ManifestOffer(hash: "m1", json: "{}", directory: "/exp")
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1, manifest: offer))), now: 0.1)
        _ = worker.handle(.manifestLoaded(hash: "m1", datasetFingerprint: "fp02", difference: "train image /d/1.jpg differs"), now: 1)
        XCTAssertEqual(worker.handle(.received(.reject(Reject(reason: "dataset fingerprint mismatch"))), now: 1.1),
                       [.exit(WorkerExit(reason: "the coordinator rejected this worker: dataset fingerprint mismatch (this machine's data: train image /d/1.jpg differs)", outcome: .refused))])
    }

    /// One coordinator, two workers, frames through encode/decode, training that
    /// takes 1.5 s per task; worker b dies (goes silent) as soon as it starts a task.
    func testWholeRunWithAWorkerThatDies() throws {
        let tasks = (0..<5).map { ClusterTask(manifestHash: "m1", stage: "base", round: 0, fold: FoldTask(model: "resnet", seed: 1, fold: $0)) }
        var coordinator = CoordinatorLogic(tasks: tasks, maxAttempts: 3, datasetFingerprint: "fp01")
        var workers = [makeWorker("a"), makeWorker("b")]
        let peers = [WorkerIdentity([0xa]), WorkerIdentity([0xb])]
        var training: [Int: Double] = [:], exits: [Int: String] = [:], done: [String] = [], bIsDead = false
        var toCoordinator: [(Int, [[UInt8]])] = [], toWorker: [(Int, [[UInt8]])] = []
        var now = 0.0
        func run(_ index: Int, _ actions: [WorkerAction]) {
            for action in actions {
                switch action {
                case .send(let message): toCoordinator.append((index, message.encode()))
                case .startTask: training[index] = now + 1.5; bIsDead = bIsDead || index == 1
                case .cancelTask: training[index] = nil
                case .exit(let exit): exits[index] = exit.reason
                default: break
                }
            }
        }
        func coordinate(_ actions: [CoordinatorAction]) {
            for action in actions {
                if case .send(let peer, let message) = action { toWorker.append((peers.firstIndex(of: peer)!, message.encode())) }
                if case .taskDone(let id, _) = action { done.append(id) }
            }
        }
        func alive(_ index: Int) -> Bool { index == 0 || !bIsDead }
        for index in workers.indices { run(index, workers[index].handle(.connected, now: now)) }
        while exits[0] == nil && now < 60 {
            while !toCoordinator.isEmpty || !toWorker.isEmpty {
                let (up, down) = (toCoordinator, toWorker)
                (toCoordinator, toWorker) = ([], [])
                for (index, frames) in up {
                    coordinate(coordinator.handle(.received(peers[index], try Message.decode(frames)), now: now))
                }
                for (index, frames) in down where alive(index) {
                    run(index, workers[index].handle(.received(try Message.decode(frames)), now: now))
                }
            }
            now += 0.25
            for (index, finish) in training where finish <= now && alive(index) {
                run(index, workers[index].handle(.taskFinished(score: 1, predictions: Self.predictions), now: now))
            }
            for index in workers.indices where alive(index) { run(index, workers[index].handle(.tick, now: now)) }
            coordinate(coordinator.handle(.tick, now: now))
        }
        XCTAssertTrue(bIsDead, "worker b took a task")
        XCTAssertEqual(done.sorted(), tasks.map(\.id).sorted(), "every task done exactly once")
        XCTAssertEqual(exits[0], "the coordinator shut this worker down: all tasks are finished")
        XCTAssertEqual(coordinator.summary.done, 5)
    }

    func testWorkerWithoutAManifestLoadsTheOfferedOneThenSaysHelloWithItsData() {
        var worker = WorkerLogic(workerID: "a", host: "node-a", threads: 2)
        XCTAssertEqual(worker.handle(.connected, now: 0),
                       [.send(.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "a", host: "node-a", threads: 2, datasetFingerprint: "")))])
        let offer = ManifestOffer(hash: "m1", json: "{}", directory: "/exp")
        let actions = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1, manifest: offer))), now: 0.1)
        XCTAssertEqual(actions.last, .loadManifest(offer))
        XCTAssertEqual(worker.state, .loading(offer))
        XCTAssertEqual(worker.handle(.tick, now: 30), [], "loading data can take long: no liveness, no heartbeats")
        XCTAssertEqual(worker.handle(.manifestLoaded(hash: "m1", datasetFingerprint: "fp01"), now: 31),
                       [.send(.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "a", host: "node-a", threads: 2, datasetFingerprint: "fp01",
                                           manifestHash: "m1")))])
        XCTAssertEqual(worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: 31.1).last, .send(.ready))
    }

    func testDataThatCannotBeLoadedEndsTheWorkerWithTheReason() {
        var worker = WorkerLogic(workerID: "a", host: "node-a", threads: 2)
        _ = worker.handle(.connected, now: 0)
        let offer = ManifestOffer(hash: "m1", json: "{}", directory: "/exp")
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1, manifest: offer))), now: 0.1)
        let reason = "cannot load the coordinator's manifest and data: train.csv is missing"
        XCTAssertEqual(worker.handle(.manifestFailed("train.csv is missing"), now: 1), [.exit(WorkerExit(reason: reason, outcome: .cannotLoad))])
        XCTAssertEqual(worker.state, .exited(WorkerExit(reason: reason, outcome: .cannotLoad)))
    }

    func testStopHandsTheTaskBackAndExits() {
        var worker = workingWorker()
        let actions = worker.handle(.stopRequested(reason: "SIGTERM"), now: 1)
        XCTAssertEqual(actions, [.send(.failure(TaskFailure(taskID: task.id, attempt: 3,
                                                            message: "worker a is stopping (SIGTERM); task handed back", handedBack: true))),
                                 .cancelTask, .exit(WorkerExit(reason: "stopping: SIGTERM", outcome: .stopped))])
        var idle = makeWorker()
        _ = idle.handle(.connected, now: 0)
        XCTAssertEqual(idle.handle(.stopRequested(reason: "SIGTERM"), now: 1), [.exit(WorkerExit(reason: "stopping: SIGTERM", outcome: .stopped))])
    }

    func testAHandshakeFailingBeforeEveryWelcomeEndsTheWorkerAfterThreeTries() {
        var worker = WorkerLogic(workerID: "a", host: "node-a", threads: 2)
        _ = worker.handle(.connected, now: 0)
        XCTAssertEqual(worker.handle(.handshakeFailed(detail: "code 32"), now: 0.1).count, 1, "a log line, no exit")
        _ = worker.handle(.handshakeFailed(detail: "code 32"), now: 0.2)
        let actions = worker.handle(.handshakeFailed(detail: "the security handshake failed"), now: 0.3)
        guard case .exit(let exit)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertEqual(exit.outcome, .handshakeFailed)
        XCTAssertTrue(exit.needsFix)
        XCTAssertTrue(exit.reason.contains("--server-key") && exit.reason.contains("3 times"), exit.reason)
    }

    func testAWelcomeStartsTheCountAgain() {
        var worker = WorkerLogic(workerID: "a", host: "node-a", threads: 2)
        _ = worker.handle(.connected, now: 0)
        _ = worker.handle(.handshakeFailed(detail: "x"), now: 0.1)
        _ = worker.handle(.handshakeFailed(detail: "x"), now: 0.2)
        _ = worker.handle(.received(.welcome(Welcome(workerID: "a", heartbeatInterval: 1))), now: 0.3)
        // The coordinator goes silent: the worker reconnects and says hello again.
        XCTAssertTrue(worker.handle(.tick, now: 10).contains(.reconnect(after: WireProtocol.reconnectInitialDelay)))
        _ = worker.handle(.connected, now: 11)
        XCTAssertEqual(worker.state, .helloSent)
        _ = worker.handle(.handshakeFailed(detail: "x"), now: 11.1)
        _ = worker.handle(.handshakeFailed(detail: "x"), now: 11.2)
        XCTAssertEqual(worker.state, .helloSent, "two failures since the welcome, not four")
    }

    func testHandshakeFailuresWhileWorkingDoNotCount() {
        var worker = workingWorker()
        for step in 0..<5 { XCTAssertTrue(worker.handle(.handshakeFailed(detail: "x"), now: 1 + Double(step) / 10).isEmpty) }
        if case .working = worker.state {} else { XCTFail("\(worker.state)") }
    }
}
