import XCTest
@testable import Manifests

final class ManifestTests: XCTestCase {
    func testMinimalManifestFillsEveryDefault() throws {
        let manifest = try Fixture.parse(Fixture.yaml())
        XCTAssertEqual(manifest.name, "test")
        XCTAssertEqual(manifest.cv, CVSection(folds: 5, seeds: [0], stratify: true, groupColumn: nil))
        XCTAssertEqual(manifest.metric, .accuracy)
        XCTAssertEqual(manifest.cluster, ClusterSection())
        XCTAssertNil(manifest.file)
        let model = try XCTUnwrap(manifest.model(named: "a"))
        XCTAssertEqual(model, ModelSpec(name: "a", arch: ArchSpec(name: "resnet_ref"), lr: 0.001, epochs: 3, batchSize: 32))
        XCTAssertEqual(model.loss.name, .crossEntropy)
        XCTAssertEqual(model.optimizer.name, .adam)
        XCTAssertEqual(model.schedule.name, .constant)
        XCTAssertEqual(model.tta, [])
        XCTAssertNil(manifest.model(named: "b"))
    }

    func testUnknownTopLevelKeySuggestsTheClosest() {
        assertManifestError(Fixture.yaml(top: ["metrc: accuracy"]), line: 15, keyPath: "metrc",
                            message: "unknown key `metrc` in the manifest",
                            fix: "use the keys name, data, cv, metric, models, cluster, ensemble, submission; did you mean `metric`?")
        assertManifestError(Fixture.yaml(top: ["clutser: {max_attempts: 5}"]), line: 15, keyPath: "clutser",
                            message: "unknown key `clutser` in the manifest", fix: "did you mean `cluster`?")
    }

    func testMissingRequiredTopLevelKey() {
        assertManifestError("name: x\ndata: {}\n", line: 2, keyPath: "data.channels",
                            message: "missing required key `channels`")
        let noModels = Fixture.yaml().components(separatedBy: "models:")[0]
        assertManifestError(noModels, line: 1, keyPath: "models", message: "missing required key `models`",
                            fix: "at the top level")
    }

    func testWrongShapesAtTheTop() {
        assertManifestError("- a\n- b\n", line: 1, keyPath: "", message: "expected a map of `key: value` lines, found a list")
        assertManifestError(Fixture.yaml(top: ["cv: [5]"]), line: 15, keyPath: "cv", message: "expected a map")
        assertManifestError("name: x\ndata: {}\nmodels: []\n", line: 2, keyPath: "data.channels", message: "missing")
        assertManifestError("", line: nil, keyPath: "", message: "the manifest is empty")
    }

    func testEmptyModelListAndDuplicateModelNames() {
        let noModels = Fixture.yaml().components(separatedBy: "models:")[0] + "models: []\n"
        assertManifestError(noModels, line: 9, keyPath: "models", message: "`models` is an empty list")
        let twice = Fixture.yaml(top: ["  - name: a", "    arch: resnet18", "    lr: 0.1", "    epochs: 1",
                                       "    batch_size: 8"])
        assertManifestError(twice, line: 15, keyPath: "models[1].name",
                            message: "model name `a` is already used by models[0]")
    }

    func testInvalidYAMLReportsItsLine() {
        assertManifestError("name: x\ndata:\n  train_csv: [a, b\n  other: 1\n", line: 4, keyPath: "",
                            message: "invalid YAML")
        assertManifestError("name: x\nname: y\n", line: 1, keyPath: "", message: "written twice in one map: name")
    }

