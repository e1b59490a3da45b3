import Datasets
import Engine
import Foundation

/// What a pseudo-label or distillation round adds to a fold task: test rows
/// that join every fold's training data with their pseudo labels, and the
/// teacher's probabilities a student learns from.
public struct TaskInputs: Sendable, Equatable, Codable {
    /// Indices into the test set, each at most once.
    public var pseudoRows: [Int]
    /// The class given to each pseudo row, in `pseudoRows` order.
    public var pseudoLabels: [Int]
    public var distillation: Distillation?

    public struct Distillation: Sendable, Equatable, Codable {
        /// [train rows, K]: the teacher's OOF probabilities of every train row,
        /// each predicted by a teacher model that never trained on that row.
        public var teacherTrain: [Float]
        /// [test rows, K]: the teacher's test probabilities (used for pseudo rows).
        public var teacherTest: [Float]
        public var temperature: Float
        public var alpha: Float

        public init(teacherTrain: [Float], teacherTest: [Float], temperature: Float, alpha: Float) {
            (self.teacherTrain, self.teacherTest, self.temperature, self.alpha) = (teacherTrain, teacherTest, temperature, alpha)
        }
    }

    /// Everything but the teacher arrays, small enough for a message's JSON header.
    public struct Header: Sendable, Equatable, Codable {
        public var pseudoRows: [Int]
        public var pseudoLabels: [Int]
        /// Present exactly when the task distils.
        public var temperature: Float?
        public var alpha: Float?

        public init(pseudoRows: [Int], pseudoLabels: [Int], temperature: Float? = nil, alpha: Float? = nil) {
            (self.pseudoRows, self.pseudoLabels, self.temperature, self.alpha) = (pseudoRows, pseudoLabels, temperature, alpha)
        }
    }

    /// A plain fold task: no pseudo rows, no teacher.
    public static let none = TaskInputs(pseudoRows: [], pseudoLabels: [])

    public init(pseudoRows: [Int], pseudoLabels: [Int], distillation: Distillation? = nil) {
        (self.pseudoRows, self.pseudoLabels, self.distillation) = (pseudoRows, pseudoLabels, distillation)
    }

    /// Reassembles inputs sent as a header plus the teacher arrays; a header
    /// with a temperature and alpha needs both arrays.
    public init(header: Header, teacherTrain: [Float]?, teacherTest: [Float]?) throws(TaskInputsError) {
        self.init(pseudoRows: header.pseudoRows, pseudoLabels: header.pseudoLabels)
        switch (header.temperature, header.alpha, teacherTrain, teacherTest) {
        case (nil, nil, nil, nil): break
        case let (temperature?, alpha?, train?, test?):
            distillation = Distillation(teacherTrain: train, teacherTest: test, temperature: temperature, alpha: alpha)
        default:
            throw TaskInputsError("distillation needs a temperature, an alpha and both teacher arrays; got temperature \(header.temperature.map { "\($0)" } ?? "none"), alpha \(header.alpha.map { "\($0)" } ?? "none"), teacher train \(teacherTrain == nil ? "absent" : "present"), teacher test \(teacherTest == nil ? "absent" : "present")")
        }
    }

    public var header: Header {
        Header(pseudoRows: pseudoRows, pseudoLabels: pseudoLabels, temperature: distillation?.temperature, alpha: distillation?.alpha)
    }

    /// Checks the inputs against the data they will be used with.
    public func validate(trainRows: Int, testRows: Int, classes: Int) throws(TaskInputsError) {
        guard pseudoRows.count == pseudoLabels.count else {
            throw TaskInputsError("\(pseudoRows.count) pseudo rows but \(pseudoLabels.count) pseudo labels; give one label per row")
        }
        if let bad = pseudoRows.first(where: { !(0..<testRows).contains($0) }) {
            throw TaskInputsError("pseudo row \(bad) is outside the \(testRows) test rows")
        }
        guard Set(pseudoRows).count == pseudoRows.count else {
            throw TaskInputsError("a pseudo row is listed twice; each test row joins the training data at most once")
        }
        if let bad = pseudoLabels.first(where: { !(0..<classes).contains($0) }) {
            throw TaskInputsError("pseudo label \(bad) is outside 0..<\(classes)")
        }
        guard let distillation else { return }
        guard distillation.temperature > 0, distillation.temperature.isFinite else {
            throw TaskInputsError("distillation temperature \(distillation.temperature) must be positive")
        }
        guard (0...1).contains(distillation.alpha) else {
            throw TaskInputsError("distillation alpha \(distillation.alpha) must be in [0, 1]")
        }
        try Self.checkProbabilities(distillation.teacherTrain, name: "teacher train", rows: trainRows, classes: classes)
        try Self.checkProbabilities(distillation.teacherTest, name: "teacher test", rows: testRows, classes: classes)
    }

