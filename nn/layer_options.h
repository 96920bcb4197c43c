#pragma once
#include <cstdint>

#include <optional>

#include "core/types/dtype.h"
#include "ops/size2.h"

namespace tg::nn {

// Every module takes its parameters' dtype in its options struct, as `.dtype`
// (float32 unless said), so the same call shape works for all of them:
//   Linear(4, 2, {.bias = false, .dtype = DType::f64}, gen)
//   GRU(32, 16, {.num_layers = 2, .dtype = DType::f64})
//   Embedding(100, 8, {.padding_idx = 0, .dtype = DType::f64})
//   AdditiveAttention(16, 32, 10, {.dtype = DType::f64})
// and Module::to(DType) converts a built model.

// Parameters are float32 or float64. A 16-bit dtype is refused by the layer's
// name with the way to 16 bits that works: products in bf16/fp16 through a
// matmul precision (core/dispatch/matmul_precision.h), storage through .to() on a copy.
void check_parameter_dtype(DType dtype, const char* layer);

// Linear, GRUCell, LSTMCell: with a bias or not, and in which dtype.
struct LayerOptions {
  bool bias = true;
  DType dtype = default_dtype();
};

// Modules whose only choice is the dtype (the attention modules).
struct ModuleOptions {
  DType dtype = default_dtype();
};

// Embedding: the padding row (-1: none) and the dtype.
struct EmbeddingOptions {
  int64_t padding_idx = -1;
  DType dtype = default_dtype();
};

// Conv1d: torch.nn.Conv1d's keywords after the kernel size.
struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = default_dtype();
};

// LayerNorm: ε and whether it has a learned scale and shift.
struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;
  DType dtype = default_dtype();
};

// Conv2d: torch.nn.Conv2d's keywords after the kernel size; a number or an (h, w) pair each:
//   Conv2d(1, 32, 3, {.padding = 1})   Conv2d(32, 64, {3, 5}, {.stride = {2, 1}})
struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = default_dtype();
};

// MaxPool2d: torch.nn.MaxPool2d's keywords after the kernel size (stride: the kernel size unless given).
struct MaxPool2dOptions {
  std::optional<Size2> stride;
  Size2 padding = 0;
  Size2 dilation = 1;
  bool ceil_mode = false;
};

// AvgPool2d: torch.nn.AvgPool2d's keywords after the kernel size.
struct AvgPool2dOptions {
  std::optional<Size2> stride;
  Size2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

// BatchNorm1d, BatchNorm2d: torch.nn.BatchNorm*d's keywords after num_features.
struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;               // learned weight (ones) and bias (zeros)
  bool track_running_stats = true;  // buffers running_mean, running_var, num_batches_tracked
  DType dtype = default_dtype();
};

}  // namespace tg::nn
