#include "ops/detail/pool2d.h"

#include <algorithm>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg::detail {

std::pair<int64_t, int64_t> pool_input_hw(const char* name, const Tensor& x) {
  check_defined(x, name, "x");
  check_floating(x, name);
  if (x.ndim() != 3 && x.ndim() != 4) fail("{}: x must be (B, C, H, W) or (C, H, W), got {}", name, x.shape().str());
  if (!x.device().is_host()) fail("{}: runs on host backends only (pool2d has no {} body yet)", name, x.device().str());
  return {x.size(x.ndim() - 2), x.size(x.ndim() - 1)};
}

kernels::PoolAxis strided_axis(const char* name, const char* axis, kernels::PoolMode mode, int64_t size,
                               int64_t kernel, int64_t stride, int64_t padding, int64_t dilation, bool ceil_mode,
                               bool count_include_pad) {
  if (kernel < 1 || stride < 1 || dilation < 1 || padding < 0)
    fail("{}: kernel_size, stride and dilation must be >= 1 and padding >= 0; along {} got kernel_size={} stride={} "
         "padding={} dilation={}", name, axis, kernel, stride, padding, dilation);
  if (padding > kernel / 2)
    fail("{}: padding must be at most half the kernel size; along {} got padding {} for kernel_size {}", name, axis,
         padding, kernel);
  const int64_t reach = size + 2 * padding - dilation * (kernel - 1) - 1;  // last window's first position
  int64_t outputs = (reach + (ceil_mode ? stride - 1 : 0) >= 0 ? (reach + (ceil_mode ? stride - 1 : 0)) / stride
                                                               : -1) + 1;
  if (ceil_mode && outputs > 0 && (outputs - 1) * stride >= size + padding) --outputs;  // no window starting in the right padding
  if (outputs < 1)
    fail("{}: along {} the input of {} padded by {} is smaller than the kernel's reach {} (kernel_size {}, dilation {})",
         name, axis, size, padding, dilation * (kernel - 1) + 1, kernel, dilation);
  kernels::PoolAxis out;
  out.step = mode == kernels::PoolMode::max ? dilation : 1;
  for (int64_t o = 0; o < outputs; ++o) {
    const int64_t first = o * stride - padding;
    int64_t count = kernel, divisor = 1;
    if (mode == kernels::PoolMode::avg) {
      count = std::min(first + kernel, size + padding) - first;
      divisor = count_include_pad ? count : std::min(first + count, size) - std::max<int64_t>(first, 0);
    }
    out.first.push_back(first);
    out.count.push_back(count);
    out.divisor.push_back(divisor);
  }
  return out;
}

Tensor pool2d_op(const char* name, const Tensor& x, kernels::PoolMode mode, kernels::PoolAxis rows,
                 kernels::PoolAxis cols) {
  const int64_t H = x.size(x.ndim() - 2), W = x.size(x.ndim() - 1);
  const int64_t N = x.numel() / std::max<int64_t>(H * W, 1);  // B·C planes
  const int64_t OH = rows.outputs(), OW = cols.outputs();
  const Tensor xc = x.contiguous();
  const Tensor planes = make_view(xc, Shape{N, H, W}, contiguous_strides(Shape{N, H, W}), xc.offset());
  const Tensor y = compute::empty_like(xc, Shape{N, OH, OW});
  const Tensor argmax = mode == kernels::PoolMode::max ? compute::empty_like(xc, Shape{N, OH, OW}, DType::i64) : Tensor();
  Backend& backend = backend_for(x.device());
  kernels::pool2d(backend, {planes.view(), y.view(), argmax.defined() ? argmax.view() : View{}, mode, rows, cols});
  Shape out_shape = x.shape();
  out_shape[x.ndim() - 2] = OH;
  out_shape[x.ndim() - 1] = OW;
  Tensor out = make_view(y, out_shape, contiguous_strides(out_shape), 0);
  const Saved argmax_saved = save_if(x.requires_grad() && argmax.defined(), "argmax", argmax);
  record(name, {&x}, out, {argmax_saved},
         [dx_slot = slot_of(x), argmax_saved, mode, rows = std::move(rows), cols = std::move(cols), N, H, W, OH,
          OW](const Tensor& dy_in) {
           const Tensor dyc = dy_in.contiguous();
           const Tensor dy = make_view(dyc, Shape{N, OH, OW}, contiguous_strides(Shape{N, OH, OW}), dyc.offset());
           const Tensor dxb = grad_buffer(*dx_slot);
           compute::mark_written(dxb);
           const Tensor dx = make_view(dxb, Shape{N, H, W}, contiguous_strides(Shape{N, H, W}), dxb.offset());
           kernels::pool2d_backward(backend_for(dx.device()),
                                    {dy.view(), argmax_saved.defined() ? argmax_saved.get().view() : View{}, dx.view(),
                                     mode, rows, cols});
         });
  return out;
}

}  // namespace tg::detail
