import ArgumentParser
import Datasets
import Engine
import Ensemble
import Foundation

struct StackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stack",
        abstract: "Stack or blend OOF predictions made anywhere (.npy files) and report the nested OOF score.",
        discussion: """
            Every --oof file is one prediction set's [rows, classes] OOF probabilities; the --test file in the \
            same position holds its [test rows, classes] test probabilities (averaged over its fold models). \
            Every method that learns from the labels (stackers logistic, mlp, xgboost; blends weights, hillclimb) \
            is fit on the rows of all folds but one and predicts that one, for each of the folds given in --folds, \
            so its OOF score is nested CV; a fitted blend also reports its in-sample score (fit and scored on every \
            row, optimistic, for display only). The mean and rank blends learn nothing, so their plain OOF score \
            is honest. Writes DIR/stack_oof.npy, DIR/stack_test.npy and DIR/stack.json.
            """)

    @Option(parsing: .upToNextOption, help: "OOF probabilities, one .npy per prediction set: [rows, classes].")
    var oof: [String]

    @Option(parsing: .upToNextOption, help: "Test probabilities, one .npy per --oof file, in the same order.")
    var test: [String]

    @Option(help: "Train labels (.npy of integers 0..<classes, one per row).")
    var labels: String

    @Option(help: "Fold of every train row (.npy of integers 0..<k), the folds the OOF predictions were made with.")
    var folds: String

    @Option(help: "The stacker (logistic, mlp, xgboost) or blend (mean, rank, weights, hillclimb).")
    var learner = Level2Method.logistic.rawValue

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "One of: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")).")
    var metric = "accuracy"

    @Option(help: "Seed of the mlp and xgboost learners.")
    var seed = 0

    @Flag(help: "End stdout with one JSON object: scores and paths.")
    var json = false

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        guard let metric = Metric(rawValue: metric) else {
            throw UserInputError(message: "--metric \(self.metric) is not a metric Foldwise knows",
                                 fix: "use one of \(Metric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let method = Level2Method(rawValue: learner) else {
            throw UserInputError(message: "--learner \(learner) is not a blend or stacker Foldwise knows",
                                 fix: "use one of \(Level2Method.namesList)")
        }
        guard seed >= 0 else {
            throw UserInputError(message: "--seed \(seed) is negative", fix: "give a seed of 0 or more")
        }
        _ = threadOptions.apply()
        let inputs = try StackFiles(oof: oof, test: test, labels: labels, folds: folds).load()
        guard let result = try Level2.run(inputs, metric: metric, methods: [method], seed: UInt64(seed)).first else {
            preconditionFailure("Level2.run returned no result for one method")
        }
        let baseScores = inputs.baseScores(metric)
        let report = try StackReport.write(result, inputs: inputs, baseScores: baseScores, to: URL(fileURLWithPath: out))
        let bases = zip(inputs.sets, baseScores).map { String(format: "%@ %.4f", $0.name, $1) }.joined(separator: ", ")
        let scoring = method.isFitted ? "nested" : "plain"
        let inSample = result.inSampleScore.map { String(format: "; in-sample %.4f, optimistic", $0) } ?? ""
        print(String(format: "stack %@: OOF %@ %.4f (%@%@; base sets: %@)", learner, metric.rawValue, result.score,
                     scoring, inSample, bases))
        if json { print(try report.jsonString()) }
    }
}

/// The command's .npy inputs, read and checked against each other; every
/// mismatch names the file and what would fit.
struct StackFiles {
    var oof: [String]
    var test: [String]
    var labels: String
    var folds: String