    func testCanonicalJSONIsStableSortedAndComplete() throws {
        let json = try Fixture.parse(Fixture.yaml()).canonicalJSON()
        XCTAssertEqual(json, try Fixture.parse(Fixture.yaml()).canonicalJSON())
        XCTAssertTrue(json.hasPrefix("{\"cluster\":{\"heartbeat_interval\":1,\"liveness\":3,\"max_attempts\":3,"
                                     + "\"max_retry_delay\":60,\"retry_delay\":1},"
                                     + "\"cv\":{\"folds\":5,\"seeds\":[0],\"stratify\":true},\"data\":{\"channels\":1,"), json)
        for fragment in ["\"train_csv\":\"train.csv\"", "\"min_lr\":0", "\"label_smoothing\":0", "\"batch_size\":32",
                         "\"weight_decay\":0", "\"final_div_factor\":10000", "\"stem\":\"conv3\"", "\"mean\":[0.5]"] {
            XCTAssertTrue(json.contains(fragment), "\(fragment) missing from \(json)")
        }
    }

    func testCanonicalJSONRoundTrips() throws {
        let manifest = try Fixture.parse(Fixture.yaml(model: ["schedule: {name: cosine, min_lr: 1e-5}"]))
        XCTAssertEqual(try Manifest.fromCanonicalJSON(manifest.canonicalJSON()), manifest)
        let retrying = try Fixture.parse(Fixture.yaml(top: ["cluster: {max_attempts: 6, heartbeat_interval: 0.1}"]))
        XCTAssertEqual(try Manifest.fromCanonicalJSON(retrying.canonicalJSON()), retrying)
        XCTAssertEqual(try Manifest.fromCanonicalJSON(retrying.canonicalJSON()).cluster.heartbeatInterval, 0.1)
    }

