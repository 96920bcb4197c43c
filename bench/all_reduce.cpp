// The gradient all-reduce of the full Bahdanau model (embed 256, hidden 512:
// 20.6M float32, 82 MB) between the ranks of `mpirun -np N`, with a barrier
// before each call so that no rank waits for a slower one: what the
// communication itself costs per step (copies into and out of the flat
// buffer included). Prints the median of --repeats calls on rank 0.
//   mpirun -np 2 build/bench/bench_all_reduce [--bucket-mib 4] [--repeats 10]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "backends/cpu/thread_pool.h"
#include "distributed/all_reduce.h"
#include "distributed/distributed.h"
#include "distributed/run.h"
#include "apps/translate/models/seq2seq.h"

int main(int argc, char** argv) {
  CLI::App app{"Gradient all-reduce of the Bahdanau model between MPI ranks"};
  int64_t bucket_mib = 4, repeats = 10;
  app.add_option("--bucket-mib", bucket_mib, "bucket size in MiB")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--repeats", repeats, "timed calls")->check(CLI::Range(1, 1000))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return tg::distributed::run_ranks(argc, argv, [&]() {
    tg::set_num_threads(1);  // no kernel threads beside the ranks
    tg::translate::ModelConfig config;  // embed 256, hidden 512
    config.src_vocab = 7853;            // Multi30k with --min-freq 2
    config.tgt_vocab = 5893;
    const std::unique_ptr<tg::translate::Seq2Seq> model = tg::translate::make_model(config, 1);
    std::vector<tg::Tensor> grads;
    int64_t elements = 0;
    for (const tg::Tensor& p : model->parameters()) {
      grads.push_back(p.clone());
      elements += p.numel();
    }
    tg::distributed::AllReducer reducer(static_cast<size_t>(bucket_mib) << 20);
    std::vector<double> ms;
    for (int64_t i = 0; i < repeats + 2; ++i) {  // two warm-up calls
      tg::distributed::barrier();
      const auto start = std::chrono::steady_clock::now();
      reducer.reduce(grads, tg::distributed::ReduceOp::sum);
      if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    if (tg::distributed::is_root())
      fmt::print("{} ranks, {} tensors, {:.1f}M float32 ({:.1f} MB), buckets of {} MiB ({} calls): median {:.1f} ms, "
                 "min {:.1f} ms over {} calls\n",
                 tg::distributed::world_size(), grads.size(), elements / 1e6, elements * 4 / 1e6, bucket_mib,
                 reducer.buckets_last_call(), ms[ms.size() / 2], ms.front(), ms.size());
    return 0;
  });
}
