/// Stochastic weight averaging (Izmailov et al., 2018): a running mean of a
/// model's trainable parameters, one sample per `add` (usually per epoch).
/// Buffers (batch-norm statistics) are not averaged: after `apply`, recompute
/// them over the training data with `recomputeBatchNormStatistics`.
public final class WeightAverage {
    public private(set) var count = 0
    private var averages: [String: [Double]] = [:]

    public init() {}

    public func add(_ store: ParameterStore) {
        count += 1
        let weight = 1 / Double(count)
        for parameter in store.trainable {
            var average = averages[parameter.name] ?? [Double](repeating: 0, count: parameter.value.count)
            for i in 0..<average.count { average[i] += (Double(parameter.value[i]) - average[i]) * weight }
            averages[parameter.name] = average
        }
    }

    /// Writes the averaged values into the store's trainable parameters.
    public func apply(to store: ParameterStore) {
        precondition(count > 0, "WeightAverage.apply: no weights were added")
        for parameter in store.trainable {
            guard let average = averages[parameter.name] else { preconditionFailure("WeightAverage: no average for \(parameter.name)") }
            for i in 0..<average.count { parameter.value[i] = Float(average[i]) }
        }
    }
}

/// Replaces every batch-norm layer's running statistics with the exact mean
/// and unbiased variance of its inputs over `batches` (forwards in training
/// mode, so each layer sees what it saw in training), as SWA needs before it
/// predicts. Nothing else changes: no gradients, no optimizer step.
public func recomputeBatchNormStatistics(_ model: Model, batches: some Sequence<Tensor>) {
    let norms = model.network.allLayers.compactMap { $0 as? BatchNorm }
    for norm in norms { norm.beginRecomputingStatistics() }
    for batch in batches { _ = model.forward(batch, mode: .train) }
    for norm in norms { norm.finishRecomputingStatistics() }
}
