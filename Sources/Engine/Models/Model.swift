import Kernels

/// Where a parameter sits, for fine-tuning (freezing, per-part learning rates):
/// the stem, one of the backbone's stages (numbered from 1), or the head
/// (pooling parameters such as GeM's p, the neck and the classifier).
public enum ModelPart: Hashable, Sendable {
    case stem
    case stage(Int)
    case head
}

/// A classifier network split into the parts fine-tuning treats differently;
/// the network runs stem, stages and head in that order.
public struct NetworkLayout {
    public let stem: any Layer
    public let stages: [any Layer]
    public let head: any Layer

    public init(stem: any Layer, stages: [any Layer], head: any Layer) {
        (self.stem, self.stages, self.head) = (stem, stages, head)
    }
}

/// A classifier network and its parameters: images [N, C, H, W] to logits [N, K].
public final class Model {
    public let architecture: String
    public let network: any Layer
    public let parameters: ParameterStore
    public let classes: Int
    /// Stages between the stem and the head.
    public let stageCount: Int
    private let parts: [String: ModelPart]
    /// The layout of the network's last output, before Model handed it out as nchw.
    private var outputLayout = ActivationLayout.nchw

    /// A network built from a layout: `part(of:)` knows every parameter's part.
    public init(architecture: String, layout: NetworkLayout, classes: Int) {
        self.architecture = architecture
        self.network = Sequential([layout.stem] + layout.stages + [layout.head])
        self.parameters = ParameterStore(network.parameters)
        self.classes = classes
        self.stageCount = layout.stages.count
        var parts: [String: ModelPart] = [:]
        for p in layout.stem.parameters { parts[p.name] = .stem }
        for (i, stage) in layout.stages.enumerated() { for p in stage.parameters { parts[p.name] = .stage(i + 1) } }
        for p in layout.head.parameters { parts[p.name] = .head }
        self.parts = parts
        network.allowBlockedActivations()
    }

    /// A network with no stem or head of its own (e.g. in tests): all of it counts as one stage.
    public convenience init(architecture: String, network: any Layer, classes: Int) {
        self.init(architecture: architecture, layout: NetworkLayout(stem: Sequential([]), stages: [network],
                                                                    head: Sequential([])),
                  classes: classes)
    }

    /// The network's output, nchw: blocked activations stay inside the network.
    public func forward(_ images: Tensor, mode: Mode) -> Tensor {
        let output = network.forward(images, mode: mode)
        outputLayout = output.layout
        return output.converted(to: .nchw)
    }

    /// Backward from dLoss/dLogits; adds into every parameter's gradient.
    public func backward(_ dLogits: Tensor) { _ = network.backward(dLogits.converted(to: outputLayout)) }

    /// The part holding the parameter or buffer of that name.
    public func part(of parameterName: String) -> ModelPart {
        guard let part = parts[parameterName] else {
            preconditionFailure("Model \(architecture): no parameter named \(parameterName)")
        }
        return part
    }
}

/// What ModelRegistry builds: a backbone family with its settings, each with a head.
public enum ArchitectureConfig: Sendable, Equatable {
    /// Residual networks of basic or bottleneck (ResNeXt) blocks.
    case resnet(ResNetConfig)
    case efficientNet(EfficientNetConfig)

    public var head: HeadConfig {
        get {
            switch self {
            case .resnet(let config): return config.head
            case .efficientNet(let config): return config.head
            }
        }
        set {
            switch self {
            case .resnet(var config): config.head = newValue; self = .resnet(config)
            case .efficientNet(var config): config.head = newValue; self = .efficientNet(config)
            }
        }
    }
}

/// Builds models by architecture name: the ResNets `resnet_ref`, `resnet18`,
/// `resnet34` and `resnet` (custom stages), the ResNeXts `resnext` (custom) and
/// `se_resnext` (a small fixed SE-ResNeXt), and `efficientnet_b0`.
public enum ModelRegistry {
    public static let names = ["resnet_ref", "resnet18", "resnet34", "resnet", "resnext", "se_resnext", "efficientnet_b0"]

    /// The named residual network's default configuration (`resnet` and
    /// `resnext` have none of their own: they need widths and blocks).
    public static func defaultConfig(for name: String) -> ResNetConfig? {
        switch name {
        case "resnet_ref": return .resnetRef
        case "resnet18": return .resnet18
        case "resnet34": return .resnet34
        case "se_resnext": return .seResNeXt
        default: return nil
        }
    }

    /// The named architecture's default configuration, of any family.
    public static func defaultArchitecture(for name: String) -> ArchitectureConfig? {
        if name == "efficientnet_b0" { return .efficientNet(.b0) }
        return defaultConfig(for: name).map { .resnet($0) }
    }

    public static func make(name: String, config: ArchitectureConfig, inputChannels: Int, classes: Int,
                            seed: UInt64) -> Model {
        let layout = switch config {
        case .resnet(let resnet): resNetLayout(resnet, inputChannels: inputChannels, classes: classes, seed: seed)
        case .efficientNet(let efficientNet):
            efficientNetLayout(efficientNet, inputChannels: inputChannels, classes: classes, seed: seed)
        }
        return Model(architecture: name, layout: layout, classes: classes)
    }

    public static func make(name: String, config: ResNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> Model {
        make(name: name, config: .resnet(config), inputChannels: inputChannels, classes: classes, seed: seed)
    }
}