    private static func checkProbabilities(_ values: [Float], name: String, rows: Int, classes: Int) throws(TaskInputsError) {
        guard values.count == rows * classes else {
            throw TaskInputsError("the \(name) probabilities have \(values.count) values; \(rows) rows × \(classes) classes need \(rows * classes)")
        }
        for row in 0..<rows {
            let slice = values[(row * classes)..<((row + 1) * classes)]
            let sum = slice.reduce(0, +)
            guard slice.allSatisfy({ $0 >= 0 && $0.isFinite }), abs(sum - 1) < 1e-3 else {
                throw TaskInputsError("\(name) row \(row) is not a probability row (sum \(sum)); send the teacher's softmax outputs")
            }
        }
    }

    /// The loss a task trains with: distillation when there is a teacher, else the model's own.
    func loss(default base: any Loss) -> any Loss {
        distillation.map { DistillationLoss(temperature: $0.temperature, alpha: $0.alpha) } ?? base
    }
}

/// Task inputs that do not fit the data or each other.
public struct TaskInputsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = "task inputs: " + description }
}

/// The examples one fold task trains on and the rows it validates on. Pseudo
/// rows are test images appended after the train images, so one loader draws
/// both; they are training rows only and never validation rows.
public struct TrainingSet: Sendable {
    /// The train images, then the pseudo rows' test images in `pseudoRows` order
    /// (the train images themselves, uncopied, when there are no pseudo rows).
    public let images: ImageSet
    /// Indices into `images`: the train rows outside the fold, then every pseudo row once.
    public let rows: [Int]
    /// The label of each entry of `rows`: the train label or the pseudo label.
    public let labels: [Int]
    /// The fold's train rows, in order.
    public let validationRows: [Int]
    /// Train rows outside the fold held back from training to choose an epoch
    /// (`keep_best`) and step a plateau schedule, so that no choice made while
    /// training sees the fold's labels; empty unless asked for. See `selection(from:labels:)`.
    public let selectionRows: [Int]
    /// [images.count, K] when distilling: the teacher's OOF row for each train
    /// image, its test row for each pseudo image.
    public let softTargets: Tensor?

    /// `folds[r]` is train row r's fold; `fold` is held out.
    public init(trainImages: ImageSet, trainLabels: [Int], testImages: ImageSet, folds: [Int], fold: Int,
                classes: Int, inputs: TaskInputs, holdsOutSelection: Bool = false) {
        precondition(folds.count == trainImages.count && trainLabels.count == trainImages.count,
                     "TrainingSet: \(folds.count) folds and \(trainLabels.count) labels for \(trainImages.count) train images")
        do {
            try inputs.validate(trainRows: trainImages.count, testRows: testImages.count, classes: classes)
        } catch {
            preconditionFailure("TrainingSet: \(error) (validate task inputs when they arrive)")
        }
        let outside = folds.indices.filter { folds[$0] != fold }
        selectionRows = holdsOutSelection ? Self.selection(from: outside, labels: trainLabels) : []
        let held = Set(selectionRows)
        let trainRows = outside.filter { !held.contains($0) }
        let pseudoImages = inputs.pseudoRows.indices.map { trainImages.count + $0 }
        images = inputs.pseudoRows.isEmpty ? trainImages : Self.appending(inputs.pseudoRows, of: testImages, to: trainImages)
        rows = trainRows + pseudoImages
        labels = trainRows.map { trainLabels[$0] } + inputs.pseudoLabels
        validationRows = folds.indices.filter { folds[$0] == fold }
        softTargets = inputs.distillation.map { distillation in
            let pseudoTeacher = inputs.pseudoRows.flatMap { distillation.teacherTest[($0 * classes)..<(($0 + 1) * classes)] }
            return Tensor(shape: [trainImages.count + inputs.pseudoRows.count, classes],
                          scalars: distillation.teacherTrain + pseudoTeacher)
        }
    }

