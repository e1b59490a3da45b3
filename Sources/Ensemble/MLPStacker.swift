import Engine
import Foundation

// Shape letters: N rows, D features, H hidden units, K classes.

/// A small neural stacker from the engine's layers: Linear(D, H) → ReLU →
/// Dropout → Linear(H, K), trained with Adam on cross-entropy for a fixed
/// number of epochs of shuffled mini-batches. Features are standardised with
/// the training rows' mean and deviation first, since stacking features are
/// probabilities bunched near 0 and 1. Everything random (initial weights,
/// shuffling, dropout) comes from `seed`, so a fit is reproducible.
public struct MLPStacker: Stacker {
    public var hidden: Int
    public var dropout: Float
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var seed: UInt64
    private var network: Sequential?
    private var means: [Float] = []
    private var deviations: [Float] = []

    public init(hidden: Int = 32, dropout: Float = 0.1, epochs: Int = 60, batchSize: Int = 32,
                learningRate: Float = 3e-3, weightDecay: Float = 1e-4, seed: UInt64 = 0) {
        precondition(hidden > 0 && epochs > 0 && batchSize > 0, "MLPStacker: hidden, epochs and batchSize must be positive")
        (self.hidden, self.dropout, self.epochs, self.batchSize) = (hidden, dropout, epochs, batchSize)
        (self.learningRate, self.weightDecay, self.seed) = (learningRate, weightDecay, seed)
    }

    public mutating func fit(features: [Float], featureCount D: Int, labels: [Int], classes K: Int) {
        let N = labels.count
        precondition(D > 0 && features.count == N * D, "MLPStacker.fit: \(features.count) features for \(N) rows of \(D)")
        (means, deviations) = Self.columnStatistics(features, width: D)
        let x = standardised(features)
        var random = SeededRandom(seed, 1)
        let network = Sequential([
            Linear(name: "hidden", inFeatures: D, outFeatures: hidden, random: &random),
            ReLU(),
            Dropout(p: dropout, seed: random.next()),
            Linear(name: "output", inFeatures: hidden, outFeatures: K, random: &random),
        ])
        let store = ParameterStore(network.parameters)
        let optimizer = Adam(weightDecay: weightDecay)
        let loss = CrossEntropyLoss()
        var order = Array(0..<N)
        var step = 0
        for _ in 0..<epochs {
            order.shuffle(using: &random)
            for start in stride(from: 0, to: N, by: batchSize) {
                let rows = Array(order[start..<min(start + batchSize, N)])
                let batch = Tensor(shape: [rows.count, D], scalars: NestedStacking.gather(x, rows: rows, width: D))
                store.zeroGrads()
                let logits = network.forward(batch, mode: .train)
                let (_, dLogits) = loss.evaluate(logits: logits, targets: .classes(rows.map { labels[$0] }))
                _ = network.backward(dLogits)
                step += 1
                optimizer.step(store, lr: learningRate, step: step)
            }
        }
        self.network = network
    }

    public func predictProbabilities(features: [Float]) -> [Float] {
        guard let network else { preconditionFailure("MLPStacker.predictProbabilities called before fit") }
        let D = means.count
        precondition(features.count % D == 0, "MLPStacker.predictProbabilities: \(features.count) values are not rows of \(D)")
        let x = Tensor(shape: [features.count / D, D], scalars: standardised(features))
        return softmax(network.forward(x, mode: .eval)).scalars
    }

    private func standardised(_ features: [Float]) -> [Float] {
        let D = means.count
        return features.indices.map { (features[$0] - means[$0 % D]) / deviations[$0 % D] }
    }

    /// Per-column mean and standard deviation; a constant column keeps deviation 1.
    static func columnStatistics(_ features: [Float], width D: Int) -> (means: [Float], deviations: [Float]) {
        let N = features.count / D
        var sums = [Double](repeating: 0, count: D), squares = [Double](repeating: 0, count: D)
        for (index, value) in features.enumerated() {
            sums[index % D] += Double(value)
            squares[index % D] += Double(value) * Double(value)
        }
        let means = sums.map { $0 / Double(max(N, 1)) }
        let deviations = (0..<D).map { j -> Float in
            let variance = squares[j] / Double(max(N, 1)) - means[j] * means[j]
            return variance > 1e-12 ? Float(variance.squareRoot()) : 1
        }
        return (means.map { Float($0) }, deviations)
    }
}
