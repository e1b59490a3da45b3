import XCTest
import TestSupport
@testable import Engine

final class WeightAverageTests: XCTestCase {
    func testAverageIsTheMeanOfTheAddedWeightsAndLeavesBuffersAlone() {
        let weight = Parameter(name: "w", value: Tensor(shape: [2], scalars: [0, 0]))
        let buffer = Parameter(name: "b", value: Tensor(shape: [1], scalars: [7]), isBuffer: true)
        let store = ParameterStore([weight, buffer])
        let average = WeightAverage()
        for values: [Float] in [[1, 2], [3, 4], [8, -3]] {
            weight.value = Tensor(shape: [2], scalars: values)
            buffer.value[0] += 1
            average.add(store)
        }
        weight.value = Tensor(shape: [2], scalars: [100, 100])
        average.apply(to: store)
        XCTAssertEqual(average.count, 3)
        XCTAssertEqual(weight.value.scalars, [4, 1])
        XCTAssertEqual(buffer.value.scalars, [10])
    }

    /// conv → BN → ReLU → conv → BN, 12 images.
    func makeNetwork() -> (Model, Conv2d, BatchNorm, Conv2d, BatchNorm, Tensor) {
        var random = SeededRandom(42)
        let conv1 = Conv2d(name: "c1", inChannels: 1, outChannels: 3, kernel: 3, padding: 1, random: &random)
        let bn1 = BatchNorm(name: "bn1", channels: 3, relu: true)
        let conv2 = Conv2d(name: "c2", inChannels: 3, outChannels: 2, kernel: 3, padding: 1, random: &random)
        let bn2 = BatchNorm(name: "bn2", channels: 2)
        let model = Model(architecture: "test", network: Sequential([conv1, bn1, conv2, bn2]), classes: 2)
        return (model, conv1, bn1, conv2, bn2, random.tensor([12, 1, 5, 5]))
    }

    /// Mean and unbiased variance per channel of an [N, C, H, W] tensor, in Double.
    func statistics(_ x: Tensor) -> (mean: [Float], variance: [Float]) {
        let (N, C, HW) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var means: [Float] = [], variances: [Float] = []
        for c in 0..<C {
            var values: [Double] = []
            for n in 0..<N { for i in 0..<HW { values.append(Double(x[(n * C + c) * HW + i])) } }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            (means, variances) = (means + [Float(mean)], variances + [Float(variance)])
        }
        return (means, variances)
    }

    func batches(_ x: Tensor, size: Int) -> [Tensor] {
        let per = x.count / x.shape[0]
        return stride(from: 0, to: x.shape[0], by: size).map { start in
            Tensor(shape: [size] + Array(x.shape.dropFirst()), scalars: Array(x.scalars[start * per..<(start + size) * per]))
        }
    }

    func testRecomputedStatisticsEqualADirectPassOverTheData() {
        let (model, conv1, bn1, conv2, bn2, images) = makeNetwork()
        // Stale statistics, as after training with momentum or after loading averaged weights.
        for norm in [bn1, bn2] { norm.runningMean.value[0] = 9; norm.runningVariance.value[0] = 9 }

        // In batches: the first norm sees the convolution of every image, so its
        // statistics are exactly those of one pass over all twelve.
        recomputeBatchNormStatistics(model, batches: batches(images, size: 4))
        let direct1 = statistics(conv1.forward(images, mode: .eval))
        XCTAssertEqual(bn1.runningMean.value.scalars, direct1.mean, accuracy: 1e-5)
        XCTAssertEqual(bn1.runningVariance.value.scalars, direct1.variance, accuracy: 1e-5)

        // In one batch: every norm's statistics are those of a direct training-mode pass.
        recomputeBatchNormStatistics(model, batches: [images])
        let hidden = bn1.forward(conv1.forward(images, mode: .train), mode: .train)
        let direct2 = statistics(conv2.forward(hidden, mode: .train))
        XCTAssertEqual(bn2.runningMean.value.scalars, direct2.mean, accuracy: 1e-5)
        XCTAssertEqual(bn2.runningVariance.value.scalars, direct2.variance, accuracy: 1e-5)
    }

    func testRecomputationChangesNothingButTheStatistics() {
        let (model, _, bn1, _, _, images) = makeNetwork()
        let before = model.parameters.trainable.map(\.value.scalars)
        let momentumMean = bn1.runningMean.value.scalars
        recomputeBatchNormStatistics(model, batches: batches(images, size: 6))
        XCTAssertEqual(model.parameters.trainable.map(\.value.scalars), before)
        XCTAssertNotEqual(bn1.runningMean.value.scalars, momentumMean)
        // Afterwards training-mode forwards update with momentum again (on a
        // batch whose mean differs from the whole data's).
        let recomputed = bn1.runningMean.value.scalars
        _ = model.forward(batches(images, size: 3)[0], mode: .train)
        for c in 0..<3 {
            XCTAssertNotEqual(bn1.runningMean.value[c], recomputed[c])
        }
    }

    func testLayersListEveryBatchNormOfAResNet() {
        let model = ModelRegistry.make(name: "resnet_ref", config: ModelRegistry.defaultConfig(for: "resnet_ref")!,
                                       inputChannels: 1, classes: 10, seed: 1)
        let norms = model.network.allLayers.compactMap { $0 as? BatchNorm }
        let runningMeans = model.parameters.buffers.filter { $0.name.hasSuffix("running_mean") }
        XCTAssertEqual(norms.map(\.runningMean.name), runningMeans.map(\.name))
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
