/// Bilinear resizing with pixel centres aligned (OpenCV's INTER_LINEAR and
/// PyTorch's align_corners=False): output pixel x samples the input at
/// (x + 0.5) * inWidth / outWidth - 0.5, clamped to the image.
public enum Resize {
    /// HWC bytes to CHW floats in 0...255 of size outHeight × outWidth.
    public static func bilinear(_ image: DecodedImage, height outHeight: Int, width outWidth: Int) -> [Float] {
        let (H, W, C) = (image.height, image.width, image.components)
        let xTaps = taps(input: W, output: outWidth)
        let yTaps = taps(input: H, output: outHeight)
        var output = [Float](repeating: 0, count: C * outHeight * outWidth)
        for c in 0..<C {
            for y in 0..<outHeight {
                let (y0, y1, wy) = yTaps[y]
                for x in 0..<outWidth {
                    let (x0, x1, wx) = xTaps[x]
                    let top = lerp(Float(image.pixels[(y0 * W + x0) * C + c]), Float(image.pixels[(y0 * W + x1) * C + c]), wx)
                    let bottom = lerp(Float(image.pixels[(y1 * W + x0) * C + c]), Float(image.pixels[(y1 * W + x1) * C + c]), wx)
                    output[(c * outHeight + y) * outWidth + x] = lerp(top, bottom, wy)
                }
            }
        }
        return output
    }

    /// For each output coordinate: the two input neighbours and the weight of the second.
    static func taps(input: Int, output: Int) -> [(Int, Int, Float)] {
        let scale = Double(input) / Double(output)
        return (0..<output).map { position in
            let source = min(max((Double(position) + 0.5) * scale - 0.5, 0), Double(input - 1))
            let lower = Int(source)
            return (lower, min(lower + 1, input - 1), Float(source - Double(lower)))
        }
    }

    private static func lerp(_ a: Float, _ b: Float, _ t: Float) -> Float {
        a + (b - a) * t
    }
}
