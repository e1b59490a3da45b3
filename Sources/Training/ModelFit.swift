import Engine
import Manifests

/// Refuses an `image_size` under half a model's total downsampling: its feature
/// maps would reach one pixel two or more stride-2 steps before the end, so its
/// last stages would see little but padding and the model would score near
/// chance instead of failing. (Half, not all of it: B0 at 16 px, one stage on a
/// single pixel, still learns the digits.)
public enum ModelFit {
    /// How many input pixels one pixel of the network's last feature map spans, per side.
    static func downsampling(_ architecture: ArchitectureConfig) -> Int {
        switch architecture {
        case .resnet(let config):
            // Stride 2 from the second stage on; an ImageNet stem (conv 7×7 /2 + pool /2) divides by 4 first.
            return (config.stem == .conv7Pool ? 4 : 1) << max(0, config.widths.count - 1)
        case .efficientNet:
            return 32  // a stride-2 stem and four stride-2 stages (B0's layout)
        }
    }

    public static func check(_ manifest: Manifest) throws {
        let d = manifest.data
        for model in manifest.models {
            let factor = downsampling(Components.architecture(model.arch))
            let smallest = max(1, factor / 2)
            guard min(d.imageHeight, d.imageWidth) < smallest else { continue }
            throw ManifestError(file: manifest.file?.path ?? "the manifest", line: nil, keyPath: "data.image_size",
                                message: "image_size \(d.imageHeight)×\(d.imageWidth) is too small for model \(model.name), which "
                                    + "downsamples \(factor)×: its last stages would see single pixels of padding",
                                fix: "use an image_size of at least \(smallest), or a network that downsamples less "
                                    + "(fewer `widths` stages, `stem: conv3`, or resnet_ref)")
        }
    }
}
