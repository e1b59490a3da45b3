import Foundation

/// One experiment: the data, how it is split, the score, and the base models to train.
/// Loaded strictly: any unknown key, wrong type or out-of-range value is a `ManifestError`.
public struct Manifest: Sendable, Equatable, Codable {
    public var name: String
    public var data: DataSection
    public var cv: CVSection
    public var metric: MetricName
    public var models: [ModelSpec]
    /// Retries and heartbeats of a distributed run. In the canonical JSON but not in `hash`.
    public var cluster: ClusterSection
    /// The level-2 stage (blends, stackers); nil: none.
    public var ensemble: EnsembleSection?
    /// Labels or probabilities in `submission.csv`. Not in `hash`; in the canonical JSON only when not the default.
    public var submission: SubmissionSection
    /// Where the manifest was loaded from; relative data paths resolve against its folder.
    /// Not part of the canonical JSON, so moving a project does not change its hash.
    public var file: URL?
    /// A worker's `--data-root`: resolved data paths under the coordinator's data
    /// folder move under this machine's. Not part of the canonical JSON either.
    public var dataRoot: DataRootMapping?
    /// A worker's copies of files the coordinator sent with the manifest (fine-tuning
    /// checkpoints), by the path the manifest writes: `resolve` returns the copy.
    /// Not part of the canonical JSON either.
    public var localCopies: [String: URL] = [:]

    private enum CodingKeys: String, CodingKey {
        case name, data, cv, metric, models, cluster, ensemble, submission
    }

    public init(name: String, data: DataSection, cv: CVSection = CVSection(), metric: MetricName = .accuracy,
                models: [ModelSpec], cluster: ClusterSection = ClusterSection(), ensemble: EnsembleSection? = nil,
                submission: SubmissionSection = SubmissionSection(), file: URL? = nil) {
        self.ensemble = ensemble
        self.submission = submission
        self.name = name
        self.data = data
        self.cv = cv
        self.metric = metric
        self.models = models
        self.cluster = cluster
        self.file = file
    }

    /// JSON stored before the `cluster` section existed has none: it reads as the defaults.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try container.decode(String.self, forKey: .name),
                  data: try container.decode(DataSection.self, forKey: .data),
                  cv: try container.decode(CVSection.self, forKey: .cv),
                  metric: try container.decode(MetricName.self, forKey: .metric),
                  models: try container.decode([ModelSpec].self, forKey: .models),
                  cluster: try container.decodeIfPresent(ClusterSection.self, forKey: .cluster) ?? ClusterSection(),
                  ensemble: try container.decodeIfPresent(EnsembleSection.self, forKey: .ensemble),
                  submission: try container.decodeIfPresent(SubmissionSection.self, forKey: .submission) ?? SubmissionSection())
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(data, forKey: .data)
        try container.encode(cv, forKey: .cv)
        try container.encode(metric, forKey: .metric)
        try container.encode(models, forKey: .models)
        if encoder.userInfo[Self.omitsClusterKey] as? Bool != true {
            try container.encode(cluster, forKey: .cluster)
            try container.encodeIfPresent(ensemble, forKey: .ensemble)
            // The default is left out, so manifests without the key keep their canonical JSON.
            if submission != SubmissionSection() { try container.encode(submission, forKey: .submission) }
        }
    }

    /// Set in an encoder's `userInfo` to leave `cluster`, `ensemble` and `submission` out, as `hash` does.
    private static var omitsClusterKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "foldwise.omitsCluster")! }

    public static func load(_ url: URL) throws -> Manifest {
        var manifest = try parse(yaml: ManifestFile.text(url), file: url.path)
        manifest.file = url.standardizedFileURL
        return manifest
    }

    /// Parses YAML text; `file` is only used to name the source in errors.
    public static func parse(yaml: String, file: String) throws -> Manifest {
        guard let root = try ValueNode.root(yaml: yaml, file: file) else {
            throw ManifestError(file: file, line: nil, keyPath: "", message: "the manifest is empty",
                                fix: "start from manifests/digits.yaml and docs/MANIFEST.md")
        }
        return try read(root)
    }

    public func model(named name: String) -> ModelSpec? {
        models.first { $0.name == name }
    }

    /// Every fine-tuning checkpoint the models name, once each, in model order:
    /// the files a coordinator sends its workers with the manifest.
    public var checkpointPaths: [String] {
        var seen = Set<String>()
        return models.compactMap { $0.finetune?.checkpoint }.filter { seen.insert($0).inserted }
    }

    /// A file the coordinator sent is its local copy. Otherwise an absolute path
    /// (or `~/...`) stays; a relative one is taken from the manifest's folder, or
    /// from the current directory when the manifest was not loaded from a file.
    public func resolve(_ path: String) -> URL {
        if let copy = localCopies[path] { return copy }
        let resolved = resolveWithoutDataRoot(path)
        return dataRoot?.map(resolved) ?? resolved
    }

    private func resolveWithoutDataRoot(_ path: String) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        let base = file?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL.absoluteURL
    }

    /// The deepest folder that holds every file and folder the data section names
    /// (e.g. `data/digits`): what a worker's `--data-root` stands for.
    public var dataFolder: URL {
        let d = data
        let paths = [d.trainCSV, d.trainImages, d.testImages, d.testCSV, d.sampleSubmission, d.testLabels]
            .compactMap { $0 }.map { resolveWithoutDataRoot($0).pathComponents }
        var common = paths[0]
        for components in paths.dropFirst() {
            common = Array(zip(common, components).prefix { $0 == $1 }.map(\.0))
        }
        // A single data path is a file: its folder is the root.
        if paths.count == 1 || paths.contains(common) { common = Array(common.dropLast()) }
        return URL(fileURLWithPath: NSString.path(withComponents: common.isEmpty ? ["/"] : common), isDirectory: true)
    }

    /// This manifest with its data folder mapped onto `localRoot` (a worker's `--data-root`).
    public func mappingDataFolder(to localRoot: URL) -> Manifest {
        var mapped = self
        mapped.dataRoot = DataRootMapping(from: dataFolder, to: localRoot.standardizedFileURL)
        return mapped
    }

    /// The manifest with every default filled in, as JSON with sorted snake_case keys: what is
    /// stored with an experiment and sent to workers. Paths appear as written.
    public func canonicalJSON() -> String {
        canonicalJSON(omittingCluster: false)
    }

    /// Without `cluster` this is exactly the canonical JSON from before that section existed,
    /// so old experiments keep their hash.
    private func canonicalJSON(omittingCluster: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.userInfo[Self.omitsClusterKey] = omittingCluster
        guard let bytes = try? encoder.encode(self), let text = String(data: bytes, encoding: .utf8) else {
            preconditionFailure("a Manifest holds only finite numbers and strings, so it always encodes")
        }
        return text
    }

    /// 64-bit FNV-1a of the canonical JSON without `cluster`, `ensemble` and `submission`, as 16
    /// hex digits; tasks are keyed by it. Retry and heartbeat settings, the level-2 stage and the
    /// submission's format do not change what the base models learn, so they stay out.
    public var hash: String {
        let hex = String(Self.fnv1a(canonicalJSON(omittingCluster: true)), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Reads JSON written by `canonicalJSON()` back (its keys are snake_case).
    public static func fromCanonicalJSON(_ json: String) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Manifest.self, from: Data(json.utf8))
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }
}

