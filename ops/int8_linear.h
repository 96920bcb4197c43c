#pragma once
// A linear layer with int8 weights, for decoding: PyTorch's
// quantize_dynamic for one Linear. The weight W (N, K) is quantized once, per
// row; each call quantizes x's rows and sums in int32 (kernels/int8_linear/):
//   y_ij = t_i s_j Σ_k p_ik q_jk + b_j,   x (..., K) -> y (..., N), float32
// About 4x less weight memory and, on AVX512-VNNI, four products per byte
// lane an instruction. No gradient: quantized products are for inference, so
// a call that would record one (grad mode on and x requiring grad) throws.
// Host tensors only (no CUDA body).
#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor/tensor.h"
#include "kernels/int8_linear/int8_linear.h"

namespace tg {

// A float32 matrix W (N, K) on its per-row int8 grid: codes int8 (N, K) in
// [-127, 127] and scales float32 (N), W ≈ W' = codes · scale (each row by its
// own), quantized as Int8Linear::quantize does. The grid is a fixed point
// (kernels/int8_linear/int8_linear.h): quantizing W' again gives the same codes and
// scales bit for bit, so W' stored as int8 loses nothing more.
struct Int8Grid {
  Tensor codes;   // int8 (N, K)
  Tensor scales;  // float32 (N)
};

// W float32 (N, K), finite, host. Throws naming the first non-finite element.
Int8Grid quantize_to_grid(const Tensor& weight);
// W' float32 (N, K) on the host. Throws unless codes are int8 (N, K) in
// [-127, 127] and scales float32 (N), finite and positive; `what` names them.
Tensor dequantize(const Int8Grid& grid, const std::string& what = "int8 grid");

class Int8Linear {
 public:
  Int8Linear() = default;
  // weight (N, K) float32, bias (N) float32 or undefined. Throws on a
  // non-finite weight, naming its row and column.
  static Int8Linear quantize(const Tensor& weight, const Tensor& bias = {});

  Tensor operator()(const Tensor& x) const;

  // The layer restricted to output rows `ids` (int64 (U), host): y's columns
  // are those of the full layer's y, bit for bit (the rows were quantized
  // alone). A vocabulary shortlist's output layer.
  Int8Linear rows(const Tensor& ids) const;

  bool defined() const { return weight_ != nullptr; }
  int64_t in_features() const { return weight_ ? weight_->cols : 0; }
  int64_t out_features() const { return weight_ ? weight_->rows : 0; }
  const kernels::Int8Rows& weight() const { return *weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  std::shared_ptr<const kernels::Int8Rows> weight_;  // shared by copies: it never changes
  Tensor bias_;
};

}  // namespace tg
