// Inverted dropout as a pure elementwise multiply by a precomputed mask.
// The mask holds 0 (dropped) or 1/(1-p) (kept); it is drawn by the Engine's
// Dropout layer from its own seeded stream, since randomness lives in Engine.

/// output = input · mask, elementwise.
public func dropoutForward(input: [Float], mask: [Float], output: inout [Float]) {
    precondition(input.count == mask.count && output.count == mask.count,
                 "dropoutForward: input \(input.count), mask \(mask.count), output \(output.count) values must match")
    multiply(input, mask, into: &output)
}

/// dInput (overwritten) = dOutput · mask, elementwise.
public func dropoutBackward(dOutput: [Float], mask: [Float], dInput: inout [Float]) {
    precondition(dOutput.count == mask.count && dInput.count == mask.count,
                 "dropoutBackward: dOutput \(dOutput.count), mask \(mask.count), dInput \(dInput.count) values must match")
    multiply(dOutput, mask, into: &dInput)
}

@inline(__always)
private func multiply(_ a: [Float], _ b: [Float], into result: inout [Float]) {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            result.withUnsafeMutableBufferPointer { r in
                for i in 0..<r.count { r[i] = a[i] * b[i] }
            }
        }
    }
}
