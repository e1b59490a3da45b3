import Foundation
import Manifests
import TestSupport
import XCTest
@testable import Training

/// An image too small for a network's downsampling is refused by name and
/// size instead of training at chance.
final class ModelFitTests: XCTestCase {
    func manifest(imageSize: Int, arch: String) throws -> Manifest {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-modelfit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let dataset = try TrainingDataset.digits(in: folder, trainRows: 20, testRows: 4)
        return try Manifest.load(dataset.writeManifest(imageSize: imageSize, models: [
            "{name: net, arch: \(arch), lr: 1e-3, epochs: 1, batch_size: 8}",
        ]))
    }

    func testResNet34OnOnePixelIsRefusedNamingTheSmallestSize() throws {
        XCTAssertThrowsError(try ModelFit.check(manifest(imageSize: 1, arch: "resnet34"))) { error in
            XCTAssertTrue("\(error)".contains("data.image_size") && "\(error)".contains("model net")
                          && "\(error)".contains("at least 16"), "\(error)")
        }
    }

    func testSizesTheNetworksStillLearnAtAreAccepted() throws {
        XCTAssertNoThrow(try ModelFit.check(manifest(imageSize: 16, arch: "efficientnet_b0")))
        XCTAssertNoThrow(try ModelFit.check(manifest(imageSize: 16, arch: "resnet_ref")))
        XCTAssertNoThrow(try ModelFit.check(manifest(imageSize: 2, arch: "resnet_ref")))
    }
}
