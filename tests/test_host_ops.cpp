// The op table (tests/op_table.cpp) on the host backends, in float64: each
// op's finite-difference gradient check on the cpu and on the reference
// backend, and its value and the gradients of its inputs, for one random
// output gradient, equal between the two; the reference backend is the
// readable definition the cpu backend is held to.
//
// Equal: max |cpu - reference| <= 1e-12 · max(1, max |reference|) per tensor
// (the cpu backend's vectorised exp/tanh differ by an ulp or two, and its
// sums run in another order); results without a gradient exactly.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "op_table.h"
#include "tapegrad_kernels.h"

namespace op_table {

namespace {

using tg::Tensor;

// Fresh leaves with the same values, requiring grad where the originals do.
Inputs copies(const Inputs& inputs) {
  Inputs out;
  for (const Tensor& x : inputs) {
    Tensor c = x.detach().clone();
    if (x.requires_grad()) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

}  // namespace

tg::Device table_device() { return tg::Device::cpu(); }

void check_op(const Fn& f, const Inputs& inputs) {
  for (tg::Backend* backend : {&tg::cpu_backend(), &tg::reference_backend()}) {
    INFO("gradient check on the ", backend->name(), " backend");
    tg::HostBackendScope scope(*backend);
    const tg::GradcheckResult r = gradcheck_wanted(f, copies(inputs));
    CHECK_MESSAGE(r.ok, r.message);
  }
  const Inputs cpu_inputs = copies(inputs), reference_inputs = copies(inputs);
  tg::Generator gen(99);
  Tensor want, got, seed;
  {
    tg::HostBackendScope scope(tg::reference_backend());
    want = f(reference_inputs);
    seed = tg::randn(want.shape(), {want.dtype()}, gen);  // one output gradient for both
    want.backward(seed);
  }
  {
    tg::HostBackendScope scope(tg::cpu_backend());
    got = f(cpu_inputs);
    got.backward(seed);
  }
  check_equal(got, want, "value", "cpu - reference");
  for (size_t i = 0; i < inputs.size(); ++i)
    check_equal(cpu_inputs[i].grad(), reference_inputs[i].grad(), fmt::format("gradient of input {}", i),
                "cpu - reference");
}

void check_value(const Fn& f, const Inputs& inputs) {
  Tensor got, want;
  {
    tg::HostBackendScope scope(tg::reference_backend());
    want = f(inputs);
  }
  {
    tg::HostBackendScope scope(tg::cpu_backend());
    got = f(inputs);
  }
  check_equal(got, want, "value", "cpu - reference", 0);
}

}  // namespace op_table
