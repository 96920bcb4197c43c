#pragma once
// Checkpoint averaging (the `translate average` command): the element-wise
// mean of the parameters of several checkpoints of one model, e.g. the last
// epochs of a run (train --keep-epochs), which usually translates better than
// any one of them (Vaswani et al. 2017; Marian's and fairseq's averaging).
//
//   θ_avg = (1/N) Σ_i θ_i, summed in float64, then stored in the parameters' dtype
//
// The checkpoints must be of one model: the same kind, sizes, cell and
// vocabularies (subword models included). The result is a model checkpoint
// with the first checkpoint's metadata.
#include <string>
#include <vector>

namespace tg::translate {

// Writes the average of `paths` to `out_path` (which must not be one of them).
void average_checkpoints(const std::vector<std::string>& paths, const std::string& out_path);

}  // namespace tg::translate
