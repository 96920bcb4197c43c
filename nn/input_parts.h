#pragma once
// A layer's input projection x Wᵀ + b when x is the concatenation of parts
// [x_0; x_1; ...] of known widths, computed part by part:
//
//   x Wᵀ + b = x_0 W_0ᵀ + (x_1 W_1ᵀ + b) + ...,   W_k = the columns of W that part k meets
//
// so that each part is projected where it becomes known and at the size it
// has: a decoder's embeddings for all T steps in one matmul, its encoder
// context (B, H) once and broadcast over the steps, an attention context at
// each step. No concatenation is formed. Used with Linear (weight, bias) and
// with the recurrent cells (weight_ih, bias_ih; nn/recurrent/recurrent_weights.h).
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::nn {

class InputParts {
 public:
  // weight (out, Σ widths), bias (out,) or undefined.
  InputParts(const Tensor& weight, const Tensor& bias, std::vector<int64_t> widths);

  // Part k's share x_k W_kᵀ: x_k (..., widths[k]) -> (..., out).
  Tensor project(size_t part, const Tensor& x) const;
  // The same plus the bias. Give the bias to exactly one part, the smallest
  // (a context (B, out) rather than all steps (T, B, out)): one add, on it.
  Tensor project_with_bias(size_t part, const Tensor& x) const;
  // x_k W_kᵀ + base in one node (ops/linear.h): base broadcast to (..., out),
  // e.g. the other parts' shares (B, out) under x_k (T, B, w_k).
  Tensor project_onto(size_t part, const Tensor& x, const Tensor& base) const;
  size_t size() const { return columns_.size(); }

 private:
  void check_part(size_t part, const Tensor& x) const;
  std::vector<Tensor> columns_;  // W_k (out, widths[k]), views of the weight made once
  std::vector<int64_t> widths_;
  Tensor bias_;
};

}  // namespace tg::nn
