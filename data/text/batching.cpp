#include "data/text/batching.h"

#include <algorithm>
#include <numeric>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/generator.h"

namespace tg::text {

namespace {

int64_t len(const std::vector<int64_t>& v) { return static_cast<int64_t>(v.size()); }

// Fisher-Yates with tapegrad's Generator: the same on every platform.
template <typename T>
void shuffle(std::vector<T>& v, Generator& gen) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);
}

// A generator for (seed, epoch), the two mixed so nearby seeds/epochs differ.
Generator epoch_generator(uint64_t seed, uint64_t epoch) {
  return Generator(seed * 0x9E3779B97F4A7C15ULL + (epoch + 1) * 0xD1B54A32D192ED03ULL);
}

void check_options(const BatchOptions& o) {
  if (o.batch_size < 1) fail("batching: batch_size must be at least 1, got {}", o.batch_size);
  if (o.max_tokens < 0) fail("batching: max_tokens must be 0 (no limit) or positive, got {}", o.max_tokens);
  if (o.pool_batches < 1) fail("batching: pool_batches must be at least 1, got {}", o.pool_batches);
}

// Cuts `order` into consecutive batches of at most batch_size sentences and
// (when max_tokens > 0) at most max_tokens padded positions B * max(S, T + 1).
void cut(const std::vector<Example>& examples, const std::vector<int64_t>& order, const BatchOptions& o,
         std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> current;
  int64_t longest = 0;
  for (const int64_t i : order) {
    const Example& e = examples[static_cast<size_t>(i)];
    const int64_t width = std::max(len(e.src), len(e.tgt) + 1);
    const int64_t new_longest = std::max(longest, width);
    const bool over_tokens = o.max_tokens > 0 && new_longest * (len(current) + 1) > o.max_tokens;
    if (!current.empty() && (len(current) == o.batch_size || over_tokens)) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, width);
  }
  if (!current.empty()) batches.push_back(std::move(current));
}

// Longest source first, then longest target; ties keep their order.
void sort_by_length(const std::vector<Example>& examples, std::vector<int64_t>& order) {
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const Example& x = examples[static_cast<size_t>(a)];
    const Example& y = examples[static_cast<size_t>(b)];
    if (x.src.size() != y.src.size()) return x.src.size() > y.src.size();
    return x.tgt.size() > y.tgt.size();
  });
}

}  // namespace

int64_t drop_long_examples(std::vector<Example>& examples, int64_t max_len) {
  if (max_len < 1) fail("drop_long_examples: max_len must be at least 1, got {}", max_len);
  const size_t before = examples.size();
  std::erase_if(examples, [&](const Example& e) { return len(e.src) > max_len || len(e.tgt) > max_len; });
  return static_cast<int64_t>(before - examples.size());
}

std::vector<std::vector<int64_t>> plan_epoch(const std::vector<Example>& examples, const BatchOptions& options,
                                             uint64_t epoch) {
  check_options(options);
  Generator gen = epoch_generator(options.seed, epoch);
  std::vector<int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, gen);

  std::vector<std::vector<int64_t>> batches;
  if (!options.bucket) {
    cut(examples, order, options, batches);
    return batches;
  }
  const size_t pool = static_cast<size_t>(options.pool_batches * options.batch_size);
  for (size_t start = 0; start < order.size(); start += pool) {
    std::vector<int64_t> chunk(order.begin() + start, order.begin() + std::min(order.size(), start + pool));
    sort_by_length(examples, chunk);
    cut(examples, chunk, options, batches);
  }
  shuffle(batches, gen);
  return batches;
}

std::vector<std::vector<int64_t>> plan_eval(const std::vector<Example>& examples, int64_t batch_size) {
  BatchOptions options;
  options.batch_size = batch_size;
  check_options(options);
  std::vector<int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  sort_by_length(examples, order);
  std::vector<std::vector<int64_t>> batches;
  cut(examples, order, options, batches);
  return batches;
}

int64_t target_tokens(const std::vector<Example>& examples, const std::vector<int64_t>& indices) {
  int64_t tokens = 0;
  for (const int64_t i : indices) tokens += static_cast<int64_t>(examples[static_cast<size_t>(i)].tgt.size()) + 1;
  return tokens;
}

