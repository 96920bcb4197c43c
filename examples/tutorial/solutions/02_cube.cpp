// Chapter 2, exercise: cube(x) = x³ as an op of one's own (dx += 3x²·dy),
// checked with gradcheck. Exits 1 if the check fails.
#include <fmt/format.h>
#include <tapegrad_kernels.h>  // tg::visit_float and tg::kernels, for writing ops

tg::Tensor cube(const tg::Tensor& x) {
  const tg::Tensor xc = x.contiguous();
  tg::Tensor y = tg::Tensor::empty(x.shape(), {.dtype = x.dtype()});
  tg::visit_float(x.dtype(), "cube", [&]<typename T>() {
    const T* in = xc.data<T>("cube");
    T* out = y.data<T>("cube");
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = in[i] * in[i] * in[i];
  });
  const tg::Saved x_saved = tg::save_if(x.requires_grad(), "x", xc);  // d(x³)/dx reads x
  tg::record("cube", {&x}, y, {x_saved}, [dx_slot = tg::slot_of(x), x_saved](const tg::Tensor& dy) {
    const tg::Tensor& xc = x_saved.get();
    const tg::Tensor dyc = dy.contiguous();
    tg::Tensor dx = tg::Tensor::empty(xc.shape(), {.dtype = xc.dtype()});
    tg::visit_float(xc.dtype(), "cube", [&]<typename T>() {
      const T *in = xc.data<T>("cube"), *g = dyc.data<T>("cube");
      T* d = dx.data<T>("cube");
      for (int64_t i = 0; i < xc.numel(); ++i) d[i] = 3 * in[i] * in[i] * g[i];  // d(x³)/dx = 3x²
    });
    tg::accumulate_grad(*dx_slot, dx);
  });
  return y;
}

int main() {
  tg::Generator gen(11);
  const tg::Tensor x = tg::randn({2, 5}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const tg::GradcheckResult result = tg::gradcheck([](const std::vector<tg::Tensor>& in) { return cube(in[0]); }, {x});
  fmt::print("cube: gradcheck {} (largest error {:.2e}) {}\n", result.ok ? "passed" : "FAILED", result.max_abs_error,
             result.message);
  return result.ok ? 0 : 1;
}
