import Foundation
import Datasets
import Engine
import Manifests

/// One task's mean teacher (Tarvainen & Valpola, 2017): a second copy of the
/// network whose weights are an exponential moving average of the student's,
/// and the consistency term that pulls the student's predictions on
/// unlabelled test images towards the teacher's.
final class MeanTeacher {
    let spec: MeanTeacherSpec
    /// The teacher network; it predicts the set `ema`.
    let model: Model
    private var updates = 0

    /// `teacher` is a fresh model of the student's architecture; it starts as a copy of `student`.
    init(spec: MeanTeacherSpec, teacher: Model, student: Model) {
        (self.spec, self.model) = (spec, teacher)
        for (mine, theirs) in zip(teacher.parameters.all, student.parameters.all) { mine.value = theirs.value }
    }

    /// The consistency weight `epochs` (fractional) into training: the paper's
    /// sigmoid ramp-up exp(−5(1 − t)²) over `rampupEpochs`, then `weight`.
    func weight(atEpoch epochs: Double) -> Float {
        guard spec.rampupEpochs > 0, epochs < Double(spec.rampupEpochs) else { return spec.weight }
        let remaining = 1 - max(0, epochs) / Double(spec.rampupEpochs)
        return spec.weight * Float(exp(-5 * remaining * remaining))
    }

    /// After an optimizer step: teacher ← α·teacher + (1 − α)·student for the
    /// trainable weights, with α = min(1 − 1/(t + 1), decay) so early steps follow
    /// the student closely. Buffers (batch-norm statistics) are not averaged: the
    /// teacher keeps its own, from its forward passes, so they fit its weights.
    func update(from student: Model) {
        updates += 1
        let alpha = min(1 - 1 / Float(updates + 1), spec.decay)
        for (mine, theirs) in zip(model.parameters.all, student.parameters.all) where !mine.isBuffer {
            let source = theirs.value.scalars
            mine.value.scalars.withUnsafeMutableBufferPointer { target in
                for i in 0..<target.count { target[i] = alpha * target[i] + (1 - alpha) * source[i] }
            }
        }
    }

    /// The consistency targets [N, K]: the teacher's probabilities in training
    /// mode, as in the paper's implementation — batch statistics and dropout noise,
    /// and its batch-norm running statistics follow its own weights.
    func consistencyTargets(_ images: Tensor) -> Tensor { softmax(model.forward(images, mode: .train)) }

    /// The consistency term `epochs` (fractional) into training and its
    /// dLoss/dLogits for the student's forward pass on `studentView`, towards the
    /// teacher's targets on `teacherView` (the same images, augmented apart).
    func consistency(student: Model, studentView: Tensor, teacherView: Tensor,
                     atEpoch epochs: Double) -> (value: Float, dLogits: Tensor) {
        ConsistencyLoss(weight: weight(atEpoch: epochs))
            .evaluate(logits: student.forward(studentView, mode: .train), targets: .dense(consistencyTargets(teacherView)))
    }

    /// The teacher's predictions [N, K] (eval mode, its own running statistics): the set `ema`.
    func probabilities(_ images: Tensor) -> Tensor { softmax(model.forward(images, mode: .eval)) }
}
