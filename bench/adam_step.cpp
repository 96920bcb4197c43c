// Adam::step on the Bahdanau model's parameter set (apps/translate with
// Multi30k-sized vocabularies: about 20M float32 values in 25-odd tensors),
// gradients drawn once; times `reps` steps after one warm-up step (which
// creates the moment buffers) and reports the median.
//
// Output:
//   adam_step params=20123456 tensors=26 amsgrad=0 threads=2 ms_per_step=41.2
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "apps/translate/models/seq2seq.h"
#include "tapegrad.h"

int main(int argc, char** argv) {
  using namespace tg;
  int64_t src_vocab = 7853, tgt_vocab = 5893;  // Multi30k de/en, words seen at least twice
  int reps = 5, threads = 2;
  bool amsgrad = false;
  CLI::App app{"Adam::step on the Bahdanau model's parameters"};
  app.add_option("--src-vocab", src_vocab)->capture_default_str();
  app.add_option("--tgt-vocab", tgt_vocab)->capture_default_str();
  app.add_option("--reps", reps, "Timed steps; the median is reported")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_flag("--amsgrad", amsgrad);
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  translate::ModelConfig config;
  config.src_vocab = src_vocab;
  config.tgt_vocab = tgt_vocab;
  const auto model = translate::make_model(config, 1);
  const std::vector<std::pair<std::string, Tensor>> params = model->named_parameters();
  Generator gen(7);
  int64_t count = 0;
  for (const auto& [name, p] : params) {
    p.set_grad(normal(p.shape(), 0, 1e-2, {p.dtype()}, gen));
    count += p.numel();
  }
  optim::Adam adam(params, {.lr = 1e-3, .amsgrad = amsgrad});
  adam.step();  // warm-up: allocates exp_avg and exp_avg_sq

  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    adam.step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  fmt::print("adam_step params={} tensors={} amsgrad={} threads={} ms_per_step={:.1f}\n", count, params.size(),
             amsgrad ? 1 : 0, threads, ms[ms.size() / 2]);
}
