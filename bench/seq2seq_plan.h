#pragma once
// The files through which bench_seq2seq hands its exact batches to the
// PyTorch twin (bench/seq2seq_torch.py), so that both sides train and decode
// on identical token ids. Plain text, whitespace-separated, one item a line,
// so Python reads it with split() and no extra packages:
//
//   seq2seq-plan 1                      (or seq2seq-decode-plan 1)
//   config key=value key=value ...      model, vocabularies, sizes, optimizer settings
//   batches K
//   then K times, for a training plan:
//     batch S B T
//     src          S·B ids, (S, B) row-major
//     src_lengths  B ids
//     tgt_in       T·B ids, (T, B) row-major
//     tgt_out      T·B ids, (T, B) row-major
//   or for a decoding plan:
//     batch S B
//     src          S·B ids
//     src_lengths  B ids
//     indices      B sentence numbers (0-based, in the test file's order)
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/text/batching.h"

namespace tg::bench {

using PlanConfig = std::vector<std::pair<std::string, std::string>>;  // key=value, in order

void write_train_plan(const std::string& path, const PlanConfig& config, const std::vector<text::Batch>& batches);
void write_decode_plan(const std::string& path, const PlanConfig& config, const std::vector<text::Batch>& batches);

}  // namespace tg::bench
