#include "nn/sequential.h"

namespace tg::nn {

Tensor Sequential::forward(const Tensor& x) const {
  Tensor y = x;
  for (const auto& layer : forwards_) y = layer(y);
  return y;
}

Module& Sequential::operator[](size_t i) const {
  if (i >= layers_.size()) fail("Sequential: index {} is out of range for {} layers", i, layers_.size());
  return *layers_[i];
}

}  // namespace tg::nn
