#pragma once
// Row-major single-precision GEMM straight from BLAS (libblas.so.3: OpenBLAS
// after scripts/setup.sh), for matrices LibTorch cannot take without a copy:
// a head's Q, K or V is a [S, head_dim] block with row stride 3H inside the
// fused projection's output. Called from inside at::parallel_for, OpenBLAS's
// OpenMP build runs each call on the calling thread.
#include <cstdint>

namespace bf::model::fused {

// C[m, n] = alpha * op(A) * op(B) + beta * C, every matrix row-major with its
// row stride (lda, ldb, ldc); op(X) = X^T when trans_x.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace bf::model::fused
