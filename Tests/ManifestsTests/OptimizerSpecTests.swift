import XCTest
@testable import Manifests

final class OptimizerSpecTests: XCTestCase {
    func testDefaults() throws {
        XCTAssertEqual(try Fixture.model([]).optimizer,
                       OptimizerSpec(name: .adam, momentum: 0.9, nesterov: false, weightDecay: 0, beta1: 0.9,
                                     beta2: 0.999, epsilon: 1e-8))
        XCTAssertEqual(try Fixture.model(["optimizer: adamw"]).optimizer.weightDecay, 0.01)
        XCTAssertEqual(try Fixture.model(["optimizer: {name: adamw, weight_decay: 0.05}"]).optimizer.weightDecay, 0.05)
        XCTAssertEqual(try Fixture.model(["optimizer: sgd"]).optimizer.weightDecay, 0)
    }

    func testMapForms() throws {
        let sgd = try Fixture.model(["optimizer: {name: sgd, momentum: 0.85, nesterov: true, weight_decay: 5e-4}"])
        XCTAssertEqual(sgd.optimizer, OptimizerSpec(name: .sgd, momentum: 0.85, nesterov: true, weightDecay: 5e-4))
        let adam = try Fixture.model(["optimizer:", "  name: adam", "  beta1: 0.95", "  beta2: 0.99", "  epsilon: 1e-6"])
        XCTAssertEqual(adam.optimizer, OptimizerSpec(name: .adam, beta1: 0.95, beta2: 0.99, epsilon: 1e-6))
    }

    func testKeysOfOtherOptimizersAreRejected() {
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: adam, momentum: 0.9}"]), line: 15,
                            keyPath: "models[0].optimizer.momentum",
                            message: "`momentum` does not apply to the `adam` optimizer; only the `sgd` optimizer uses it")
        assertManifestError(Fixture.yaml(model: ["optimizer:", "  name: sgd", "  beta2: 0.9"]), line: 17,
                            keyPath: "models[0].optimizer.beta2",
                            message: "only the `adam`, `adamw` optimizers use it",
                            fix: "set `name` to one of `adam`, `adamw`")
    }

    func testRangesAndCombinations() {
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: adam, beta2: 1}"]), line: 15,
                            keyPath: "models[0].optimizer.beta2", message: "`beta2` must be in 0..<1")
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: adam, epsilon: 0}"]), line: 15,
                            keyPath: "models[0].optimizer.epsilon", message: "must be in 0<..<1")
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: sgd, weight_decay: -1e-4}"]), line: 15,
                            keyPath: "models[0].optimizer.weight_decay", message: "must be in 0..<1")
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: sgd, momentum: 0, nesterov: true}"]), line: 15,
                            keyPath: "models[0].optimizer.nesterov", message: "Nesterov momentum needs `momentum` > 0")
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: sgd, nesterov: yes please}"]), line: 15,
                            keyPath: "models[0].optimizer.nesterov", message: "expected true or false")
    }

    func testTypoOfAnotherOptimizersKeySaysWhoUsesIt() {
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: adam, momentun: 0.9}"]), line: 15,
                            keyPath: "models[0].optimizer.momentun", message: "unknown key `momentun` in `optimizer`",
                            fix: "use the keys name, weight_decay, beta1, beta2, epsilon; `momentum` is close, "
                                + "but only the `sgd` optimizer uses it")
    }

    func testUnknownOptimizerName() {
        assertManifestError(Fixture.yaml(model: ["optimizer: {name: adamW}"]), line: 15,
                            keyPath: "models[0].optimizer.name", message: "unknown optimizer `adamW`",
                            fix: "did you mean `adamw`?")
    }
}
