// Chapter 6, exercise 2: how accurate is the cpu backend's vectorised float32
// tanh (backends/cpu/cpu_math.h, a polynomial and e^x built from exponent bits)
// against the reference backend's std::tanh? One million inputs over
// [-10, 10], the distance counted in ulps (floats between the two results).
// Exits 1 if it is more than 4 ulps anywhere: "a few ulp", as cpu_math.h says.
#include <fmt/format.h>
#include <backends/reference/reference_backend.h>  // tg::reference_backend()
#include <tapegrad.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <vector>

// Position of a float on the number line of floats, so that neighbours differ by 1.
int64_t float_index(float x) {
  const int32_t bits = std::bit_cast<int32_t>(x);
  return bits < 0 ? -static_cast<int64_t>(bits & 0x7fffffff) : bits;
}

int main() {
  const int64_t n = 1'000'000;
  const tg::Tensor x = tg::arange(-10.0, 10.0, 20.0 / n);  // float32
  const tg::Tensor on_cpu = tg::tanh(x);
  tg::Tensor on_reference;
  {
    tg::HostBackendScope use(tg::reference_backend());
    on_reference = tg::tanh(x);
  }
  const std::vector<float> a = on_cpu.to_vector<float>(), b = on_reference.to_vector<float>(), xs = x.to_vector<float>();
  int64_t worst = 0;
  float worst_x = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int64_t ulps = std::llabs(float_index(a[i]) - float_index(b[i]));
    if (ulps > worst) worst = ulps, worst_x = xs[i];
  }
  fmt::print("float32 tanh, cpu against reference over {} inputs in [-10, 10]: at most {} ulp (at x = {})\n",
             a.size(), worst, worst_x);
  return worst <= 4 ? 0 : 1;
}
