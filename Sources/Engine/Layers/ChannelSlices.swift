import Kernels

/// Channel-axis slicing and joining for [N, C, …] tensors.
extension Tensor {
    /// Values per channel of one sample: H·W for NCHW, 1 for [N, C].
    var valuesPerChannel: Int { shape.dropFirst(2).reduce(1, *) }

    /// Channels `range` of this tensor.
    func channels(_ range: Range<Int>) -> Tensor {
        var part = Tensor(uninitialized: [shape[0], range.count] + shape.dropFirst(2))
        copyChannels(scalars, xChannels: shape[1], range: range, into: &part.scalars, yChannels: range.count, at: 0,
                     N: shape[0], inner: valuesPerChannel)
        return part
    }

    /// `parts` side by side along the channel axis; they agree in every other dimension.
    init(concatenatingChannels parts: [Tensor]) {
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        let first = parts[0]
        self.init(uninitialized: [first.shape[0], total] + first.shape.dropFirst(2))
        var offset = 0
        for part in parts {
            precondition(part.shape[0] == first.shape[0] && part.shape.dropFirst(2) == first.shape.dropFirst(2),
                         "concatenatingChannels: \(part.shape) does not fit beside \(first.shape)")
            copyChannels(part.scalars, xChannels: part.shape[1], range: 0..<part.shape[1], into: &scalars,
                         yChannels: total, at: offset, N: first.shape[0], inner: valuesPerChannel)
            offset += part.shape[1]
        }
    }
}
