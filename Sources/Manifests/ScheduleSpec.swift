import Foundation

/// The learning-rate schedule. Each field is used only by the schedules its comment names;
/// `warmupEpochs` puts a linear warm-up in front of any of them.
public struct ScheduleSpec: Sendable, Equatable, Codable {
    public var name: ScheduleName
    /// step: multiply by `gamma` every this many epochs.
    public var stepEpochs: Int?
    /// multistep: multiply by `gamma` at these epochs (strictly increasing).
    public var milestones: [Int]?
    /// step, multistep.
    public var gamma: Float
    /// plateau: epochs without improvement before the rate is multiplied by `factor`.
    public var patience: Int
    public var factor: Float
    /// plateau, cosine: the lowest rate.
    public var minLR: Float
    /// cosine: epochs per restart cycle (filled with the model's epochs when not given).
    public var cycleEpochs: Int?
    /// cosine: each cycle is this many times longer than the one before.
    public var cycleMultiplier: Int
    public var warmupEpochs: Float
    /// onecycle: fraction of the run spent rising, start rate = lr / divFactor, end = start / finalDivFactor.
    public var pctStart: Float
    public var divFactor: Float
    public var finalDivFactor: Float

    /// Raw values chosen so `canonicalJSON`'s snake_case strategy writes `min_lr`, not `min_l_r`.
    private enum CodingKeys: String, CodingKey {
        case name, stepEpochs, milestones, gamma, patience, factor, minLR = "minLr", cycleEpochs, cycleMultiplier
        case warmupEpochs, pctStart, divFactor, finalDivFactor
    }

    public init(name: ScheduleName = .constant, stepEpochs: Int? = nil, milestones: [Int]? = nil, gamma: Float = 0.1,
                patience: Int = 2, factor: Float = 0.1, minLR: Float = 0, cycleEpochs: Int? = nil,
                cycleMultiplier: Int = 1, warmupEpochs: Float = 0, pctStart: Float = 0.3, divFactor: Float = 25,
                finalDivFactor: Float = 1e4) {
        self.name = name
        self.stepEpochs = stepEpochs
        self.milestones = milestones
        self.gamma = gamma
        self.patience = patience
        self.factor = factor
        self.minLR = minLR
        self.cycleEpochs = cycleEpochs
        self.cycleMultiplier = cycleMultiplier
        self.warmupEpochs = warmupEpochs
        self.pctStart = pctStart
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
    }
}

public enum ScheduleName: String, Sendable, Equatable, Codable, CaseIterable {
    case constant, step, multistep, plateau, cosine, onecycle
}

extension ScheduleSpec {
    static let variantKeys: [(key: String, users: [String])] = [
        ("step_epochs", ["step"]), ("milestones", ["multistep"]), ("gamma", ["step", "multistep"]),
        ("patience", ["plateau"]), ("factor", ["plateau"]), ("min_lr", ["plateau", "cosine"]),
        ("cycle_epochs", ["cosine"]), ("cycle_multiplier", ["cosine"]),
        ("pct_start", ["onecycle"]), ("div_factor", ["onecycle"]), ("final_div_factor", ["onecycle"]),
    ]

    /// `epochs` is the model's run length: milestones and warm-up must fit inside it.
    static func read(_ value: ValueNode?, epochs: Int) throws -> ScheduleSpec {
        guard let value else { return ScheduleSpec() }
        let section = try NamedSection(value, allowed: ScheduleName.allCases.map(\.rawValue), what: "schedule")
        var schedule = ScheduleSpec(name: ScheduleName(rawValue: section.name)!)
        if let map = section.map {
            try map.checkKeys(common: ["name", "warmup_epochs"], variantKeys: variantKeys, name: section.name,
                              kind: "schedule", section: "`schedule`")
            try readDecay(map, into: &schedule, epochs: epochs)
            try readPlateauAndCosine(map, into: &schedule)
            try readOneCycle(map, into: &schedule)
            if let node = map.optional("warmup_epochs") {
                schedule.warmupEpochs = try node.float()
                try node.require(schedule.warmupEpochs >= 0 && schedule.warmupEpochs < Float(epochs),
                                 "`warmup_epochs` must be in 0..<epochs (\(epochs)), found \(schedule.warmupEpochs)",
                                 fix: "warm up for a fraction of the run, e.g. warmup_epochs: 1")
            }
        }
        try requireNeededKeys(schedule, value: value)
        if schedule.name == .cosine, schedule.cycleEpochs == nil { schedule.cycleEpochs = epochs }
        return schedule
    }

