// libFuzzer target: the checkpoint loaders (nn/ and train/training_checkpoint.h) on arbitrary
// files, into a small two-layer model with Adam and a StepLR schedule, as a
// resumed training run would: parameters alone (strict and not), then with
// the optimizer's state and the schedule's counters. Every input loads or
// throws tg::Error, and a load that throws leaves the parameters unchanged.
#include "fuzz_support.h"
#include "tapegrad.h"

namespace {

struct Net : tg::nn::Module {
  tg::Generator gen{1};  // declared first: the layers draw from it
  tg::nn::Linear encoder{2, 3, {.dtype = tg::DType::f32}, gen}, decoder{3, 1, {.dtype = tg::DType::f32}, gen};
  Net() {
    register_module("encoder", encoder);
    register_module("decoder", decoder);
  }
  // The parameters' bytes (compared bitwise: a loaded file may hold NaN).
  std::string bytes() const {
    std::string out;
    for (const auto& [name, p] : named_parameters()) {
      const std::vector<float> v = p.to_vector<float>();
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    }
    return out;
  }
};

// Runs one load; a tg::Error must leave the parameters as they were.
template <typename Load>
void try_load(const Net& net, Load load) {
  const auto before = net.bytes();
  try {
    load();
  } catch (const tg::Error&) {
    if (net.bytes() != before) fuzz::broken("a failed load changed the parameters");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchFile file(".safetensors");
  const std::string& path = file.write(fuzz::bytes(data, size));
  Net net;
  try_load(net, [&] { tg::nn::load(net, path); });
  try_load(net, [&] { tg::nn::load(net, path, {.strict = false}); });
  tg::optim::Adam adam(net.named_parameters(), {});
  tg::optim::StepLR schedule(adam, 2, 0.5);
  try_load(net, [&] { tg::train::load(net, adam, path, {}, &schedule); });
  return 0;
}