/// Moves paths under one folder to the same place under another.
public struct DataRootMapping: Sendable, Equatable {
    public var from: URL
    public var to: URL

    public init(from: URL, to: URL) { (self.from, self.to) = (from, to) }

    public func map(_ url: URL) -> URL {
        let (base, path) = (from.standardizedFileURL.path, url.path)
        guard path == base || path.hasPrefix(base.hasSuffix("/") ? base : base + "/") else { return url }
        let rest = path.dropFirst(base.count).drop { $0 == "/" }
        return rest.isEmpty ? to : to.appendingPathComponent(String(rest))
    }
}

extension Manifest {
    static let keys = ["name", "data", "cv", "metric", "models", "cluster", "ensemble", "submission"]

    static func read(_ root: ValueNode) throws -> Manifest {
        let map = try root.mapping()
        try map.checkKeys(keys, section: "the manifest")
        let name = try readName(map.required("name", example: "name: my-competition"))
        let data = try DataSection.read(map.required("data", example: "data: {train_csv: train.csv, ...}"))
        let cv = try CVSection.read(map.optional("cv"))
        let metric = try MetricName.read(map.optional("metric"))
        let modelsNode = try map.required("models", example: "models: [{name: resnet, arch: resnet_ref, ...}]")
        let modelNodes = try modelsNode.list()
        try modelsNode.require(!modelNodes.isEmpty, "`models` is an empty list", fix: "list at least one model")
        var models: [ModelSpec] = []
        for node in modelNodes {
            let model = try ModelSpec.read(node)
            if let index = models.firstIndex(where: { $0.name == model.name }) {
                let nameNode = try node.mapping().required("name", example: "name: \(model.name)")
                throw nameNode.error("model name `\(model.name)` is already used by models[\(index)]",
                                     fix: "give every model its own name, e.g. `\(model.name)-2`")
            }
            models.append(model)
        }
        let cluster = try ClusterSection.read(map.optional("cluster"))
        let ensemble = try map.optional("ensemble").map { try EnsembleSection.read($0, models: models) }
        return Manifest(name: name, data: data, cv: cv, metric: metric, models: models, cluster: cluster, ensemble: ensemble,
                        submission: try SubmissionSection.read(map.optional("submission")))
    }

    /// The experiment's name becomes the folder `runs/<name>`: one plain path component.
    private static func readName(_ node: ValueNode) throws -> String {
        let name = try node.nonEmptyString()
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        try node.require(name.count <= 100 && !name.hasPrefix(".") && name.allSatisfy(allowed.contains),
                         "`name` must be a plain name of at most 100 letters, digits, `-`, `_` or `.` (it becomes the folder runs/<name>), "
                         + "found \"\(name.prefix(120))\"",
                         fix: "write letters, digits, `-` or `_`, without `/`, `..` or a leading `.`, e.g. name: digits")
        return name
    }
}
