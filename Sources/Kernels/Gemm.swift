import CBLAS

/// Row-major C = alpha·op(A)·op(B) + beta·C through OpenBLAS.
/// op(A) is M×K, op(B) is K×N, C is M×N.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
           A: UnsafePointer<Float>, lda: Int, B: UnsafePointer<Float>, ldb: Int,
           beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// Public matrix multiply for arrays (tests and small layers):
/// C[M,N] = alpha·op(A)·op(B) + beta·C.
public func matmul(_ a: [Float], _ b: [Float], into c: inout [Float], M: Int, N: Int, K: Int,
                   transA: Bool = false, transB: Bool = false, alpha: Float = 1, beta: Float = 0) {
    precondition(a.count >= M * K && b.count >= K * N && c.count >= M * N,
                 "matmul: buffers too small for M=\(M) N=\(N) K=\(K)")
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                sgemm(transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha,
                      A: pa.baseAddress!, lda: transA ? M : K, B: pb.baseAddress!, ldb: transB ? K : N,
                      beta: beta, C: pc.baseAddress!, ldc: N)
            }
        }
    }
}
