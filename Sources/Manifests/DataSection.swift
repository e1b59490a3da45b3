import Foundation

/// Where the competition's files are and how images are shaped and normalised.
/// Paths are kept as written; `Manifest.resolve` turns them into URLs.
public struct DataSection: Sendable, Equatable, Codable {
    public var trainCSV: String
    public var trainImages: String
    public var testImages: String
    /// Exactly one of `testCSV` (the test ids) and `sampleSubmission` (ids plus the submission's columns) is set.
    public var testCSV: String?
    public var sampleSubmission: String?
    /// Optional held-out labels (id,label) for scoring the test set.
    public var testLabels: String?
    public var idColumn: String
    public var labelColumn: String
    /// File extension without the dot; nil means detect it from the image folder.
    public var imageExtension: String?
    public var imageHeight: Int
    public var imageWidth: Int
    public var channels: Int
    /// Per-channel normalisation, `channels` values each: (pixel / 255 - mean) / std.
    public var mean: [Float]
    public var std: [Float]
    /// `max_image_pixels`: larger images are refused from their header; nil is the
    /// default (and keeps the key out of the canonical JSON, so hashes do not change).
    public var maxImagePixels: Int?
    /// The pixel limit in force: 40 megapixels unless the manifest raises or lowers it.
    public var imagePixelLimit: Int { maxImagePixels ?? 40_000_000 }

    /// Raw values chosen so `canonicalJSON`'s snake_case strategy writes `train_csv`, not `train_c_s_v`.
    private enum CodingKeys: String, CodingKey {
        case trainCSV = "trainCsv", trainImages, testImages, testCSV = "testCsv", sampleSubmission, testLabels
        case idColumn, labelColumn, imageExtension, imageHeight, imageWidth, channels, mean, std, maxImagePixels
    }

    public init(trainCSV: String, trainImages: String, testImages: String, testCSV: String? = nil,
                sampleSubmission: String? = nil, testLabels: String? = nil, idColumn: String = "id",
                labelColumn: String = "label", imageExtension: String? = nil, imageHeight: Int, imageWidth: Int,
                channels: Int, mean: [Float]? = nil, std: [Float]? = nil) {
        self.trainCSV = trainCSV
        self.trainImages = trainImages
        self.testImages = testImages
        self.testCSV = testCSV
        self.sampleSubmission = sampleSubmission
        self.testLabels = testLabels
        self.idColumn = idColumn
        self.labelColumn = labelColumn
        self.imageExtension = imageExtension
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.channels = channels
        self.mean = mean ?? Array(repeating: 0.5, count: channels)
        self.std = std ?? Array(repeating: 0.5, count: channels)
    }
}

extension DataSection {
    static let keys = ["train_csv", "train_images", "test_images", "test_csv", "sample_submission", "test_labels",
                       "id_column", "label_column", "image_extension", "image_size", "channels", "mean", "std",
                       "max_image_pixels"]

    static func read(_ value: ValueNode) throws -> DataSection {
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`data`")
        let channels = try readChannels(map)
        let (height, width) = try readImageSize(map.required("image_size", example: "image_size: 28"))
        var data = DataSection(
            trainCSV: try map.required("train_csv", example: "train_csv: train.csv").nonEmptyString(),
            trainImages: try map.required("train_images", example: "train_images: train").nonEmptyString(),
            testImages: try map.required("test_images", example: "test_images: test").nonEmptyString(),
            testLabels: try map.optional("test_labels")?.nonEmptyString(),
            imageHeight: height, imageWidth: width, channels: channels,
            mean: try map.optional("mean").map { try readPerChannel($0, channels: channels, positive: false) },
            std: try map.optional("std").map { try readPerChannel($0, channels: channels, positive: true) })
        (data.testCSV, data.sampleSubmission) = try readTestList(map)
        data.idColumn = try map.optional("id_column")?.nonEmptyString() ?? data.idColumn
        data.labelColumn = try map.optional("label_column")?.nonEmptyString() ?? data.labelColumn
        if data.idColumn == data.labelColumn, let label = map.optional("label_column") ?? map.optional("id_column") {
            throw label.error("`id_column` and `label_column` are both `\(data.idColumn)`",
                              fix: "name two different columns of train_csv")
        }
        data.imageExtension = try map.optional("image_extension").map(readExtension)
        if let node = map.optional("max_image_pixels") {
            let pixels = try node.int()
            try node.require(pixels >= 1, "`max_image_pixels` must be at least 1, found \(pixels)",
                             fix: "write the largest width × height to decode, e.g. max_image_pixels: 40000000")
            data.maxImagePixels = pixels
        }
        return data
    }

    private static func readChannels(_ map: MappingReader) throws -> Int {
        let node = try map.required("channels", example: "channels: 1")
        let channels = try node.int()
        try node.require([1, 3].contains(channels), "`channels` must be 1 (grey) or 3 (RGB), found \(channels)",
                         fix: "write channels: 1 or channels: 3")
        return channels
    }

    /// `image_size: 28` is square; `image_size: [height, width]` is not.
    private static func readImageSize(_ node: ValueNode) throws -> (height: Int, width: Int) {
        let sides = try node.oneOrList { side in
            let pixels = try side.int()
            try side.require((1...8192).contains(pixels), "an image side must be 1...8192 pixels, found \(pixels)",
                             fix: "write the size images are resized to, e.g. 28")
            return pixels
        }
        try node.require(node.isSequence ? sides.count == 2 : true,
                         "`image_size` as a list needs [height, width], found \(sides.count) values",
                         fix: "write image_size: 28 or image_size: [28, 32]")
        return (sides[0], sides.count == 2 ? sides[1] : sides[0])
    }

    /// One number for every channel, or a list with one per channel.
    private static func readPerChannel(_ node: ValueNode, channels: Int, positive: Bool) throws -> [Float] {
        let values = try node.oneOrList { item in
            let number = try item.float()
            try item.require(!positive || number > 0, "a standard deviation must be > 0, found \(number)",
                             fix: "write a positive number such as 0.5")
            return number
        }
        if !node.isSequence { return Array(repeating: values[0], count: channels) }
        try node.require(values.count == channels, "expected \(channels) values (one per channel), found \(values.count)",
                         fix: "write one number for all channels or a list of \(channels)")
        return values
    }

    private static func readTestList(_ map: MappingReader) throws -> (testCSV: String?, sampleSubmission: String?) {
        let testCSV = try map.optional("test_csv")?.nonEmptyString()
        let sample = try map.optional("sample_submission")?.nonEmptyString()
        if testCSV != nil, sample != nil, let node = map.optional("sample_submission") {
            throw node.error("both `test_csv` and `sample_submission` are set",
                             fix: "keep one: `sample_submission` when the competition gives one, else `test_csv` with the test ids")
        }
        if testCSV == nil, sample == nil {
            throw ManifestError(file: map.value.file, line: map.value.line, keyPath: map.path("sample_submission"),
                                message: "missing the test list: neither `sample_submission` nor `test_csv` is set",
                                fix: "add `sample_submission: sample_submission.csv` (or `test_csv: test.csv`) under `data`")
        }
        return (testCSV, sample)
    }

    private static func readExtension(_ node: ValueNode) throws -> String {
        let text = try node.nonEmptyString()
        let bare = text.hasPrefix(".") ? String(text.dropFirst()) : text
        try node.require(!bare.isEmpty && bare.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) },
                         "`\(text)` is not a file extension", fix: "write e.g. jpg or png, or remove the key to detect it")
        return bare
    }
}
