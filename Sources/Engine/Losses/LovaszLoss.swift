import Foundation

// Shape letters: N rows (batch), K classes. Each class is one Jaccard (IoU)
// problem over the batch's N rows, as a segmentation loss treats a class over pixels.

/// Lovász-softmax (Berman et al., 2018): per class, the Lovász extension of the
/// Jaccard loss applied to the errors |t − p| of the softmax probabilities,
/// averaged over the classes present in the batch's targets (or over all
/// classes). Soft targets are allowed. The loss is piecewise linear in the
/// errors; its gradient is that of the current sort order (a subgradient at ties).
public struct LovaszSoftmaxLoss: Loss {
    /// Which classes the mean runs over, as the reference implementation's `classes`.
    public enum Classes: String, Sendable {
        /// Classes with a positive target somewhere in the batch.
        case present
        case all
    }

    public let classes: Classes

    public init(classes: Classes = .present) {
        self.classes = classes
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "LovaszSoftmaxLoss")
        let t = targets.matrix(rows: N, classes: K)
        let softmaxLayer = SoftmaxLayer()
        let p = softmaxLayer.forward(logits, mode: .train)
        var dP = Tensor(zeros: logits.shape)
        var total: Float = 0
        var counted = 0
        for k in 0..<K {
            let truth = (0..<N).map { t[$0 * K + k] }
            if classes == .present && !truth.contains(where: { $0 > 0 }) { continue }
            let errors = (0..<N).map { abs(truth[$0] - p[$0 * K + k]) }
            let (value, dErrors) = lovaszExtension(errors: errors, truth: truth)
            total += value
            counted += 1
            for i in 0..<N { dP[i * K + k] = p[i * K + k] >= truth[i] ? dErrors[i] : -dErrors[i] }
        }
        guard counted > 0 else { return (0, Tensor(zeros: logits.shape)) }
        let scale = 1 / Float(counted)
        for i in 0..<dP.count { dP[i] *= scale }
        return (total * scale, softmaxLayer.backward(dP))
    }
}

/// Lovász hinge (Berman et al., 2018) for binary and multi-label targets: per
/// class, the Lovász extension of the Jaccard loss applied to the hinge errors
/// max(0, 1 − x·(2t − 1)) of the logits x over the batch's rows, averaged over
/// all K classes (a class without positives still penalises its largest false
/// positive). Class indices become one-hot rows (one-vs-rest).
public struct LovaszHingeLoss: Loss {
    public init() {}

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "LovaszHingeLoss")
        let t = targets.matrix(rows: N, classes: K)
        var dLogits = Tensor(zeros: logits.shape)
        var total: Float = 0
        let scale = 1 / Float(K)
        for k in 0..<K {
            let truth = (0..<N).map { t[$0 * K + k] }
            let signs = truth.map { 2 * $0 - 1 }
            let margins = (0..<N).map { 1 - logits[$0 * K + k] * signs[$0] }
            let (value, dErrors) = lovaszExtension(errors: margins.map { max($0, 0) }, truth: truth)
            total += value
            for i in 0..<N where margins[i] > 0 { dLogits[i * K + k] = -dErrors[i] * signs[i] * scale }
        }
        return (total * scale, dLogits)
    }
}

/// The Lovász extension of the Jaccard loss at `errors` (Berman et al., Alg. 1):
/// Σ_r e_(r)·g_r over the errors sorted in decreasing order, where g_r is the
/// increase of 1 − IoU when the r-th largest error's row joins the predicted
/// set. Its gradient with respect to each error is that row's g (ties keep the
/// lower row first).
func lovaszExtension(errors: [Float], truth: [Float]) -> (value: Float, dErrors: [Float]) {
    let order = errors.indices.sorted { errors[$0] > errors[$1] || (errors[$0] == errors[$1] && $0 < $1) }
    let positives = truth.reduce(0.0) { $0 + Double($1) }
    var dErrors = [Float](repeating: 0, count: errors.count)
    var (hits, misses, previous, value) = (0.0, 0.0, 0.0, 0.0)
    for row in order {
        hits += Double(truth[row])
        misses += 1 - Double(truth[row])
        let jaccard = 1 - (positives - hits) / (positives + misses)
        dErrors[row] = Float(jaccard - previous)
        value += Double(errors[row]) * (jaccard - previous)
        previous = jaccard
    }
    return (Float(value), dErrors)
}
