#pragma once
// Writing your own op with raw loops: pick the C++ type for a tensor's dtype
// (visit_float) and reach its elements as one contiguous host array
// (contiguous_values() + data<T>(op)). Everything here is public API; nothing in
// tapegrad needs editing.
//
//   // y = x / (1 + |x|);  dx += dy / (1 + |x|)²
//   tg::Tensor softsign(const tg::Tensor& x) {
//     const tg::Tensor xc = tg::contiguous_values(x);  // row-major, offset applied, off the tape
//     tg::Tensor y = tg::Tensor::empty(x.shape(), {.dtype = x.dtype()});
//     tg::visit_float(x.dtype(), "softsign", [&]<typename T>() {
//       const T* in = xc.data<T>("softsign");          // errors name "softsign"
//       T* out = y.data<T>("softsign");
//       for (int64_t i = 0; i < xc.numel(); ++i) out[i] = in[i] / (1 + std::abs(in[i]));
//     });
//     const tg::Saved x_saved = tg::save_if(x.requires_grad(), "x", xc);  // what backward reads
//     tg::record("softsign", {&x}, y, {x_saved}, [dx_slot = tg::slot_of(x), x_saved](const tg::Tensor& dy) {
//       const tg::Tensor& xc = x_saved.get();                // fails if xc was changed in place since
//       const tg::Tensor dyc = tg::contiguous_values(dy);
//       tg::Tensor dx = tg::Tensor::empty(xc.shape(), {.dtype = xc.dtype()});
//       tg::visit_float(xc.dtype(), "softsign", [&]<typename T>() {
//         const T *in = xc.data<T>("softsign"), *g = dyc.data<T>("softsign");
//         T* d = dx.data<T>("softsign");
//         for (int64_t i = 0; i < xc.numel(); ++i) d[i] = g[i] / ((1 + std::abs(in[i])) * (1 + std::abs(in[i])));
//       });
//       tg::accumulate_grad(*dx_slot, dx);            // into x's gradient, not xc's; accumulates (+=)
//     });
//     return y;
//   }
//
// Notes for such kernels:
// - contiguous() returns the tensor itself when it already is contiguous and a
//   row-major copy otherwise; data<T>() then points at element 0 of numel()
//   consecutive values. Never index a non-contiguous tensor's data<T>() as flat.
// - data<T>(op) checks the dtype and that the memory is on the host and names
//   `op` when it fails ("softsign: tensor holds float64, asked for float32").
//   For a tensor on a GPU, copy it with to_host() first (raw loops run on the cpu).
// - Tensor::empty gives uninitialised memory: write every element.
// - Inside backward, recording is off; any tg::Error thrown there reaches the
//   caller of backward() as "<op> backward: ..." (the op name given to record).
// - Check the result with tg::gradcheck on float64 inputs (core/autograd/gradcheck.h).
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/types/dtype.h"
#include "core/services/error.h"
#include "core/types/half.h"

namespace tg {

// Calls fn.template operator()<T>() with T = float for float32 and T = double
// for float64, returning what it returns; for any other dtype throws tg::Error
// naming `op`: "softsign: expected a float32 or float64 tensor, got int64".
// A generic lambda `[&]<typename T>() { ... }` is the usual fn.
template <typename Fn>
decltype(auto) visit_float(DType dtype, std::string_view op, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return std::forward<Fn>(fn).template operator()<float>();
    case DType::f64: return std::forward<Fn>(fn).template operator()<double>();
    default: fail("{}: expected a float32 or float64 tensor, got {}", op, dtype_name(dtype));
  }
}

// The same for every dtype: float, double, int64_t, bool, float16,
// bfloat16 or int8_t (for kernels that only move elements, or convert them with
// convert_element).
template <typename Fn>
decltype(auto) visit_any(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::i64: return std::forward<Fn>(fn).template operator()<int64_t>();
    case DType::boolean: return std::forward<Fn>(fn).template operator()<bool>();
    case DType::f16: return std::forward<Fn>(fn).template operator()<float16>();
    case DType::bf16: return std::forward<Fn>(fn).template operator()<bfloat16>();
    case DType::i8: return std::forward<Fn>(fn).template operator()<int8_t>();
    default: return visit_float(dtype, "visit_any", std::forward<Fn>(fn));
  }
}

template <typename T>
constexpr bool is_half_type = std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;

// An element converted to another element type; anything non-zero is true.
// 16-bit floats go through float32 (so float64 → float16 rounds twice, as
// PyTorch's cast does).
template <typename To, typename From>
To convert_element(From v) {
  if constexpr (is_half_type<From>)
    return convert_element<To>(static_cast<float>(v));
  else if constexpr (std::is_same_v<To, bool>)
    return v != From(0);
  else if constexpr (is_half_type<To>)
    return To(static_cast<float>(v));
  else
    return static_cast<To>(v);
}

}  // namespace tg