    /// The data's train rows outside `task`'s fold plus the inputs' pseudo rows.
    public init(data: ExperimentData, folds: [Int], fold: Int, inputs: TaskInputs, holdsOutSelection: Bool = false) {
        self.init(trainImages: data.trainImages, trainLabels: data.train.labels, testImages: data.testImages,
                  folds: folds, fold: fold, classes: data.classes, inputs: inputs, holdsOutSelection: holdsOutSelection)
    }

    /// About a tenth of `rows`, stratified: within each class (rows in order)
    /// every tenth row, and the last row of a class of 2 to 9 rows, so each
    /// class with more than one row keeps most of its rows for training and
    /// lends at least one to the selection.
    public static func selection(from rows: [Int], labels: [Int]) -> [Int] {
        let byClass = Dictionary(grouping: rows, by: { labels[$0] })
        let chosen = byClass.values.flatMap { members -> [Int] in
            guard members.count > 1 else { return [] }
            let tenth = members.indices.filter { $0 % 10 == 9 }.map { members[$0] }
            return tenth.isEmpty ? [members[members.count - 1]] : tenth
        }
        return chosen.sorted()
    }

    /// One shuffled, augmented pass over the training rows; `balanced` draws as
    /// many rows with replacement, each class equally likely (class-balanced sampling).
    public func loader(batchSize: Int, shuffleSeed: UInt64, augmentation: Augmentation?, augmentSeed: UInt64,
                       balanced: Bool = false) -> BatchLoader {
        let drawn = balanced ? balancedDraw(seed: shuffleSeed) : Array(rows.indices)
        return BatchLoader(images: images, rows: drawn.map { rows[$0] }, labels: drawn.map { labels[$0] },
                           batchSize: batchSize, shuffleSeed: shuffleSeed, augmentation: augmentation,
                           augmentSeed: augmentSeed, dropLast: true)
    }

    /// `rows.count` indices into `rows`: a class drawn uniformly among those
    /// present, then one of its rows uniformly, with replacement.
    func balancedDraw(seed: UInt64) -> [Int] {
        let byClass = Dictionary(grouping: rows.indices, by: { labels[$0] }).sorted { $0.key < $1.key }.map(\.value)
        var random = SeededRandom(seed, stableHash("balanced"))
        return rows.indices.map { _ in
            let members = byClass[random.int(below: byClass.count)]
            return members[random.int(below: members.count)]
        }
    }

    /// The training rows in order, unaugmented, as the network sees them at prediction time.
    public func plainBatches(batchSize: Int) -> [Tensor] {
        BatchLoader(images: images, rows: rows, labels: [], batchSize: batchSize, shuffleSeed: nil,
                    augmentation: nil, augmentSeed: 0, dropLast: rows.count > batchSize).map(\.images)
    }

    /// What a batch of this set's loader is trained against: its labels, and
    /// with a teacher the soft targets of its images.
    public func targets(for batch: Batch) -> Targets {
        guard let softTargets else { return .classes(batch.labels) }
        let K = softTargets.shape[1]
        let teacher = batch.rows.flatMap { softTargets.scalars[($0 * K)..<(($0 + 1) * K)] }
        return DistillationLoss.targets(labels: batch.labels, teacher: Tensor(shape: [batch.rows.count, K], scalars: teacher))
    }

    private static func appending(_ testRows: [Int], of test: ImageSet, to train: ImageSet) -> ImageSet {
        var scalars: [Float] = []
        scalars.reserveCapacity((train.count + testRows.count) * train.spec.imageSize)
        for row in 0..<train.count { scalars.append(contentsOf: train.image(row)) }
        for row in testRows { scalars.append(contentsOf: test.image(row)) }
        return ImageSet(spec: train.spec, scalars: scalars)
    }
}
