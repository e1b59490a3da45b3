/// A classifier network and its parameters: images [N, C, H, W] to logits [N, K].
public final class Model {
    public let architecture: String
    public let network: any Layer
    public let parameters: ParameterStore
    public let classes: Int

    public init(architecture: String, network: any Layer, classes: Int) {
        self.architecture = architecture
        self.network = network
        self.parameters = ParameterStore(network.parameters)
        self.classes = classes
    }

    public func forward(_ images: Tensor, mode: Mode) -> Tensor { network.forward(images, mode: mode) }

    /// Backward from dLoss/dLogits; adds into every parameter's gradient.
    public func backward(_ dLogits: Tensor) { _ = network.backward(dLogits) }
}

/// Builds models by architecture name: `resnet_ref`, `resnet18`, `resnet34`, or
/// `resnet` with an explicit configuration.
public enum ModelRegistry {
    public static let names = ["resnet_ref", "resnet18", "resnet34", "resnet"]

    /// The named architecture's default configuration (`resnet` has none of its own: it needs widths and blocks).
    public static func defaultConfig(for name: String) -> ResNetConfig? {
        switch name {
        case "resnet_ref": return .resnetRef
        case "resnet18": return .resnet18
        case "resnet34": return .resnet34
        default: return nil
        }
    }

    public static func make(name: String, config: ResNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> Model {
        Model(architecture: name,
              network: makeResNet(config, inputChannels: inputChannels, classes: classes, seed: seed),
              classes: classes)
    }
}