    /// Experiments stored before `cluster` existed have no such key: it reads as the defaults.
    func testCanonicalJSONWithoutClusterReadsTheDefaults() throws {
        let retrying = try Fixture.parse(Fixture.yaml(top: ["cluster: {max_attempts: 6, liveness: 5}"]))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(retrying.canonicalJSON().utf8))
            as? [String: Any])
        XCTAssertNotNil(object.removeValue(forKey: "cluster"))
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let read = try Manifest.fromCanonicalJSON(json)
        XCTAssertEqual(read.cluster, ClusterSection())
        XCTAssertEqual(read, try Fixture.parse(Fixture.yaml()))
    }

    func testHashIgnoresFormattingButNotValues() throws {
        let base = try Fixture.parse(Fixture.yaml()).hash
        XCTAssertEqual(base.count, 16)
        XCTAssertTrue(base.allSatisfy { $0.isHexDigit })
        let spelledOut = Fixture.yaml(model: ["optimizer: {name: adam, weight_decay: 0}  # same as the default",
                                              "tta: []"])
        XCTAssertEqual(try Fixture.parse(spelledOut).hash, base)
        let changed = Fixture.yaml().replacingOccurrences(of: "lr: 0.001", with: "lr: 0.002")
        XCTAssertNotEqual(try Fixture.parse(changed).hash, base)
        XCTAssertNotEqual(try Fixture.parse(Fixture.yaml(top: ["cv: {folds: 4}"])).hash, base)
    }

    /// Raising `max_attempts` to retry failed tasks must keep an experiment (keyed by hash) and
    /// its finished results, so `cluster` is in the canonical JSON but not in the hash.
    func testClusterSectionDoesNotChangeTheHash() throws {
        let plain = try Fixture.parse(Fixture.yaml())
        let retrying = try Fixture.parse(Fixture.yaml(top: [
            "cluster: {max_attempts: 9, heartbeat_interval: 0.5, liveness: 4, retry_delay: 2, max_retry_delay: 90}",
        ]))
        XCTAssertNotEqual(retrying.canonicalJSON(), plain.canonicalJSON())
        XCTAssertTrue(retrying.canonicalJSON().contains("\"max_attempts\":9"), retrying.canonicalJSON())
        XCTAssertEqual(retrying.hash, plain.hash)
        XCTAssertEqual(try Manifest.fromCanonicalJSON(retrying.canonicalJSON()).hash, plain.hash)
        // The hash is the one computed before `cluster` existed (pinned from that code).
        XCTAssertEqual(plain.hash, "6d3c842ef6cf2173")
        let stripped = plain.canonicalJSON().replacingOccurrences(
            of: "\"cluster\":{\"heartbeat_interval\":1,\"liveness\":3,\"max_attempts\":3,\"max_retry_delay\":60,"
                + "\"retry_delay\":1},", with: "")
        XCTAssertEqual(plain.hash, String(format: "%016llx", Manifest.fnv1a(stripped)))
    }

    func testFNV1aKnownVectors() {
        XCTAssertEqual(Manifest.fnv1a(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(Manifest.fnv1a("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(Manifest.fnv1a("foobar"), 0x8594_4171_f739_67e8)
    }

    func testResolveAgainstTheManifestFolder() throws {
        var manifest = try Fixture.parse(Fixture.yaml())
        manifest.file = URL(fileURLWithPath: "/work/project/manifests/m.yaml")
        XCTAssertEqual(manifest.resolve("../data/digits/train.csv").path, "/work/project/data/digits/train.csv")
        XCTAssertEqual(manifest.resolve("train").path, "/work/project/manifests/train")
        XCTAssertEqual(manifest.resolve("/abs/train.csv").path, "/abs/train.csv")
        manifest.file = nil
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(manifest.resolve("x.csv").path, URL(fileURLWithPath: cwd).appendingPathComponent("x.csv").path)
    }

    /// A worker's copy of a file the coordinator sent wins over the path; it is not part of the hash.
    func testLocalCopiesResolveFirstAndStayOutOfTheHash() throws {
        var manifest = try Fixture.parse(Fixture.yaml())
        let hash = manifest.hash
        manifest.file = URL(fileURLWithPath: "/work/project/manifests/m.yaml")
        manifest.localCopies = ["runs/pre.ckpt": URL(fileURLWithPath: "/tmp/w/abc/pre.ckpt")]
        XCTAssertEqual(manifest.resolve("runs/pre.ckpt").path, "/tmp/w/abc/pre.ckpt")
        XCTAssertEqual(manifest.resolve("runs/other.ckpt").path, "/work/project/manifests/runs/other.ckpt")
        XCTAssertEqual(manifest.hash, hash)
    }

    func testCheckpointPathsListEachFineTuningCheckpointOnce() throws {
        var manifest = try Fixture.parse(Fixture.yaml())
        XCTAssertEqual(manifest.checkpointPaths, [])
        let model = manifest.models[0]
        manifest.models = [model, model, model, model].enumerated().map { index, spec in
            var spec = spec
            spec.name = "m\(index)"
            spec.finetune = index == 3 ? nil : FineTuneSpec(checkpoint: index == 1 ? "b.ckpt" : "a.ckpt")
            return spec
        }
        XCTAssertEqual(manifest.checkpointPaths, ["a.ckpt", "b.ckpt"])
    }

    func testLoadRecordsTheFileAndNamesItInErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("exp.yaml")
        try Fixture.yaml().write(to: url, atomically: true, encoding: .utf8)
        let manifest = try Manifest.load(url)
        XCTAssertEqual(manifest.file?.lastPathComponent, "exp.yaml")
        XCTAssertEqual(manifest.resolve("train.csv").deletingLastPathComponent().lastPathComponent, folder.lastPathComponent)

        try Fixture.yaml(model: ["epochs: 0"]).replacingOccurrences(of: "    epochs: 3\n", with: "")
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Manifest.load(url)) { error in
            XCTAssertEqual((error as? ManifestError)?.file, url.path)
            XCTAssertEqual((error as? ManifestError)?.keyPath, "models[0].epochs")
        }
        let missing = folder.appendingPathComponent("none.yaml")
        XCTAssertThrowsError(try Manifest.load(missing)) { error in
            XCTAssertEqual((error as? ManifestError)?.file, missing.path)
            XCTAssertTrue((error as? ManifestError)?.message.hasPrefix("cannot read the manifest") ?? false)
        }
    }

    /// Every example in manifests/ must load: they are the documentation users copy from.
    func testEveryShippedManifestValidates() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("manifests").resolvingSymlinksInPath()
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
        XCTAssertFalse(files.isEmpty, "no manifests found in \(folder.path)")
        for file in files {
            XCTAssertNoThrow(try Manifest.load(file), file.lastPathComponent)
        }
    }

    func testDigitsManifest() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let manifest = try Manifest.load(root.appendingPathComponent("manifests/digits.yaml"))
        XCTAssertEqual(manifest.data.imageHeight, 16)
        XCTAssertEqual(manifest.data.imageWidth, 16)
        XCTAssertEqual(manifest.data.sampleSubmission, "../data/digits/sample_submission.csv")
        XCTAssertEqual(manifest.resolve(manifest.data.trainCSV).path,
                       root.appendingPathComponent("data/digits/train.csv").standardizedFileURL.path)
        XCTAssertEqual(manifest.cv, CVSection(folds: 5, seeds: [0, 1], stratify: true))
        XCTAssertEqual(manifest.cluster, ClusterSection())
        // Pinned: a change to how the hash is computed would orphan every stored experiment.
        XCTAssertEqual(manifest.hash, "86f9a40d7206ed16")
        let data = manifest.data
        for path in [data.trainCSV, data.trainImages, data.testImages, data.sampleSubmission, data.testLabels] {
            let resolved = manifest.resolve(try XCTUnwrap(path)).path
            XCTAssertTrue(FileManager.default.fileExists(atPath: resolved), "\(resolved) does not exist")
        }
        let model = try XCTUnwrap(manifest.model(named: "resnet"))
        XCTAssertEqual(model.loss, LossSpec(name: .crossEntropy, labelSmoothing: 0.05))
        XCTAssertEqual(model.schedule, ScheduleSpec(name: .onecycle, pctStart: 0.15, divFactor: 10))
        XCTAssertEqual(model.augment, AugmentSpec(cropPadding: 1))
        XCTAssertEqual(model.lr, 2e-3)
        XCTAssertEqual(model.epochs, 8)
        XCTAssertEqual(model.batchSize, 16)
    }

    func testDataFolderIsTheDeepestFolderHoldingEveryDataPath() throws {
        var manifest = try Fixture.parse(Fixture.yaml(data: ["test_labels: labels/held_out.csv"]))
        manifest.file = URL(fileURLWithPath: "/projects/comp/manifests/test.yaml")
        XCTAssertEqual(manifest.dataFolder.path, "/projects/comp/manifests")
        manifest.data.trainCSV = "../data/train.csv"
        manifest.data.trainImages = "../data/train"
        manifest.data.testImages = "../data/test"
        manifest.data.sampleSubmission = "../data/sample_submission.csv"
        manifest.data.testLabels = "../data/extra/held_out.csv"
        XCTAssertEqual(manifest.dataFolder.path, "/projects/comp/data")
    }

    func testDataRootMovesPathsUnderTheDataFolderOnlyAndKeepsTheHash() throws {
        var manifest = try Fixture.parse(Fixture.yaml())
        manifest.file = URL(fileURLWithPath: "/coordinator/exp/manifests/test.yaml")
        manifest.data.trainCSV = "../data/train.csv"
        manifest.data.trainImages = "../data/images/train"
        manifest.data.testImages = "../data/images/test"
        manifest.data.sampleSubmission = "../data/sample_submission.csv"
        let mapped = manifest.mappingDataFolder(to: URL(fileURLWithPath: "/scratch/digits"))
        XCTAssertEqual(mapped.resolve(mapped.data.trainCSV).path, "/scratch/digits/train.csv")
        XCTAssertEqual(mapped.resolve(mapped.data.trainImages).path, "/scratch/digits/images/train")
        XCTAssertEqual(mapped.resolve("/elsewhere/file.csv").path, "/elsewhere/file.csv")
        // A sibling whose name merely starts with the folder's is not inside it.
        XCTAssertEqual(mapped.resolve("../database.csv").path, "/coordinator/exp/database.csv")
        XCTAssertEqual(mapped.hash, manifest.hash)
        XCTAssertEqual(mapped.canonicalJSON(), manifest.canonicalJSON())
    }
}