    func load() throws -> StackingInputs {
        guard test.count == oof.count else {
            throw UserInputError(message: "\(oof.count) --oof file\(oof.count == 1 ? "" : "s") but \(test.count) --test file\(test.count == 1 ? "" : "s")",
                                 fix: "give one --test file per --oof file, in the same order")
        }
        let oofMatrices = try oof.map { try matrix($0, role: "OOF predictions") }
        let (rows, classes) = (oofMatrices[0].rows, oofMatrices[0].columns)
        for (path, matrix) in zip(oof, oofMatrices) where (matrix.rows, matrix.columns) != (rows, classes) {
            throw UserInputError(message: "\(path) has shape [\(matrix.rows), \(matrix.columns)] but \(oof[0]) has [\(rows), \(classes)]",
                                 fix: "every --oof file must predict the same rows and classes, in the same order")
        }
        let testMatrices = try test.map { try matrix($0, role: "test predictions") }
        for (path, matrix) in zip(test, testMatrices) where (matrix.rows, matrix.columns) != (testMatrices[0].rows, classes) {
            throw UserInputError(message: "\(path) has shape [\(matrix.rows), \(matrix.columns)]; the test files need [\(testMatrices[0].rows), \(classes)] (\(classes) classes as in \(oof[0]))",
                                 fix: "give every set's test probabilities for the same test rows and classes")
        }
        let labelValues = try integers(labels, role: "labels", rows: rows, oofFile: oof[0])
        if let row = labelValues.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw UserInputError(message: "\(labels): row \(row) has label \(labelValues[row]), outside 0..<\(classes) (the classes of \(oof[0]))",
                                 fix: "encode labels as 0..<\(classes), in the column order of the OOF files")
        }
        let foldValues = try integers(folds, role: "fold numbers", rows: rows, oofFile: oof[0])
        let sets = zip(names(), zip(oofMatrices, testMatrices)).map { StackingInputs.BaseSet(name: $0, oof: $1.0.values, test: $1.1.values) }
        do {
            return try StackingInputs(sets: sets, labels: labelValues, folds: foldValues, classes: classes)
        } catch {
            throw UserInputError(message: "\(folds): \(error.description)", fix: "number the folds 0..<k (k >= 2), as the OOF predictions were made")
        }
    }

    /// Each set's name: its OOF file's name without extension, made unique with its position if needed.
    func names() -> [String] {
        let stems = oof.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        return stems.enumerated().map { index, stem in stems.filter { $0 == stem }.count > 1 ? "\(stem)#\(index + 1)" : stem }
    }

    private func matrix(_ path: String, role: String) throws -> (rows: Int, columns: Int, values: [Float]) {
        let array = try NPY.read(URL(fileURLWithPath: path))
        guard array.shape.count == 2, array.shape[1] >= 2 else {
            throw UserInputError(message: "\(path) holds an array of shape \(array.shape); \(role) must be [rows, classes] with at least 2 classes",
                                 fix: "save the class probabilities, e.g. numpy.save(path, model.predict_proba(X))")
        }
        if let index = array.floats.firstIndex(where: { !$0.isFinite }) {
            throw UserInputError(message: "\(path): row \(index / array.shape[1]) holds a value that is not finite",
                                 fix: "save finite class probabilities")
        }
        return (array.shape[0], array.shape[1], array.floats)
    }

    private func integers(_ path: String, role: String, rows: Int, oofFile: String) throws -> [Int] {
        let array = try NPY.read(URL(fileURLWithPath: path))
        guard let values = array.integers else {
            throw UserInputError(message: "\(path) holds \(array.descr) values; the \(role) must be integers",
                                 fix: "save array.astype(numpy.int64)")
        }
        guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1), values.count == rows else {
            throw UserInputError(message: "\(path) has shape \(array.shape); \(oofFile) has \(rows) rows, so the \(role) need shape [\(rows)]",
                                 fix: "save one value per train row, in the OOF files' row order")
        }
        return values
    }
}

/// DIR/stack.json and the `--json` line: the learner, its OOF score (nested
/// for a fitted method), a fitted blend's in-sample score, each base set's
/// score, and the files written.
struct StackReport: Encodable {
    var learner: String
    var metric: String
    var oofScore: Double
    /// Whether `oofScore` is nested (each fold predicted by a fit on the others).
    var nested: Bool
    /// A fitted blend's score on the rows it was fitted on; display only.
    var inSampleScore: Double?
    var baseScores: [String: Double]
    var weights: [String: Double]?
    var paths: [String: String]

    static func write(_ result: EnsembleResult, inputs: StackingInputs, baseScores: [Double],
                      to directory: URL) throws -> StackReport {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw UserInputError(message: "cannot create the output folder \(directory.path) (\(error.localizedDescription))",
                                 fix: "choose a writable --out folder")
        }
        let K = inputs.classes
        let paths = ["oof": "stack_oof.npy", "test": "stack_test.npy", "json": "stack.json"]
            .mapValues { directory.appendingPathComponent($0).path }
        try NPY.write(Tensor(shape: [inputs.rows, K], scalars: result.oof), to: URL(fileURLWithPath: paths["oof"]!))
        try NPY.write(Tensor(shape: [inputs.testRows, K], scalars: result.test), to: URL(fileURLWithPath: paths["test"]!))
        let names = inputs.sets.map(\.name)
        let report = StackReport(learner: result.method.rawValue, metric: result.metric.rawValue, oofScore: result.score,
                                 nested: result.method.isFitted, inSampleScore: result.inSampleScore,
                                 baseScores: Dictionary(uniqueKeysWithValues: zip(names, baseScores)),
                                 weights: result.weights.map { Dictionary(uniqueKeysWithValues: zip(names, $0)) },
                                 paths: paths)
        do {
            try Data((report.jsonString() + "\n").utf8).write(to: URL(fileURLWithPath: paths["json"]!), options: .atomic)
        } catch {
            throw UserInputError(message: "cannot write \(paths["json"]!) (\(error.localizedDescription))", fix: "choose a writable --out folder")
        }
        return report
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        // A degenerate metric (AUC with one class present) is NaN, which plain JSON cannot hold.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