Batch make_batch(const std::vector<Example>& examples, const std::vector<int64_t>& indices, int64_t pad_id,
                 int64_t bos_id, int64_t eos_id) {
  if (indices.empty()) fail("make_batch: no examples given; expected at least one index");
  const int64_t B = len(indices);
  int64_t S = 0, T = 0;
  for (const int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(examples.size()))
      fail("make_batch: index {} out of range [0, {})", i, examples.size());
    S = std::max(S, len(examples[static_cast<size_t>(i)].src));
    T = std::max(T, len(examples[static_cast<size_t>(i)].tgt) + 1);
  }
  if (S == 0) fail("make_batch: every source in the batch is empty; expected at least one token");

  std::vector<int64_t> src(static_cast<size_t>(S * B), pad_id), tgt_in(static_cast<size_t>(T * B), pad_id),
      tgt_out(static_cast<size_t>(T * B), pad_id), src_lengths(static_cast<size_t>(B)),
      tgt_lengths(static_cast<size_t>(B));
  Tensor src_mask = Tensor::empty({B, S}, {DType::boolean});
  bool* mask = src_mask.data<bool>();
  Batch batch;
  for (int64_t b = 0; b < B; ++b) {
    const Example& e = examples[static_cast<size_t>(indices[static_cast<size_t>(b)])];
    const int64_t n = len(e.src), m = len(e.tgt);
    for (int64_t s = 0; s < S; ++s) {
      if (s < n) src[static_cast<size_t>(s * B + b)] = e.src[static_cast<size_t>(s)];  // (S, B): row s, column b
      mask[b * S + s] = s < n;                                                         // (B, S)
    }
    tgt_in[static_cast<size_t>(b)] = bos_id;  // <bos> y1 .. ym
    for (int64_t t = 0; t < m; ++t) {
      tgt_in[static_cast<size_t>((t + 1) * B + b)] = e.tgt[static_cast<size_t>(t)];
      tgt_out[static_cast<size_t>(t * B + b)] = e.tgt[static_cast<size_t>(t)];  // y1 .. ym <eos>
    }
    tgt_out[static_cast<size_t>(m * B + b)] = eos_id;
    src_lengths[static_cast<size_t>(b)] = n;
    tgt_lengths[static_cast<size_t>(b)] = m + 1;
    batch.num_tgt_tokens += m + 1;
  }
  batch.src = index_tensor(src, {S, B});
  batch.src_lengths = index_tensor(src_lengths, {B});
  batch.src_mask = src_mask;
  batch.tgt_in = index_tensor(tgt_in, {T, B});
  batch.tgt_out = index_tensor(tgt_out, {T, B});
  batch.tgt_lengths = index_tensor(tgt_lengths, {B});
  batch.indices = indices;
  return batch;
}

Tensor target_rows(const Batch& batch) {
  check_defined(batch.tgt_out, "target_rows", "tgt_out");
  const Tensor& tgt_out = batch.tgt_out;
  if (tgt_out.ndim() != 2 || tgt_out.dtype() != DType::i64)
    fail("target_rows: tgt_out must be int64 (T, B), got {} {}", dtype_name(tgt_out.dtype()), tgt_out.shape().str());
  const int64_t T = tgt_out.size(0), B = tgt_out.size(1);
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(T * B));
  if (tgt_out.device().is_host()) {
    const std::vector<int64_t> y = tgt_out.to_vector<int64_t>();
    for (int64_t r = 0; r < T * B; ++r)
      if (y[static_cast<size_t>(r)] != Vocab::pad_id) rows.push_back(r);
  } else {
    const Tensor& lengths = batch.tgt_lengths;
    if (!lengths.defined() || !lengths.device().is_host() || !(lengths.shape() == Shape{B}) ||
        lengths.dtype() != DType::i64)
      fail("target_rows: with tgt_out on {}, tgt_lengths must be int64 ({}) on the host, got {}", tgt_out.device().str(),
           B, lengths.defined() ? fmt::format("{} {} on {}", dtype_name(lengths.dtype()), lengths.shape().str(),
                                              lengths.device().str())
                                : std::string("none"));
    const std::vector<int64_t> n = lengths.to_vector<int64_t>();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        if (t < n[static_cast<size_t>(b)]) rows.push_back(t * B + b);
  }
  return index_tensor(rows, {static_cast<int64_t>(rows.size())}).to(tgt_out.device());
}

Batch Batch::to(Device device) const {
  Batch moved = *this;
  for (Tensor* t : {&moved.src, &moved.src_mask, &moved.tgt_in, &moved.tgt_out})
    if (t->defined()) *t = t->to(device);
  return moved;
}

double padding_fraction(const std::vector<Example>& examples, const std::vector<std::vector<int64_t>>& plan) {
  int64_t real = 0, total = 0;
  for (const auto& batch : plan) {
    int64_t S = 0, T = 0;
    for (const int64_t i : batch) {
      const Example& e = examples[static_cast<size_t>(i)];
      S = std::max(S, len(e.src));
      T = std::max(T, len(e.tgt) + 1);
      real += len(e.src) + len(e.tgt) + 1;
    }
    total += (S + T) * len(batch);
  }
  return total == 0 ? 0.0 : 1.0 - static_cast<double>(real) / static_cast<double>(total);
}

std::vector<Example> encode_pairs(const std::vector<std::vector<std::string>>& sources,
                                  const std::vector<std::vector<std::string>>& targets, const Vocab& src_vocab,
                                  const Vocab& tgt_vocab) {
  if (sources.size() != targets.size())
    fail("encode_pairs: {} sources but {} targets; expected as many of each", sources.size(), targets.size());
  std::vector<Example> examples(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    examples[i].src = src_vocab.encode(sources[i]);
    examples[i].tgt = tgt_vocab.encode(targets[i]);
  }
  return examples;
}

}  // namespace tg::text
