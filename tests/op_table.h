#pragma once
// The op table (after ggml's tests/test-backend-ops.cpp): every op family's
// cases written once, in tests/op_table.cpp, and run by each backend's
// harness. A harness defines what follows for its device under test:
//   tests/test_host_ops.cpp  the host backends: the cpu backend against the
//                            reference backend (the readable definition);
//   tests/test_cuda_ops.cpp  the GPU against the cpu backend.
// Inputs are float64 cpu leaves that require grad; a harness copies them to
// its device.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad.h"

namespace op_table {

using Inputs = std::vector<tg::Tensor>;
using Fn = std::function<tg::Tensor(const Inputs&)>;

// The device the harness tests (cuda:0, or the host).
tg::Device table_device();
// f's float64 gradient check on the device under test, and its value and the
// gradient of every input, for one random output gradient, equal to the
// harness's reference.
void check_op(const Fn& f, const Inputs& inputs);
// A result without a gradient (a mask, indices): equal to the reference exactly.
void check_value(const Fn& f, const Inputs& inputs);

// max |got - want| <= tol · max(1, max |want|), NaN matching NaN; both
// undefined also matches. `label` names the two sides ("gpu - cpu").
inline void check_equal(const tg::Tensor& got, const tg::Tensor& want, const std::string& what, const char* label,
                        double tol = 1e-12) {
  INFO(what);
  REQUIRE(got.defined() == want.defined());
  if (!want.defined()) return;
  REQUIRE(got.shape() == want.shape());
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double worst = 0, scale = 1;
  for (size_t i = 0; i < w.size(); ++i) {
    scale = std::max(scale, std::abs(w[i]));
    if (!(std::isnan(g[i]) && std::isnan(w[i]))) worst = std::max(worst, std::abs(g[i] - w[i]));
  }
  INFO("max |", label, "| = ", worst, " at scale ", scale);
  CHECK(worst <= tol * scale);
}

// tg::gradcheck over the inputs that require grad, the others held constant.
inline tg::GradcheckResult gradcheck_wanted(const Fn& f, const Inputs& inputs) {
  Inputs wanted;
  std::vector<size_t> where;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) wanted.push_back(inputs[i]), where.push_back(i);
  return tg::gradcheck(
      [&](const Inputs& varied) {
        Inputs all = inputs;
        for (size_t k = 0; k < where.size(); ++k) all[where[k]] = varied[k];
        return f(all);
      },
      wanted);
}

// float64 leaves on the cpu that require grad.
inline tg::TensorOptions f64_grad() { return {tg::DType::f64, tg::Device::cpu(), true}; }
inline tg::Tensor randn64(const tg::Shape& shape, tg::Generator& gen) { return tg::randn(shape, f64_grad(), gen); }
// Values in [0.5, 2): away from the poles of log, sqrt, 1/x.
inline tg::Tensor positive64(const tg::Shape& shape, tg::Generator& gen) {
  return tg::uniform(shape, 0.5, 2.0, f64_grad(), gen);
}
inline tg::Tensor f64(const std::vector<double>& values, const tg::Shape& shape) { return tg::tensor(values, shape); }
// A constant of an op (an index, a mask) on the device of `like`, so that one
// function serves every device.
inline tg::Tensor on(const tg::Tensor& constant, const tg::Tensor& like) { return constant.to(like.device()); }

}  // namespace op_table
