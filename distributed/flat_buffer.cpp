#include "distributed/flat_buffer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"

namespace tg::distributed {

namespace {

std::byte* raw_data(const Tensor& t) {
  switch (t.dtype()) {
    case DType::f32: return reinterpret_cast<std::byte*>(t.data<float>());
    case DType::f64: return reinterpret_cast<std::byte*>(t.data<double>());
    case DType::i64: return reinterpret_cast<std::byte*>(t.data<int64_t>());
    case DType::boolean: return reinterpret_cast<std::byte*>(t.data<bool>());
    case DType::f16: return reinterpret_cast<std::byte*>(t.data<float16>());
    case DType::bf16: return reinterpret_cast<std::byte*>(t.data<bfloat16>());
  }
  return nullptr;
}

std::string dtype_list(const std::vector<DType>& dtypes) {
  std::string s;
  for (const DType d : dtypes) s += (s.empty() ? "" : ", ") + std::string(dtype_name(d));
  return s;
}

}  // namespace

void FlatBuffer::lay_out(const std::vector<Tensor>& tensors, const char* op, const std::vector<DType>& allowed) {
  elements_ = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined()) fail("{}: tensor {} of {} is undefined", op, i, tensors.size());
    if (t.device() != Device::cpu())
      fail("{}: tensor {} {} is on {}; the collectives take host tensors (copy with .to_host())", op, i,
           t.shape().str(), t.device().str());
    if (!t.is_contiguous()) fail("{}: tensor {} {} is not contiguous (pass .contiguous())", op, i, t.shape().str());
    if (std::find(allowed.begin(), allowed.end(), t.dtype()) == allowed.end())
      fail("{}: tensor {} {} is {}; expected {}", op, i, t.shape().str(), dtype_name(t.dtype()), dtype_list(allowed));
    if (i == 0) dtype_ = t.dtype();
    else if (t.dtype() != dtype_)
      fail("{}: tensor {} {} is {} but tensor 0 is {}; pass tensors of one dtype per call", op, i, t.shape().str(),
           dtype_name(t.dtype()), dtype_name(dtype_));
    elements_ += static_cast<size_t>(t.numel());
  }
  const size_t needed = elements_ * dtype_size(dtype_);
  if (bytes_.size() < needed) bytes_.resize(needed);  // kept between calls: no page faults every step
}

void FlatBuffer::pack(const std::vector<Tensor>& tensors) {
  size_t at = 0;
  for (const Tensor& t : tensors) {
    const size_t n = static_cast<size_t>(t.numel()) * dtype_size(dtype_);
    if (n > 0) std::memcpy(bytes_.data() + at, raw_data(t), n);
    at += n;
  }
}

void FlatBuffer::unpack(const std::vector<Tensor>& tensors) {
  size_t at = 0;
  for (const Tensor& t : tensors) {
    const size_t n = static_cast<size_t>(t.numel()) * dtype_size(dtype_);
    if (n > 0) std::memcpy(raw_data(t), bytes_.data() + at, n);
    at += n;
  }
}

void FlatBuffer::divide_by(double divisor) {
  if (dtype_ == DType::f32) {
    float* p = reinterpret_cast<float*>(bytes_.data());
    const float d = static_cast<float>(divisor);
    for (size_t i = 0; i < elements_; ++i) p[i] /= d;
  } else if (dtype_ == DType::f64) {
    double* p = reinterpret_cast<double*>(bytes_.data());
    for (size_t i = 0; i < elements_; ++i) p[i] /= divisor;
  } else {
    fail("FlatBuffer::divide_by: {} cannot be divided; expected float32 or float64", dtype_name(dtype_));
  }
}

std::vector<Bucket> FlatBuffer::buckets(size_t bucket_bytes) const {
  const size_t per_bucket = std::max<size_t>(1, bucket_bytes / dtype_size(dtype_));
  std::vector<Bucket> out;
  for (size_t offset = 0; offset < elements_; offset += per_bucket)
    out.push_back({offset, std::min(per_bucket, elements_ - offset)});
  return out;
}

}  // namespace tg::distributed
