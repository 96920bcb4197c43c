// The op table (tests/op_table.cpp) on the GPU, in float64: each op's
// finite-difference gradient check with the inputs on the GPU
// (core/autograd/gradcheck.h), and its value and the gradients of its inputs equal to
// the same op's on the cpu backend.
//
// Equal: max |gpu - cpu| <= 1e-12 · max(1, max |cpu|) per tensor (CUDA's
// exp/log/tanh/pow differ from the host's by an ulp or two, and sums run in
// another order); results without a gradient (comparisons, argmax) exactly.
//
// Without a usable GPU the program prints "SKIP: <reason>" and exits with 77.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cuda_test_main.h"
#include "op_table.h"
#include "tapegrad_kernels.h"

namespace op_table {

namespace {

using tg::Tensor;

const tg::Device kGpu = tg::Device::cuda(0);

// Copies of the inputs on the GPU; leaves that require grad where the originals do (detached first: x.to()
// of a leaf that requires grad is an op's result, whose gradient is not kept).
Inputs to_gpu(const Inputs& inputs) {
  Inputs out;
  for (const Tensor& x : inputs) {
    Tensor g = x.detach().to(kGpu);
    if (x.requires_grad()) g.requires_grad_();
    out.push_back(g);
  }
  return out;
}

// f on the cpu backend: the reference the GPU is held to.
Tensor on_cpu(const Fn& f, const Inputs& inputs) {
  tg::HostBackendScope scope(tg::cpu_backend());
  return f(inputs);
}

}  // namespace

tg::Device table_device() { return kGpu; }

void check_op(const Fn& f, const Inputs& inputs) {
  const Inputs gpu_inputs = to_gpu(inputs);
  const tg::GradcheckResult r = gradcheck_wanted(f, gpu_inputs);
  CHECK_MESSAGE(r.ok, r.message);

  for (const Inputs* set : {&inputs, &gpu_inputs})
    for (const Tensor& x : *set) x.set_grad(Tensor());
  const Tensor want = on_cpu(f, inputs), got = f(gpu_inputs);
  CHECK(got.device() == kGpu);
  check_equal(got, want, "value", "gpu - cpu");
  tg::Generator gen(99);
  const Tensor seed = tg::randn(want.shape(), {want.dtype()}, gen);
  {
    tg::HostBackendScope scope(tg::cpu_backend());
    want.backward(seed);
  }
  got.backward(seed.to(kGpu));
  for (size_t i = 0; i < inputs.size(); ++i)
    check_equal(gpu_inputs[i].grad(), inputs[i].grad(), fmt::format("gradient of input {}", i), "gpu - cpu");
}

void check_value(const Fn& f, const Inputs& inputs) {
  const Tensor got = f(to_gpu(inputs));
  CHECK(got.device() == kGpu);
  check_equal(got, on_cpu(f, inputs), "value", "gpu - cpu", 0);
}

}  // namespace op_table

int main(int argc, char** argv) { return run_cuda_test_program(argc, argv); }
