import Kernels

/// A dense Float32 array with a shape; images are NCHW. A value type: copies
/// share storage until one of them is written (Swift's copy-on-write arrays).
/// `shape` is always the logical [N, C, H, W]; `layout` says how the values lie
/// (oneDNN's blocked layout between the layers it runs, see ActivationLayout).
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var scalars: [Float]
    public var layout: ActivationLayout = .nchw {
        didSet {
            precondition(layout == .nchw || (shape.count == 4 && layout.fits(channels: shape[1])),
                         "Tensor: \(shape) cannot be laid out as \(layout)")
        }
    }

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Storage whose contents the caller promises to overwrite completely.
    public init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(layout == .nchw, "Tensor.reshaped: a \(layout) tensor must be converted to nchw first")
        return Tensor(shape: newShape, scalars: scalars)
    }

    /// The same values laid out as `target` (self when already so).
    public func converted(to target: ActivationLayout) -> Tensor {
        guard target != layout else { return self }
        var t = Tensor(shape: shape, scalars: reorderActivations(scalars, shape: shape, from: layout, to: target))
        t.layout = target
        return t
    }

    /// Storage for a result laid out like `self` (shape and layout), to be overwritten completely.
    public func uninitializedLike() -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.layout = layout
        return t
    }

    public subscript(index: Int) -> Float {
        get { scalars[index] }
        set { scalars[index] = newValue }
    }
}

/// Whether layers behave as in training (batch statistics, dropout on) or inference.
public enum Mode: Sendable {
    case train
    case eval
}
