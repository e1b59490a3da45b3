// Copies between channel ranges of [N, C, …] tensors, for layers that split
// or join along the channel axis (IBN, dual pooling). `inner` is the number
// of values per channel of one sample (H·W, or 1 for [N, C]).

/// y[n, offset + c, :] = x[n, range.lowerBound + c, :] for c in 0..<range.count;
/// x has `xChannels` channels, y has `yChannels`; the rest of y is left as it is.
public func copyChannels(_ x: [Float], xChannels: Int, range: Range<Int>, into y: inout [Float], yChannels: Int,
                         at offset: Int, N: Int, inner: Int) {
    precondition(range.lowerBound >= 0 && range.upperBound <= xChannels && offset >= 0
                 && offset + range.count <= yChannels && x.count == N * xChannels * inner
                 && y.count == N * yChannels * inner,
                 "copyChannels: channels \(range) of \(xChannels) into \(offset)… of \(yChannels) do not fit the buffers")
    let run = range.count * inner
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        for n in 0..<N {
            let source = xb.baseAddress! + (n * xChannels + range.lowerBound) * inner
            (yb.baseAddress! + (n * yChannels + offset) * inner).update(from: source, count: run)
        }
    }}
}
