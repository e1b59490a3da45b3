import Foundation
import Storage

/// What a stage decided besides its predictions. Each is a Codable value in
/// the pipeline and becomes JSON text only at the database (`StageOutputRecord`).
public protocol StageOutput: Codable, Sendable, Equatable {}

/// The test rows a pseudo-label round adds to one (seed, fold) block, chosen
/// from predictions no model trained on that block's validation rows made.
public struct PseudoLabelBlock: Codable, Sendable, Equatable {
    public var seed: Int
    public var fold: Int
    /// The subject the block's labels came from: the best by OOF score on the
    /// rows outside the block's fold, so the fold's labels do not choose it.
    public var source: String
    public var rows: [Int]
    public var labels: [Int]
}

/// A pseudo-label round's selection: each block's source and rows.
public struct PseudoLabelSelection: StageOutput {
    public var threshold: Float
    public var blocks: [PseudoLabelBlock]

    public func block(seed: Int, fold: Int) -> PseudoLabelBlock? {
        blocks.first { $0.seed == seed && $0.fold == fold }
    }
}

/// The result each (seed, fold) block of a distilled student learns from,
/// chosen once per distillation setting: the named teacher, or with `best`
/// the best by OOF score on the rows outside the block's fold.
public struct TeacherChoice: StageOutput {
    public struct Entry: Codable, Sendable, Equatable {
        public var seed: Int
        public var fold: Int
        public var teacher: String
    }
    public var blocks: [Entry]

    public func teacher(of block: Block) -> String? {
        blocks.first { $0.seed == block.seed && $0.fold == block.fold }?.teacher
    }
}

/// The weight a blend gives each input set (the mean over its fold fits when fitted).
public struct BlendWeightsOutput: StageOutput {
    public var weights: [String: Double]
}

/// The base sets a level-2 result was fitted on, each named with its stage's
/// storage key (`pseudo-<key>:net+pl1/last`), so a result fitted on other sets or
/// settings (a run stopped before level 2 ran again) is never read as current.
public struct Level2InputsOutput: StageOutput {
    public var sets: [String]
}

/// The result the submission was written from.
public struct SubmissionChoice: StageOutput {
    public var set: String
    public var path: String
    public var score: Double?
    public var probabilities: Bool
}

/// Where each kind of output lives: its stage column and name.
public struct StageOutputAddress: Hashable, Sendable {
    public var stage: String
    public var name: String

    public static let level2Stage = "level2"
    public static let submission = StageOutputAddress(stage: "submission", name: "choice")
    public static func pseudoLabels(_ stage: KeyedStage) -> StageOutputAddress {
        StageOutputAddress(stage: stage.storageName, name: "round-\(stage.stage.round)")
    }
    public static func teacher(_ stage: KeyedStage) -> StageOutputAddress { StageOutputAddress(stage: stage.storageName, name: "teacher") }
    public static func weights(_ subject: Subject) -> StageOutputAddress { StageOutputAddress(stage: level2Stage, name: subject.name) }
    public static func level2Inputs(_ subject: Subject) -> StageOutputAddress {
        StageOutputAddress(stage: "level2-inputs", name: subject.name)
    }
}

extension ExperimentDatabase {
    /// The output stored at `address`, or nil; stored JSON that does not decode as `T` is an error naming the address.
    public func output<T: StageOutput>(_ type: T.Type, at address: StageOutputAddress, experimentID: Int64) throws -> T? {
        guard let record = try stageOutputs(experimentID: experimentID, stage: address.stage).first(where: { $0.name == address.name })
        else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(record.json.utf8))
        } catch {
            throw PipelineError(message: "the stored \(address.stage)/\(address.name) output does not read as \(T.self): \(error)",
                                fix: "delete the experiment directory's experiment.sqlite stage outputs for it, or start a new --dir")
        }
    }

    /// Stores (replacing) an output at `address`.
    public func record<T: StageOutput>(_ output: T, at address: StageOutputAddress, experimentID: Int64) throws {
        try recordStageOutput(try Self.outputRecord(output, at: address, experimentID: experimentID))
    }

    /// The database row of an output (sorted keys, so equal decisions are equal text).
    public static func outputRecord<T: StageOutput>(_ output: T, at address: StageOutputAddress,
                                                    experimentID: Int64) throws -> StageOutputRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(output), as: UTF8.self)
        return StageOutputRecord(experimentID: experimentID, stage: address.stage, name: address.name, json: json)
    }
}

/// A mistake in what the user asked of the pipeline, with the fix (exit code 2).
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var fix: String
    public init(message: String, fix: String) { (self.message, self.fix) = (message, fix) }
    public var description: String { "\(message) — \(fix)" }
}
