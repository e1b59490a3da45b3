import XCTest
@testable import Engine
import TestSupport

/// A few optimizer steps on one random 16×16 grey batch: the new backbones and
/// heads train (the loss stays finite and falls as they fit the batch).
final class ArchitectureTrainingTests: XCTestCase {
    private func lossesOverSteps(_ name: String, _ config: ArchitectureConfig, steps: Int = 6) -> [Float] {
        var random = SeededRandom(seed: 61)
        let images = random.tensor([8, 1, 16, 16])
        let labels = (0..<8).map { $0 % 4 }
        let model = ModelRegistry.make(name: name, config: config, inputChannels: 1, classes: 4, seed: 1)
        let trainer = Trainer(model: model, loss: CrossEntropyLoss(), optimizer: Adam(),
                              policy: .schedule(ConstantSchedule(3e-3)))
        return (0..<steps).map { _ in trainer.trainStep(images: images, targets: .classes(labels)) }
    }

    private func assertTrains(_ name: String, _ config: ArchitectureConfig, file: StaticString = #filePath, line: UInt = #line) {
        let losses = lossesOverSteps(name, config)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(name): \(losses)", file: file, line: line)
        XCTAssertLessThan(losses.last!, losses.first!, "\(name): \(losses)", file: file, line: line)
    }

    func testEfficientNetB0Trains() {
        assertTrains("efficientnet_b0", .efficientNet(.b0))
    }

    func testSEResNeXtTrains() {
        assertTrains("se_resnext", .resnet(.seResNeXt))
    }

    func testIBNAndEveryHeadTrain() {
        var config = ResNetConfig.resnetRef
        config.ibn = true
        for head in [HeadConfig(pooling: .gem, bnneck: true), HeadConfig(pooling: .dual, dropout: 0.2),
                     HeadConfig(pooling: .max, cosineScale: 10)] {
            config.head = head
            assertTrains("resnet_ref", .resnet(config))
        }
    }
}
