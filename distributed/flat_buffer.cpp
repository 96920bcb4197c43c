#include "distributed/flat_buffer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/dispatch/backend.h"
#include "core/services/error.h"

namespace tg::distributed {

namespace {

// A contiguous tensor's bytes to or from the buffer. On a GPU they are staged
// through the (host) buffer: MPI is not assumed to read device memory.
void copy_to_buffer(const Tensor& t, std::byte* dst, size_t n) {
  if (t.device().is_host()) std::memcpy(dst, t.view().data, n);
  else device_backend(t.device()).copy_to_host(t.view().data, dst, n);
}
void copy_from_buffer(const std::byte* src, const Tensor& t, size_t n) {
  if (t.device().is_host()) std::memcpy(t.view().data, src, n);
  else device_backend(t.device()).copy_from_host(src, t.view().data, n);
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
    if (t.device() != tensors[0].device())
      fail("{}: tensor {} {} is on {} but tensor 0 is on {}; pass tensors of one device per call", op, i,
           t.shape().str(), t.device().str(), tensors[0].device().str());
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
    if (n > 0) copy_to_buffer(t, bytes_.data() + at, n);
    at += n;
  }
}

void FlatBuffer::unpack(const std::vector<Tensor>& tensors) {
  size_t at = 0;
  for (const Tensor& t : tensors) {
    const size_t n = static_cast<size_t>(t.numel()) * dtype_size(dtype_);
    if (n > 0) copy_from_buffer(bytes_.data() + at, t, n);
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