    private static func readDecay(_ map: MappingReader, into schedule: inout ScheduleSpec, epochs: Int) throws {
        schedule.stepEpochs = try positiveInt(map, "step_epochs")
        schedule.gamma = try unitInterval(map, "gamma", example: "0.1") ?? schedule.gamma
        guard let node = map.optional("milestones") else { return }
        let milestones = try node.list().map { item in
            let epoch = try item.int()
            try item.require((1..<epochs).contains(epoch), "a milestone must be in 1..<epochs (\(epochs)), found \(epoch)",
                             fix: "list epochs inside the run at which the rate drops")
            return epoch
        }
        try node.require(!milestones.isEmpty, "`milestones` is an empty list", fix: "write e.g. milestones: [6, 9]")
        try node.require(zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 },
                         "`milestones` must be strictly increasing, found \(milestones)", fix: "sort them and drop repeats")
        schedule.milestones = milestones
    }

    private static func readPlateauAndCosine(_ map: MappingReader, into schedule: inout ScheduleSpec) throws {
        if let node = map.optional("patience") {
            schedule.patience = try node.int()
            try node.require(schedule.patience >= 0, "`patience` must be >= 0, found \(schedule.patience)",
                             fix: "write e.g. patience: 2")
        }
        if let node = map.optional("factor") {
            schedule.factor = try node.float()
            try node.require(schedule.factor > 0 && schedule.factor < 1, "`factor` must be in 0<..<1, found \(schedule.factor)",
                             fix: "write e.g. factor: 0.1")
        }
        if let node = map.optional("min_lr") {
            schedule.minLR = try node.float()
            try node.require(schedule.minLR >= 0, "`min_lr` must be >= 0, found \(schedule.minLR)", fix: "write e.g. min_lr: 1e-6")
        }
        schedule.cycleEpochs = try positiveInt(map, "cycle_epochs")
        schedule.cycleMultiplier = try positiveInt(map, "cycle_multiplier") ?? schedule.cycleMultiplier
    }

    private static func readOneCycle(_ map: MappingReader, into schedule: inout ScheduleSpec) throws {
        if let node = map.optional("pct_start") {
            schedule.pctStart = try node.float()
            try node.require(schedule.pctStart > 0 && schedule.pctStart < 1,
                             "`pct_start` must be in 0<..<1, found \(schedule.pctStart)", fix: "write e.g. pct_start: 0.3")
        }
        for key in ["div_factor", "final_div_factor"] {
            guard let node = map.optional(key) else { continue }
            let divisor = try node.float()
            try node.require(divisor >= 1, "`\(key)` must be >= 1, found \(divisor)",
                             fix: "write e.g. \(key): \(key == "div_factor" ? "25" : "1e4")")
            if key == "div_factor" { schedule.divFactor = divisor } else { schedule.finalDivFactor = divisor }
        }
    }

    private static func requireNeededKeys(_ schedule: ScheduleSpec, value: ValueNode) throws {
        let needed: (key: String, example: String)?
        switch schedule.name {
        case .step where schedule.stepEpochs == nil: needed = ("step_epochs", "{name: step, step_epochs: 4}")
        case .multistep where schedule.milestones == nil: needed = ("milestones", "{name: multistep, milestones: [6, 9]}")
        default: needed = nil
        }
        guard let needed else { return }
        let keyPath = value.isMapping ? "\(value.path).\(needed.key)" : value.path
        throw ManifestError(file: value.file, line: value.line, keyPath: keyPath,
                            message: "the `\(schedule.name.rawValue)` schedule needs `\(needed.key)`",
                            fix: "write schedule: \(needed.example)")
    }

    private static func positiveInt(_ map: MappingReader, _ key: String) throws -> Int? {
        guard let node = map.optional(key) else { return nil }
        let number = try node.int()
        try node.require(number >= 1, "`\(key)` must be >= 1, found \(number)", fix: "write a positive whole number")
        return number
    }

    private static func unitInterval(_ map: MappingReader, _ key: String, example: String) throws -> Float? {
        guard let node = map.optional(key) else { return nil }
        let number = try node.float()
        try node.require(number > 0 && number <= 1, "`\(key)` must be in 0<..1, found \(number)",
                         fix: "write e.g. \(key): \(example)")
        return number
    }
}
