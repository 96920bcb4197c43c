// Tensor's op methods (declared in core/tensor/tensor.h): each forwards to the free
// function of ops/, so the two spellings are one op with one definition.
#include "core/services/error.h"
#include "core/tensor/tensor.h"
#include "ops/abs.h"
#include "ops/clamp.h"
#include "ops/expand.h"
#include "ops/index_add.h"
#include "ops/repeat.h"
#include "ops/sort.h"
#include "ops/argmax.h"
#include "ops/cumsum.h"
#include "ops/gather.h"
#include "ops/index_select.h"
#include "ops/split.h"
#include "ops/topk.h"
#include "ops/exp.h"
#include "ops/log.h"
#include "ops/masked_fill.h"
#include "ops/matmul.h"
#include "ops/max.h"
#include "ops/mean.h"
#include "ops/min.h"
#include "ops/neg.h"
#include "ops/pow.h"
#include "ops/relu.h"
#include "ops/reshape.h"
#include "ops/sigmoid.h"
#include "ops/softmax.h"
#include "ops/sqrt.h"
#include "ops/sum.h"
#include "ops/tanh.h"
#include "ops/transpose.h"
#include "ops/var.h"

namespace tg {

Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::sum(int axis, bool keepdim) const { return tg::sum(*this, axis, keepdim); }
Tensor Tensor::sum(const std::vector<int>& axes, bool keepdim) const { return tg::sum(*this, axes, keepdim); }
Tensor Tensor::mean() const { return tg::mean(*this); }
Tensor Tensor::mean(int axis, bool keepdim) const { return tg::mean(*this, axis, keepdim); }
Tensor Tensor::mean(const std::vector<int>& axes, bool keepdim) const { return tg::mean(*this, axes, keepdim); }
Tensor Tensor::max() const { return tg::max(*this); }
Tensor Tensor::min() const { return tg::min(*this); }
Tensor Tensor::var() const { return tg::var(*this); }
Tensor Tensor::std() const { return tg::std(*this); }
Tensor Tensor::argmax(int axis, bool keepdim) const { return tg::argmax(*this, axis, keepdim); }
Tensor Tensor::reshape(const Shape& shape) const { return tg::reshape(*this, shape); }
Tensor Tensor::transpose(int dim0, int dim1) const { return tg::transpose(*this, dim0, dim1); }
Tensor Tensor::permute(const std::vector<int>& dims) const { return tg::permute(*this, dims); }
Tensor Tensor::unsqueeze(int axis) const { return tg::unsqueeze(*this, axis); }
Tensor Tensor::squeeze(int axis) const { return tg::squeeze(*this, axis); }
Tensor Tensor::flatten(int start, int end) const { return tg::flatten(*this, start, end); }
Tensor Tensor::exp() const { return tg::exp(*this); }
Tensor Tensor::log() const { return tg::log(*this); }
Tensor Tensor::tanh() const { return tg::tanh(*this); }
Tensor Tensor::sigmoid() const { return tg::sigmoid(*this); }
Tensor Tensor::relu() const { return tg::relu(*this); }
Tensor Tensor::sqrt() const { return tg::sqrt(*this); }
Tensor Tensor::abs() const { return tg::abs(*this); }
Tensor Tensor::neg() const { return tg::neg(*this); }
Tensor Tensor::pow(Scalar exponent) const { return tg::pow(*this, exponent); }
Tensor Tensor::softmax(int axis) const { return tg::softmax(*this, axis); }
Tensor Tensor::log_softmax(int axis) const { return tg::log_softmax(*this, axis); }
Tensor Tensor::masked_fill(const Tensor& mask, double value) const { return tg::masked_fill(*this, mask, value); }
Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }
Tensor Tensor::cumsum(int dim) const { return tg::cumsum(*this, dim); }
TopK Tensor::topk(int64_t k, int dim, bool largest) const { return tg::topk(*this, k, dim, largest); }
Tensor Tensor::gather(int dim, const Tensor& index) const { return tg::gather(*this, dim, index); }
Tensor Tensor::index_select(int dim, const Tensor& index) const { return tg::index_select(*this, dim, index); }
Sorted Tensor::sort(int dim, bool descending, bool stable) const { return tg::sort(*this, dim, descending, stable); }
Tensor Tensor::argsort(int dim, bool descending, bool stable) const {
  return tg::argsort(*this, dim, descending, stable);
}
Tensor Tensor::index_add(int dim, const Tensor& index, const Tensor& source, double alpha) const {
  return tg::index_add(*this, dim, index, source, alpha);
}
Tensor Tensor::repeat(const std::vector<int64_t>& repeats) const { return tg::repeat(*this, repeats); }
Tensor Tensor::expand(const Shape& shape) const { return tg::expand(*this, shape); }
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const { return tg::clamp(*this, lo, hi); }
Tensor Tensor::clamp_min(double lo) const { return tg::clamp_min(*this, lo); }
Tensor Tensor::clamp_max(double hi) const { return tg::clamp_max(*this, hi); }
std::vector<Tensor> Tensor::split(int64_t size, int dim) const { return tg::split(*this, size, dim); }
std::vector<Tensor> Tensor::chunk(int64_t chunks, int dim) const { return tg::chunk(*this, chunks, dim); }
Tensor Tensor::view(const Shape& shape) const {
  if (!is_contiguous())
    fail("view: a tensor of shape {} and strides {} is not contiguous, so no view of shape {} shares its memory; "
         "use reshape (which copies when it must)",
         this->shape().str(), strides().str(), shape.str());
  return tg::reshape(*this, shape);
}

}  // namespace tg
