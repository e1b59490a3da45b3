import Foundation

/// Snapshot ensembles (Huang et al., 2017): cosine annealing with `cycles`
/// equal warm restarts; the model at the end of each cycle predicts OOF and
/// test (sets `snapshot-1` … `snapshot-M`), and the set `snapshots` averages the last `keep`.
public struct SnapshotSpec: Sendable, Equatable, Codable {
    public var cycles: Int
    public var keep: Int
    public init(cycles: Int, keep: Int) { (self.cycles, self.keep) = (cycles, keep) }
}

/// Stochastic weight averaging: from `startEpoch` (1-based) on the learning
/// rate is held at `lr` and the weights after each epoch join a running mean;
/// the averaged model, with batch-norm statistics recomputed over the training
/// rows, predicts the set `swa`.
public struct SWASpec: Sendable, Equatable, Codable {
    public var startEpoch: Int
    public var lr: Float
    public init(startEpoch: Int, lr: Float) { (self.startEpoch, self.lr) = (startEpoch, lr) }
}

extension SnapshotSpec {
    static func read(_ value: ValueNode, epochs: Int, schedule: inout ScheduleSpec) throws -> SnapshotSpec {
        let map = try value.mapping()
        try map.checkKeys(["cycles", "keep"], section: "`snapshots`")
        let cyclesNode = try map.required("cycles", example: "snapshots: {cycles: 4, keep: 3}")
        let cycles = try cyclesNode.int()
        try cyclesNode.require((2...epochs).contains(cycles), "`cycles` must be 2...\(epochs) (the model's epochs), found \(cycles)",
                               fix: "write e.g. cycles: 4 with epochs a multiple of it")
        try cyclesNode.require(epochs % cycles == 0, "`cycles` \(cycles) does not divide the model's \(epochs) epochs",
                               fix: "make epochs a multiple of cycles, e.g. epochs: \(epochs / cycles * cycles + cycles)")
        let keepNode = map.optional("keep")
        let keep = try keepNode?.int() ?? cycles
        try (keepNode ?? cyclesNode).require((1...cycles).contains(keep), "`keep` must be 1...\(cycles) (the cycles), found \(keep)",
                                             fix: "keep the last few snapshots, e.g. keep: \(max(1, cycles - 1))")
        try value.require(schedule.name == .cosine && schedule.cycleMultiplier == 1,
                          "snapshots need cosine annealing with equal cycles, but the schedule is \(schedule.name.rawValue)",
                          fix: "write schedule: {name: cosine} (its cycles are set from snapshots.cycles)")
        let cycleEpochs = epochs / cycles
        try value.require(schedule.cycleEpochs == epochs || schedule.cycleEpochs == cycleEpochs,
                          "the schedule's cycle_epochs \(schedule.cycleEpochs ?? 0) disagrees with \(cycles) snapshot cycles over \(epochs) epochs",
                          fix: "remove cycle_epochs from the schedule, or set it to \(cycleEpochs)")
        schedule.cycleEpochs = cycleEpochs
        return SnapshotSpec(cycles: cycles, keep: keep)
    }
}

extension SWASpec {
    /// `snapshots` (already read) and `model` (its name) are for the overlap check.
    static func read(_ value: ValueNode, epochs: Int, schedule: ScheduleSpec, snapshots: SnapshotSpec?,
                     model: String) throws -> SWASpec {
        let map = try value.mapping()
        try map.checkKeys(["start_epoch", "lr"], section: "`swa`")
        let startNode = try map.required("start_epoch", example: "swa: {start_epoch: 6, lr: 1e-4}")
        let start = try startNode.int()
        try startNode.require((1...epochs).contains(start), "`start_epoch` must be 1...\(epochs) (the model's epochs), found \(start)",
                              fix: "average the last few epochs, e.g. start_epoch: \(max(1, epochs * 3 / 4))")
        let lrNode = try map.required("lr", example: "swa: {start_epoch: 6, lr: 1e-4}")
        let lr = try lrNode.float()
        try lrNode.require(lr > 0 && lr < 10, "`lr` must be in 0<..<10, found \(lr)", fix: "write e.g. lr: 1e-4")
        try value.require(schedule.name != .plateau, "swa holds the learning rate constant, which a plateau schedule cannot",
                          fix: "use another schedule (e.g. cosine) with swa")
        if let snapshots { try requireLastCycle(startNode, start: start, lr: lr, snapshots: snapshots, epochs: epochs, model: model) }
        return SWASpec(startEpoch: start, lr: lr)
    }

    /// SWA holds the learning rate from its start to the end of the run, so a
    /// start before the last snapshot cycle would turn the later cycles'
    /// snapshots into constant-lr models instead of the ends of cosine cycles.
    /// SWA may share only the last cycle (whose snapshot is then taken at SWA's lr).
    private static func requireLastCycle(_ node: ValueNode, start: Int, lr: Float, snapshots: SnapshotSpec, epochs: Int,
                                         model: String) throws {
        let cycleEpochs = epochs / snapshots.cycles
        let lastCycleStart = epochs - cycleEpochs + 1
        guard start < lastCycleStart else { return }
        let firstHeld = (start - 1) / cycleEpochs + 1
        throw node.error(
            "model `\(model)`: `swa.start_epoch` \(start) falls before the last of its \(snapshots.cycles) snapshot cycles "
                + "(`snapshots.cycles` \(snapshots.cycles) over \(epochs) epochs: the last cycle is epochs \(lastCycleStart)…\(epochs)); "
                + "SWA holds the learning rate at \(lr) from epoch \(start) on, so snapshot-\(firstHeld) … snapshot-\(snapshots.cycles) "
                + "would be constant-lr models, not the ends of cosine cycles",
            fix: "start SWA in the last cycle (start_epoch: \(lastCycleStart) or later), or use fewer snapshot cycles, "
                + "or keep only one of `snapshots` and `swa` in this model")
    }
}

extension ModelSpec {
    /// The prediction sets each of this model's tasks reports, in order:
    /// `last`, `snapshot-1` … `snapshot-M` and `snapshots`, `swa`, `best`, `ema` (the mean teacher).
    public var predictionSets: [String] {
        var names = ["last"]
        if let snapshots { names += (1...snapshots.cycles).map { "snapshot-\($0)" } + ["snapshots"] }
        if swa != nil { names.append("swa") }
        if keepBest == true { names.append("best") }
        if meanTeacher != nil { names.append("ema") }
        return names
    }
}
