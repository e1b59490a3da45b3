import Datasets
import Engine
import Foundation
import Manifests

/// The learning-rate range test (Smith, 2017; fastai's `lr_find`): one pass over
/// the training data with the learning rate growing exponentially from `start`
/// to `end`, recording the loss of every batch. The model, loss, optimizer,
/// batch size and augmentation are the manifest model's; every train row is used.
public struct LRFinder {
    public struct Point: Sendable, Equatable {
        public var lr: Double
        /// The batch's loss.
        public var loss: Double
        /// The mean loss over a window of a third of the sweep centred on this step
        /// (`LRFinder.smoothed`): what the chart and the suggestion use. Centred, it does
        /// not lag behind the learning rate as a running average does; a third of the
        /// sweep because one batch's loss is noisy (on digits.yaml, narrower windows let
        /// the suggestion wander over a decade from one seed to the next).
        public var smoothed: Double
    }

    public var start: Double
    public var end: Double
    /// Stop once the running mean of the loss exceeds this multiple of its minimum.
    public var divergence: Double = 4

    public init(start: Double = 1e-6, end: Double = 10) { (self.start, self.end) = (start, end) }

    /// Runs the sweep for `spec` on `data`; at most `maxSteps` batches (one pass by default).
    public func run(_ spec: ModelSpec, manifest: Manifest, data: ExperimentData, seed: UInt64 = 0,
                    maxSteps: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) -> [Point] {
        let all = TrainingSet(data: data, folds: [Int](repeating: 0, count: data.train.labels.count), fold: -1, inputs: .none)
        let loader = all.loader(batchSize: spec.batchSize, shuffleSeed: seed ^ 0x6C72,
                                augmentation: Components.augmentation(spec.augment),
                                augmentSeed: seed, balanced: spec.sampler == .balanced)
        let steps = min(maxSteps ?? loader.batchCount, loader.batchCount)
        precondition(steps >= 2, "LRFinder: needs at least two batches, the data gives \(loader.batchCount)")
        let model = Components.model(spec, manifest: manifest, classes: data.classes, seed: seed)
        let ratio = end / start
        let schedule = SweepSchedule(start: start, ratio: ratio, steps: steps)
        let trainer = Trainer(model: model, loss: Components.loss(spec.loss), optimizer: Components.optimizer(spec.optimizer),
                              policy: .schedule(schedule))
        var sweep: [(lr: Double, loss: Double)] = []
        var average = 0.0, best = Double.infinity
        let beta = 0.9
        for (index, batch) in loader.enumerated() where index < steps {
            let lr = Double(trainer.learningRate)
            let loss = Double(trainer.trainStep(images: batch.images, targets: all.targets(for: batch)))
            sweep.append((lr, loss))
            progress(index + 1, steps)
            // A running mean (bias-corrected) decides when the loss has blown up.
            average = beta * average + (1 - beta) * loss
            let running = average / (1 - pow(beta, Double(index + 1)))
            if !running.isFinite || running > divergence * best { break }
            best = min(best, running)
        }
        let smoothed = Self.smoothed(sweep.map(\.loss), window: max(5, steps / 3) | 1)
        return zip(sweep, smoothed).map { Point(lr: $0.lr, loss: $0.loss, smoothed: $1) }
    }

    /// The mean over a window of `window` (odd) values centred on each one, shrunk at the ends.
    static func smoothed(_ values: [Double], window: Int) -> [Double] {
        let half = window / 2
        return values.indices.map { i in
            let range = max(0, i - half)...min(values.count - 1, i + half)
            return values[range].reduce(0, +) / Double(range.count)
        }
    }

    /// The steepest descent of the smoothed loss against log(lr), looked for
    /// before the loss's minimum (fastai's "steep" suggestion); the first and
    /// last few points, where the smoothing is unsettled or the loss has blown up,
    /// are skipped. Nil when the curve is too short to tell.
    public static func suggestion(_ points: [Point]) -> Double? {
        guard let minimum = points.indices.min(by: { points[$0].smoothed < points[$1].smoothed }) else { return nil }
        let skip = max(1, points.count / 10)
        let candidates = Array(skip..<max(skip, minimum))
        guard !candidates.isEmpty else { return nil }
        // The loss at step i + 1 is the first to show the update made at lr_i: the
        // slope between them belongs to lr_i.
        let slope = { (i: Int) -> Double in
            (points[i + 1].smoothed - points[i].smoothed) / (log10(points[i + 1].lr) - log10(points[i].lr))
        }
        return candidates.min { slope($0) < slope($1) }.map { points[$0].lr }
    }
}

/// lr = start · ratio^(step / (steps − 1)).
private struct SweepSchedule: Schedule {
    let start: Double, ratio: Double, steps: Int
    func lr(at step: Int) -> Float { Float(start * pow(ratio, Double(min(step, steps - 1)) / Double(steps - 1))) }
}
