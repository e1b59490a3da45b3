import Foundation

/// exp of four doubles at once, for the softmax of the logistic stacker: the
/// C library's exp, called once per value, took as long as the rest of an
/// objective evaluation. Cody–Waite range reduction x = n·ln 2 + r with
/// |r| ≤ ln 2 / 2, a degree-13 Taylor polynomial in r (truncation error below
/// 2e-16 relative) in Horner form with fused multiply-adds, then 2^n from the
/// exponent bits. Within a few ulps of exp for −708 ≤ x ≤ 709; below −708 it
/// returns exp(−708) ≈ 3e-308 instead of a subnormal or 0, which no softmax
/// sum (at least 1) can tell apart.
@inline(__always)
func exponential(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let clamped = x.replacing(with: -708, where: x .< -708).replacing(with: 709, where: x .> 709)
    // Adding 1.5·2^52 rounds x·log2(e) to the nearest integer n and leaves n
    // in the low bits of the sum, so 2^n is built with integer vector operations.
    let shifter = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5·2^52, bits 0x4338_0000_0000_0000
    let shifted = shifter.addingProduct(clamped, SIMD4(repeating: 1.4426950408889634))
    let n = shifted - shifter
    // ln 2 in two parts: the high part has trailing zero bits, so n·high is exact.
    var r = clamped.addingProduct(n, SIMD4(repeating: -6.93147180369123816490e-01))
    r = r.addingProduct(n, SIMD4(repeating: -1.90821492927058770002e-10))
    var p = SIMD4<Double>(repeating: 1.0 / 6_227_020_800)             // 1/13!
    p = SIMD4(repeating: 1.0 / 479_001_600).addingProduct(p, r)       // 1/12!
    p = SIMD4(repeating: 1.0 / 39_916_800).addingProduct(p, r)        // 1/11!
    p = SIMD4(repeating: 1.0 / 3_628_800).addingProduct(p, r)         // 1/10!
    p = SIMD4(repeating: 1.0 / 362_880).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 40_320).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 5_040).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 720).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 120).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 24).addingProduct(p, r)
    p = SIMD4(repeating: 1.0 / 6).addingProduct(p, r)
    p = SIMD4(repeating: 0.5).addingProduct(p, r)
    p = SIMD4(repeating: 1).addingProduct(p, r)
    p = SIMD4(repeating: 1).addingProduct(p, r)
    // The shifted sum's bits are 0x4338_0000_0000_0000 + n: replace that offset by the exponent bias 1023.
    let biased = unsafeBitCast(shifted, to: SIMD4<UInt64>.self) &+ SIMD4(repeating: 1023 &- 0x4338_0000_0000_0000)
    return p * unsafeBitCast(biased &<< 52, to: SIMD4<Double>.self)
}

/// Σ log(values[i]) over values ≥ 1 as one logarithm: the product is kept as
/// significand × 2^exponent (renormalised after every factor from its bits,
/// so it never overflows), and one call to log replaces one per value.
struct LogSum {
    private var significand = 1.0
    private var exponent = 0

    @inline(__always)
    mutating func add(_ value: Double) {
        let bits = (significand * value).bitPattern
        exponent += Int(bits >> 52) - 1023
        significand = Double(bitPattern: bits & 0x000F_FFFF_FFFF_FFFF | 0x3FF0_0000_0000_0000)
    }

    var total: Double { log(significand) + Double(exponent) * 0.6931471805599453 }
}
