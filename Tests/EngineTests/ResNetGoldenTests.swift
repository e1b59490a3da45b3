import Datasets
import XCTest
@testable import Engine
import Kernels
import TestSupport

/// resnet_ref against PyTorch (Tests/EngineTests/Fixtures/resnet_ref, written by
/// scripts/make-golden-fixture): same weights and input must give the same
/// logits, loss, every parameter gradient, running statistics and eval logits.
final class ResNetGoldenTests: XCTestCase {
    let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/resnet_ref")

    func load(_ name: String) throws -> NPYArray { try NPY.read(fixtures.appendingPathComponent(name + ".npy")) }

    /// On both kernel backends: OpenBLAS, and oneDNN with blocked activations between its layers.
    func testForwardBackwardMatchPyTorch() throws {
        defer { KernelBackend.use(KernelBackend.configured) }
        for (backend, threads) in KernelBackend.allCases.flatMap({ b in [1, 2].map { (b, $0) } }) {
            KernelBackend.use(backend)
            ComputeThreads.set(threads)
            let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: 1, classes: 10, seed: 0)
            let names = try String(contentsOf: fixtures.appendingPathComponent("names.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
            XCTAssertEqual(Set(names), Set(model.parameters.all.map(\.name)), "parameter names differ from PyTorch's")
            for p in model.parameters.all {
                let value = try load("param." + p.name)
                XCTAssertEqual(value.shape, p.shape, p.name)
                p.value = Tensor(shape: value.shape, scalars: value.floats)
            }
            let x = try load("input"), labels = try load("labels").floats.map { Int($0) }
            let logits = model.forward(Tensor(shape: x.shape, scalars: x.floats), mode: .train)
            XCTAssertLessThan(relativeError(logits.scalars, try load("logits").floats), 1e-4, "logits (\(backend))")
            let (loss, dLogits) = CrossEntropyLoss().evaluate(logits: logits, targets: .classes(labels))
            XCTAssertEqual(loss, try load("loss").floats[0], accuracy: 1e-5)
            model.parameters.zeroGrads()
            model.backward(dLogits)
            for p in model.parameters.trainable {
                XCTAssertLessThan(relativeError(p.grad.scalars, try load("grad." + p.name).floats), 1e-3,
                                  "gradient of \(p.name) (\(backend), threads \(threads))")
            }
            for p in model.parameters.buffers {
                XCTAssertLessThan(relativeError(p.value.scalars, try load("after." + p.name).floats), 1e-5,
                                  "running statistic \(p.name) (\(backend))")
            }
            let eval = model.forward(Tensor(shape: x.shape, scalars: x.floats), mode: .eval)
            XCTAssertLessThan(relativeError(eval.scalars, try load("eval_logits").floats), 1e-4, "eval logits (\(backend))")
        }
        ComputeThreads.set(1)
    }
}
