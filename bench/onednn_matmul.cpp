// GFLOP/s of oneDNN's matmul (Debian's libdnnl-dev, PyTorch's own CPU path
// for bf16 and int8) at one product shape, to set beside bench_matmul's
// figure for tapegrad at the same shape: bench/onednn.sh runs both. Not part
// of the build (oneDNN is no dependency of tapegrad); onednn.sh compiles it.
//
//   onednn_matmul M K N LAYOUT THREADS [kept]
//
// LAYOUT: NN, TN (A transposed in memory: a weight gradient's Xᵀ) or NT (B
// transposed: x·Wᵀ). kept: B is a parameter, laid out as oneDNN chooses
// (format `any`) by a reorder outside the timing, as tapegrad keeps a
// parameter's packing. Three forms, each printed on its own line:
//   f32        float32 in and out, strict float32 arithmetic
//   f32-bf16   float32 in and out, bf16 products allowed (fpmath_mode::bf16):
//              what would stand in for tapegrad's --precision bf16, which
//              takes float32 tensors and rounds them as it packs
//   bf16-in    A and B already bfloat16, float32 out: a bound, without the
//              conversion any float32 model must pay somewhere
// oneDNN's own threads are OpenMP's: THREADS sets omp_set_num_threads.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <vector>

namespace {

using dnnl::memory;

double median_gflops(dnnl::matmul& product, dnnl::stream& stream, memory& a, memory& b, memory& c, double flops) {
  std::vector<double> rates;
  for (int rep = 0; rep < 9; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    int calls = 0;
    double seconds = 0;
    do {  // each repetition at least 50 ms
      product.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
      stream.wait();
      ++calls;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (seconds < 0.05);
    rates.push_back(flops * calls / seconds / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

// Uniform values in [-1, 1) written through a float32 memory of the same shape, reordered into `target`.
void fill(memory& target, dnnl::engine& engine, dnnl::stream& stream, std::mt19937& rng) {
  memory::desc f32_desc = target.get_desc();
  f32_desc.data.data_type = dnnl_f32;
  memory values(f32_desc, engine);
  auto* data = static_cast<float*>(values.get_data_handle());
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (size_t i = 0; i < f32_desc.get_size() / sizeof(float); ++i) data[i] = uniform(rng);
  dnnl::reorder(values, target).execute(stream, values, target);
  stream.wait();
}

// Times the three forms of (m, k) x (k, n) and prints a line each.
void run(memory::dim m, memory::dim k, memory::dim n, bool a_transposed, bool b_transposed, bool kept,
         const char* layout, const char* threads) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::mt19937 rng(1);
  struct Form {
    const char* name;
    memory::data_type inputs;
    bool bf16_products;
  };
  for (const Form form : {Form{"f32", memory::data_type::f32, false}, Form{"f32-bf16", memory::data_type::f32, true},
                          Form{"bf16-in", memory::data_type::bf16, true}}) {
    const memory::desc a_desc({m, k}, form.inputs, a_transposed ? memory::format_tag::ba : memory::format_tag::ab);
    const memory::desc b_desc({k, n}, form.inputs, b_transposed ? memory::format_tag::ba : memory::format_tag::ab);
    const memory::desc c_desc({m, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::primitive_attr attributes;
    if (form.bf16_products) attributes.set_fpmath_mode(dnnl::fpmath_mode::bf16);
    const memory::desc b_chosen = kept ? memory::desc({k, n}, form.inputs, memory::format_tag::any) : b_desc;
    const dnnl::matmul::primitive_desc desc(dnnl::matmul::desc(a_desc, b_chosen, c_desc), attributes, engine);
    dnnl::matmul product(desc);
    memory a(a_desc, engine), b_plain(b_desc, engine), b(desc.weights_desc(), engine), c(c_desc, engine);
    fill(a, engine, stream, rng);
    fill(b_plain, engine, stream, rng);
    dnnl::reorder(b_plain, b).execute(stream, b_plain, b);
    stream.wait();
    const double gflops = median_gflops(product, stream, a, b, c, 2.0 * m * k * n);
    std::printf("onednn form=%s shape=(%ld,%ld)x(%ld,%ld) layout=%s%s threads=%s impl=%s gflops=%.1f\n", form.name,
                static_cast<long>(m), static_cast<long>(k), static_cast<long>(k), static_cast<long>(n), layout,
                kept ? " kept" : "", threads, desc.impl_info_str(), gflops);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool kept = argc == 7 && std::strcmp(argv[6], "kept") == 0;
  const bool known_layout =
      argc >= 6 && (std::strcmp(argv[4], "NN") == 0 || std::strcmp(argv[4], "TN") == 0 || std::strcmp(argv[4], "NT") == 0);
  if ((argc != 6 && !kept) || !known_layout) {
    std::fprintf(stderr, "usage: %s M K N LAYOUT THREADS [kept]  (LAYOUT: NN, TN or NT)\n", argv[0]);
    return 2;
  }
  long sizes[4] = {};  // M, K, N, threads: each a positive whole number
  for (int i = 0; i < 4; ++i) {
    const char* text = argv[i < 3 ? i + 1 : 5];
    char* end = nullptr;
    sizes[i] = std::strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || sizes[i] <= 0) {
      std::fprintf(stderr, "onednn_matmul: %s must be a positive whole number, got '%s'\n",
                   i == 0 ? "M" : i == 1 ? "K" : i == 2 ? "N" : "THREADS", text);
      return 2;
    }
  }
  const memory::dim m = sizes[0], k = sizes[1], n = sizes[2];
  const bool a_transposed = argv[4][0] == 'T', b_transposed = argv[4][1] == 'T';
  omp_set_num_threads(static_cast<int>(sizes[3]));
  try {
    run(m, k, n, a_transposed, b_transposed, argc == 7, argv[4], argv[5]);
  } catch (const std::exception& error) {  // dnnl::error included: a shape it cannot make, memory it cannot get
    std::fprintf(stderr, "onednn_matmul: (%ld, %ld) x (%ld, %ld): %s\n", sizes[0], sizes[1], sizes[1], sizes[2],
                 error.what());
    return 1;
  }
  return 0;
}
