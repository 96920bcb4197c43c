// Chapter 2 of the tutorial (docs/tutorial/02-your-own-op.md): an op the
// library does not have, written against the public API only, and checked
// with gradcheck; then the same op with a wrong derivative, which gradcheck
// must catch. Exits 1 if the right one fails or the wrong one passes.
#include <fmt/format.h>
#include <tapegrad_kernels.h>  // tg::visit_float and tg::kernels, for writing ops

#include <cmath>

// [tutorial:silu]
// SiLU (swish): y = x·σ(x),  dy/dx = σ(x)·(1 + x·(1 - σ(x)))
//   x (...) -> y (...);  dx += dy ⊙ σ(x)·(1 + x·(1 - σ(x)))
enum class Derivative { right, wrong };  // wrong: for seeing what gradcheck says

tg::Tensor my_silu(const tg::Tensor& x, Derivative derivative = Derivative::right) {
  const tg::Tensor xc = tg::contiguous_values(x);  // row-major: data<T>() is numel() consecutive values
  tg::Tensor y = tg::Tensor::empty(x.shape(), {.dtype = x.dtype()});
  tg::visit_float(x.dtype(), "silu", [&]<typename T>() {
    const T* in = xc.data<T>("silu");
    T* out = y.data<T>("silu");
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = in[i] / (1 + std::exp(-in[i]));
  });
  // What the backward reads, saved as data: x (row-major). Listed in record, so
  // the node shows it and an in-place change to it before backward is caught.
  const tg::Saved x_saved = tg::save_if(x.requires_grad(), "x", xc);
  // The backward function: given dL/dy, accumulate (+=) dL/dx into x's gradient,
  // through x's gradient slot (where its gradient goes, without its data).
  tg::record("silu", {&x}, y, {x_saved}, [dx_slot = tg::slot_of(x), x_saved, derivative](const tg::Tensor& dy) {
    const tg::Tensor& xc = x_saved.get();
    const tg::Tensor dyc = tg::contiguous_values(dy);
    tg::Tensor dx = tg::Tensor::empty(xc.shape(), {.dtype = xc.dtype()});
    tg::visit_float(xc.dtype(), "silu", [&]<typename T>() {
      const T *in = xc.data<T>("silu"), *g = dyc.data<T>("silu");
      T* d = dx.data<T>("silu");
      for (int64_t i = 0; i < xc.numel(); ++i) {
        const T s = 1 / (1 + std::exp(-in[i]));
        d[i] = g[i] * (derivative == Derivative::wrong ? s : s * (1 + in[i] * (1 - s)));  // wrong: a term lost
      }
    });
    tg::accumulate_grad(*dx_slot, dx);
  });
  return y;
}
// [/tutorial:silu]

int main() {
  // [tutorial:gradcheck]
  tg::Generator gen(7);
  const tg::Tensor x = tg::randn({3, 4}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const tg::GradcheckResult right = tg::gradcheck([](const std::vector<tg::Tensor>& in) { return my_silu(in[0]); }, {x});
  fmt::print("silu: gradcheck {} (largest error {:.2e})\n", right.ok ? "passed" : "FAILED", right.max_abs_error);
  const tg::GradcheckResult wrong =
      tg::gradcheck([](const std::vector<tg::Tensor>& in) { return my_silu(in[0], Derivative::wrong); }, {x});
  fmt::print("silu with a wrong derivative: gradcheck {}\n  {}\n", wrong.ok ? "passed" : "failed", wrong.message);
  // [/tutorial:gradcheck]

  // [tutorial:use]
  // The op composes with the library's: a tiny model y = sum(my_silu(x W)).
  const tg::Tensor w = tg::randn({4, 2}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const tg::Tensor loss = tg::sum(my_silu(tg::matmul(x, w)));
  loss.backward();
  fmt::print("loss {:.6f}, |dL/dW| summed {:.6f}\n", loss.item(), tg::sum(tg::abs(w.grad())).item());
  // [/tutorial:use]

  if (!right.ok || wrong.ok) {
    fmt::print(stderr, "expected the right derivative to pass and the wrong one to fail\n");
    return 1;
  }
  return 0;
}
