#include "ops/conv2d.h"

#include <vector>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "core/autograd/public_op.h"
#include "core/autograd/tape.h"
#include "kernels/conv2d/conv2d.h"

namespace tg {

namespace {

// A contiguous tensor's memory seen with another shape (no copy).
Tensor as_shape(const Tensor& contiguous, const Shape& shape) {
  return make_view(contiguous, shape, contiguous_strides(shape), contiguous.offset());
}

// Rows [begin, begin + rows) of the middle axis of a contiguous (B, M, N) tensor: (B, rows, N).
Tensor middle_rows(const Tensor& t, int64_t begin, int64_t rows) {
  const int64_t M = t.size(1), N = t.size(2);
  return make_view(t, Shape{t.size(0), rows, N}, Strides{M * N, N, 1}, t.offset() + begin * N);
}

// Group g's weight, (O_g, K_g) of a contiguous (O, K_g) matrix, repeated over a batch of B (stride 0).
Tensor batch_of(const Tensor& w2, int64_t B, int64_t row0, int64_t rows, bool transposed) {
  const int64_t K = w2.size(1);
  if (transposed)  // (B, K_g, O_g): wᵀ
    return make_view(w2, Shape{B, K, rows}, Strides{0, 1, K}, w2.offset() + row0 * K);
  return make_view(w2, Shape{B, rows, K}, Strides{0, K, 1}, w2.offset() + row0 * K);
}

struct Geometry {
  int64_t B, C, H, W, O, groups;
  kernels::Conv2dGeometry g;
  bool direct;  // 1×1, stride 1, no padding: cols is x itself
  int64_t ckk() const { return C * g.kh * g.kw; }
  int64_t L() const { return g.oh * g.ow; }
};

void check_args(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                Size2 dilation, int64_t groups) {
  check_defined(x, "conv2d", "x");
  check_defined(weight, "conv2d", "weight");
  check_floating(x, "conv2d");
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("conv2d: x is {} but weight is {}{} (convert with .to(dtype))", dtype_name(x.dtype()),
         dtype_name(weight.dtype()), bias.defined() ? fmt::format(" and bias {}", dtype_name(bias.dtype())) : "");
  check_same_kind(x, weight, "conv2d");
  if (bias.defined()) check_same_kind(x, bias, "conv2d");
  if (x.ndim() != 3 && x.ndim() != 4)
    fail("conv2d: x must be (B, C_in, H, W) or (C_in, H, W), got {}", x.shape().str());
  if (weight.ndim() != 4)
    fail("conv2d: weight must be (C_out, C_in / groups, KH, KW), got {}", weight.shape().str());
  if (stride.h < 1 || stride.w < 1 || dilation.h < 1 || dilation.w < 1 || padding.h < 0 || padding.w < 0 || groups < 1)
    fail("conv2d: stride, dilation and groups must be >= 1 and padding >= 0, got stride={} padding={} dilation={} "
         "groups={}", stride.str(), padding.str(), dilation.str(), groups);
  const int64_t C = x.size(x.ndim() - 3), O = weight.size(0);
  if (O % groups != 0)
    fail("conv2d: groups={} must divide C_out={} (weight {})", groups, O, weight.shape().str());
  if (C % groups != 0) fail("conv2d: groups={} must divide C_in={} (x {})", groups, C, x.shape().str());
  if (weight.size(1) * groups != C)
    fail("conv2d: x has {} channels, weight expects {} (weight {}, groups {})", C, weight.size(1) * groups,
         weight.shape().str(), groups);
  if (weight.size(2) < 1 || weight.size(3) < 1) fail("conv2d: weight {} has an empty kernel", weight.shape().str());
  if (bias.defined() && bias.shape() != Shape{O})
    fail("conv2d: bias must be {} (one per output channel of weight {}), got {}", Shape{O}.str(),
         weight.shape().str(), bias.shape().str());
  const int64_t H = x.size(x.ndim() - 2), W = x.size(x.ndim() - 1);
  const int64_t span_h = dilation.h * (weight.size(2) - 1) + 1, span_w = dilation.w * (weight.size(3) - 1) + 1;
  if (H + 2 * padding.h < span_h || W + 2 * padding.w < span_w)
    fail("conv2d: x {} padded by {} is {}x{}, smaller than the kernel's reach {}x{} (weight {}, dilation {})",
         x.shape().str(), padding.str(), H + 2 * padding.h, W + 2 * padding.w, span_h, span_w, weight.shape().str(),
         dilation.str());
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, int64_t groups) {
  const ProfileScope profile("conv2d");
  const PublicOpScope scope("conv2d", {{"x", x}, {"weight", weight}, {"bias", bias}});
  check_args(x, weight, bias, stride, padding, dilation, groups);
  if (!x.device().is_host()) fail("conv2d: runs on host backends only (im2col has no {} body yet)", x.device().str());

  Geometry s{};
  s.B = x.ndim() == 4 ? x.size(0) : 1;
  s.C = x.size(x.ndim() - 3), s.H = x.size(x.ndim() - 2), s.W = x.size(x.ndim() - 1);
  s.O = weight.size(0), s.groups = groups;
  s.g = {weight.size(2), weight.size(3), stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, 0, 0};
  s.g.oh = (s.H + 2 * padding.h - dilation.h * (s.g.kh - 1) - 1) / stride.h + 1;
  s.g.ow = (s.W + 2 * padding.w - dilation.w * (s.g.kw - 1) - 1) / stride.w + 1;
  s.direct = s.g.kh == 1 && s.g.kw == 1 && stride == Size2(1) && padding == Size2(0);
  const int64_t B = s.B, O = s.O, L = s.L(), CKK = s.ckk();
  const int64_t Og = O / groups, Kg = CKK / groups;  // per group: output channels, rows of cols

  Backend& backend = backend_for(x.device());
  const Tensor xc = as_shape(x.contiguous(), Shape{B, s.C, s.H, s.W});
  const Tensor w2 = as_shape(weight.contiguous(), Shape{O, Kg});  // (O, C_in/groups·KH·KW)
  Tensor cols;  // (B, C·KH·KW, L)
  if (s.direct) {
    cols = as_shape(xc, Shape{B, CKK, L});
  } else {
    cols = compute::empty_like(xc, Shape{B, CKK, L});
    kernels::im2col(backend, {xc.view(), cols.view(), s.g});
  }
  Tensor y = compute::empty_like(xc, Shape{B, O, L});
  if (groups == 1) {
    compute::matmul_into(batch_of(w2, B, 0, O, false), cols, y, false);  // (B, O, CKK) @ (B, CKK, L)
  } else {
    const Tensor part = compute::empty_like(xc, Shape{B, Og, L});
    for (int64_t g = 0; g < groups; ++g) {
      compute::matmul_into(batch_of(w2, B, g * Og, Og, false), middle_rows(cols, g * Kg, Kg), part, false);
      compute::copy_into(part, middle_rows(y, g * Og, Og));
    }
  }
  if (bias.defined())  // y[b, o, :] += bias[o]
    compute::add_into(y, make_view(bias, Shape{O, 1}, Strides{bias.strides()[0], 0}, bias.offset()));

  Shape out_shape = x.ndim() == 4 ? Shape{B, O, s.g.oh, s.g.ow} : Shape{O, s.g.oh, s.g.ow};
  Tensor out = as_shape(y, out_shape);
  const bool need_dw = weight.requires_grad(), need_dx = x.requires_grad();
  const Saved cols_saved = save_if(need_dw, "cols", cols), weight_saved = save_if(need_dx, "weight", w2);
  std::vector<Tensor> inputs = {x, weight};
  if (bias.defined()) inputs.push_back(bias);
  record("conv2d", inputs, out, {cols_saved, weight_saved},
         [dx_slot = slot_of(x), dw_slot = slot_of(weight), db_slot = bias.defined() ? slot_of(bias) : nullptr,
          cols_saved, weight_saved, s](const Tensor& dy_in) {
           const int64_t B = s.B, O = s.O, L = s.L(), CKK = s.ckk(), groups = s.groups;
           const int64_t Og = O / groups, Kg = CKK / groups;
           const Tensor dy = as_shape(dy_in.contiguous(), Shape{B, O, L});
           if (db_slot) {  // dbias = Σ over b and the positions
             const Tensor per_sample = compute::reduce(ReduceOp::sum, dy, 2);  // (B, O, 1)
             accumulate_grad(*db_slot, as_shape(compute::reduce(ReduceOp::sum, per_sample, 0), Shape{O}));
           }
           if (dw_slot) {  // dweight (O, Kg) = Σ_b dy_b (per group) @ cols_bᵀ
             const Tensor& cols = cols_saved.get();
             const Tensor per_sample = compute::empty_like(dy, Shape{B, Og, Kg});
             const Tensor dw = as_shape(grad_buffer(*dw_slot), Shape{O, Kg});
             for (int64_t g = 0; g < groups; ++g) {
               const Tensor cols_t = make_view(cols, Shape{B, L, Kg}, Strides{CKK * L, 1, L}, cols.offset() + g * Kg * L);
               compute::matmul_into(middle_rows(dy, g * Og, Og), cols_t, per_sample, false);
               const Tensor summed = compute::reduce(ReduceOp::sum, per_sample, 0);  // (1, Og, Kg)
               compute::add_into(make_view(dw, Shape{1, Og, Kg}, Strides{0, Kg, 1}, dw.offset() + g * Og * Kg), summed);
             }
           }
           if (dx_slot) {  // dcols_b = weightᵀ @ dy_b (per group); dx += col2im(dcols)
             const Tensor& w2 = weight_saved.get();
             const Tensor dx = as_shape(grad_buffer(*dx_slot), Shape{B, s.C, s.H, s.W});
             compute::mark_written(dx);
             if (s.direct && groups == 1) {
               compute::matmul_into(batch_of(w2, B, 0, O, true), dy, as_shape(dx, Shape{B, CKK, L}), true);
               return;
             }
             const Tensor dcols = compute::empty_like(dy, Shape{B, CKK, L});
             if (groups == 1) {
               compute::matmul_into(batch_of(w2, B, 0, O, true), dy, dcols, false);
             } else {
               const Tensor part = compute::empty_like(dy, Shape{B, Kg, L});
               for (int64_t g = 0; g < groups; ++g) {
                 compute::matmul_into(batch_of(w2, B, g * Og, Og, true), middle_rows(dy, g * Og, Og), part, false);
                 compute::copy_into(part, middle_rows(dcols, g * Kg, Kg));
               }
             }
             if (s.direct)
               compute::add_into(dx, as_shape(dcols, dx.shape()));
             else
               kernels::col2im(backend_for(dx.device()), {dcols.view(), dx.view(), s.g});
           }
         });
  return out;
}

}  // namespace tg
