#pragma once
#include "core/dtype.h"

namespace tg::nn {

// How a layer makes its parameters: with a bias or not, and in which dtype.
// Reads at the call site: Linear(4, 2, {.bias = false, .dtype = DType::f64}, gen).
struct LayerOptions {
  bool bias = true;
  DType dtype = DType::f32;
};

}  // namespace tg::nn
