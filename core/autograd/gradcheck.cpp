#include "core/autograd/gradcheck.h"

#include <fmt/format.h>

#include <cmath>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace {
// L = Σ out ⊙ weights, evaluated without recording.
double weighted_sum(const Tensor& out, const std::vector<double>& weights) {
  const std::vector<double> values = out.to_vector<double>();
  double total = 0;
  for (size_t i = 0; i < values.size(); ++i) total += values[i] * weights[i];
  return total;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  for (const Tensor& x : inputs) {
    if (x.dtype() != DType::f64) fail("gradcheck: inputs must be float64, got {}", dtype_name(x.dtype()));
    if (!x.requires_grad() || !x.is_leaf()) fail("gradcheck: inputs must be leaves that require grad");
    if (!x.is_contiguous()) fail("gradcheck: inputs must be contiguous");
  }
  // Analytic gradients through the tape, on a tape of our own, into cleared
  // .grad()s; the caller's gradients come back however this returns.
  struct RestoreGrads {
    const std::vector<Tensor>& inputs;
    std::vector<Tensor> saved;
    ~RestoreGrads() {
      for (size_t i = 0; i < inputs.size(); ++i) inputs[i].set_grad(saved[i]);
    }
  } restore{inputs, {}};
  for (const Tensor& x : inputs) restore.saved.push_back(x.grad());
  Tape tape;
  TapeScope scope(tape);
  for (const Tensor& x : inputs) x.set_grad(Tensor());
  Tensor out = f(inputs);
  Generator gen(options.seed);
  const Tensor weights = normal(out.shape(), 0, 1, {DType::f64}, gen);
  const std::vector<double> weight_values = weights.to_vector<double>();
  if (!out.requires_grad()) fail("gradcheck: the function's output does not depend on any input");
  out.backward(weights.to(out.device()));

  // Each element is perturbed through a 0-d view of it and the fill kernel,
  // so inputs may live on any device; the analytic gradient and the saved
  // values are read once, on the host.
  GradcheckResult result;
  for (size_t input = 0; input < inputs.size(); ++input) {
    const Tensor& x = inputs[input];
    const Tensor grad = x.grad();
    const std::vector<double> analytic =
        grad.defined() ? grad.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    const std::vector<double> saved = x.to_vector<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const Tensor element = make_view(x, Shape{}, Strides{}, x.offset() + i);
      double numeric;
      {
        NoGrad no_grad;
        compute::fill(element, saved[i] + options.eps);
        const double plus = weighted_sum(f(inputs), weight_values);
        compute::fill(element, saved[i] - options.eps);
        const double minus = weighted_sum(f(inputs), weight_values);
        compute::fill(element, saved[i]);
        numeric = (plus - minus) / (2 * options.eps);
      }
      const double error = std::abs(analytic[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (error > options.atol + options.rtol * std::abs(numeric) && result.ok) {
        result.ok = false;
        result.message = fmt::format("input {} element {}: analytic {:.10g} vs numeric {:.10g}", input, i,
                                     analytic[i], numeric);
      }
    }
  }
  return result;
}

}  // namespace tg
