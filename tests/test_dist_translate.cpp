// Data-parallel training of the translation models equals one process
// (tests/meson.build starts this program as 2 and as 3 MPI ranks). In float64
// with dropout 0, every rank trains on its share of each global batch of 64
// sentence pairs of different lengths (apps/translate/rank_shares.h:
// share_loss, distributed::AllReducer) for 5 Adam steps; meanwhile each rank also
// trains, alone, a second copy of the model on the whole batches. The two
// must agree to 1e-12, and every rank must hold the same bits of parameters
// and Adam state. TAPEGRAD_TEST_DEVICE=cuda runs the ranks on the GPUs
// (distributed::rank_device: several ranks may share one), the gradients
// staged through host buffers; scripts/gpu/check.sh does so where a GPU is.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/rank_shares.h"
#include "distributed/all_reduce.h"
#include "distributed/broadcast.h"
#include "distributed/distributed.h"
#include "distributed/rank_device.h"
#include "tapegrad.h"

namespace {

using tg::DType;
using tg::Tensor;
using tg::text::Example;
using tg::translate::ModelConfig;
using tg::translate::Seq2Seq;
namespace distributed = tg::distributed;

// Where the ranks train: the cpu, or TAPEGRAD_TEST_DEVICE's device for this rank.
tg::Device test_device() {
  const char* text = std::getenv("TAPEGRAD_TEST_DEVICE");
  return text == nullptr ? tg::Device::cpu() : distributed::rank_device(text);
}

// Made on the cpu (the same weights anywhere), then moved to the test device.
std::unique_ptr<Seq2Seq> build(const ModelConfig& config, uint64_t seed) {
  tg::Generator gen(seed);
  std::unique_ptr<Seq2Seq> model;
  if (config.kind == "cho") model = std::make_unique<tg::translate::ChoModel>(config, DType::f64, gen);
  else model = std::make_unique<tg::translate::BahdanauModel>(config, DType::f64, gen);
  model->to(test_device());
  return model;
}

// 320 pairs, sources and targets of 1 to 12 tokens, the same on every rank.
std::vector<Example> make_examples(int64_t src_vocab, int64_t tgt_vocab) {
  tg::Generator gen(2024);
  std::vector<Example> examples(320);
  auto sentence = [&](int64_t vocab) {
    std::vector<int64_t> ids(1 + gen.next_u64() % 12);
    for (int64_t& id : ids) id = 4 + static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(vocab - 4));
    return ids;
  };
  for (Example& e : examples) {
    e.src = sentence(src_vocab);
    e.tgt = sentence(tgt_vocab);
  }
  return examples;
}

bool same_bytes_on_all_ranks(const Tensor& t) {
  const std::vector<double> mine = t.to_vector<double>();
  const std::string bytes(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(double));
  return distributed::all_reduce_sum(distributed::broadcast_string(bytes, 0) == bytes ? 0.0 : 1.0) == 0;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

}  // namespace

TEST_CASE("N ranks with shares of a batch of 64 make the updates of one process with the whole batch") {
  for (const std::string kind : {"cho", "bahdanau"}) {
    CAPTURE(kind);
    ModelConfig config;
    config.kind = kind;
    config.src_vocab = 23;
    config.tgt_vocab = 19;
    config.embed = 8;
    config.hidden = 10;
    config.dropout = 0;
    const std::vector<Example> examples = make_examples(config.src_vocab, config.tgt_vocab);
    tg::text::BatchOptions batching;
    batching.batch_size = 64;
    batching.seed = 5;
    const std::vector<std::vector<int64_t>> plan = tg::text::plan_epoch(examples, batching, 0);
    REQUIRE(plan.size() == 5);

    // One process, whole batches (this rank alone, no communication).
    std::unique_ptr<Seq2Seq> whole = build(config, 11);
    tg::optim::Adam whole_adam(whole->named_parameters(), {.lr = 1e-2});
    std::vector<double> whole_losses;
    for (const std::vector<int64_t>& indices : plan) {
      const Tensor loss = whole->loss(tg::text::make_batch(examples, indices).to(test_device()));
      whole_losses.push_back(loss.item());
      loss.backward();
      whole_adam.step();
      whole_adam.zero_grad();
    }

    // Every rank its share; rank 0's initial weights everywhere (another seed
    // on the other ranks, so the broadcast has to work).
    std::unique_ptr<Seq2Seq> model = build(config, distributed::rank() == 0 ? 11 : 12 + static_cast<uint64_t>(distributed::rank()));
    distributed::broadcast(model->parameters());
    tg::optim::Adam adam(model->named_parameters(), {.lr = 1e-2});
    distributed::AllReducer reducer(1000);  // small buckets: tensors straddle them
    for (size_t step = 0; step < plan.size(); ++step) {
      const tg::translate::BatchShare share =
          tg::translate::batch_share(examples, plan[step], distributed::rank(), distributed::world_size());
      CHECK(share.indices.size() >= plan[step].size() / static_cast<size_t>(distributed::world_size()));
      const Tensor loss = tg::translate::share_loss(
          *model, tg::text::make_batch(examples, share.indices).to(test_device()), share.global_tokens);
      CHECK(std::abs(distributed::all_reduce_sum(loss.item()) - whole_losses[step]) < 1e-12);
      loss.backward();
      reducer.reduce_gradients(model->parameters());
      adam.step();
      adam.zero_grad();
    }

    const auto named = model->named_parameters();
    const auto whole_named = whole->named_parameters();
    double worst = 0;
    for (size_t i = 0; i < named.size(); ++i) {
      CAPTURE(named[i].first);
      worst = std::max(worst, max_abs_diff(named[i].second, whole_named[i].second));
      CHECK(same_bytes_on_all_ranks(named[i].second));
    }
    CHECK(worst < 1e-12);
    CHECK(max_abs_diff(named[0].second, build(config, 11)->named_parameters()[0].second) > 1e-3);  // it did train
    for (const auto& [name, state] : adam.state().tensors) {
      CAPTURE(name);
      CHECK(same_bytes_on_all_ranks(state));
    }
  }
}

TEST_CASE("batch_share: the ranks' shares cover the global batch once; its token count is the whole batch's") {
  std::vector<Example> examples(7);
  for (size_t i = 0; i < examples.size(); ++i) examples[i].tgt.assign(i + 1, 5);
  const std::vector<int64_t> global = {6, 0, 3, 2, 5};
  std::vector<int64_t> seen;
  for (int r = 0; r < 3; ++r) {
    const tg::translate::BatchShare share = tg::translate::batch_share(examples, global, r, 3);
    CHECK(share.global_tokens == (7 + 1) + (1 + 1) + (4 + 1) + (3 + 1) + (6 + 1));
    seen.insert(seen.end(), share.indices.begin(), share.indices.end());
  }
  CHECK(seen == std::vector<int64_t>{6, 2, 0, 5, 3});
  CHECK(tg::translate::batch_share(examples, {4}, 1, 2).indices.empty());  // smaller than the world
  CHECK_THROWS_WITH_AS(tg::translate::batch_share(examples, global, 2, 2),
                       "distributed::rank_share: rank 2 of 2 ranks; expected 0 <= rank < ranks", tg::Error);
}
