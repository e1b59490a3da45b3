import Foundation

/// A seeded generator (xoshiro256**, seeded through SplitMix64). There is no
/// global generator in Foldwise: every stream (weights, shuffling, augmentation,
/// dropout) is created from the fields of the task that uses it.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A stream derived from several fields, e.g. (seed, fold, epoch, purpose).
    public init(_ fields: UInt64...) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for f in fields {
            h = (h ^ f) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        self.init(seed: h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [lower, upper).
    public mutating func uniform(_ lower: Float, _ upper: Float) -> Float {
        lower + (upper - lower) * nextFloat()
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(nextFloat(), 1e-7)
        let u2 = nextFloat()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    /// Uniform integer in 0..<bound.
    public mutating func int(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}

/// A stable 64-bit hash of a string (FNV-1a), for deriving seeds from names.
public func stableHash(_ string: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in string.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    return h
}
