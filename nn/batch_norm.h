#pragma once
// Batch normalisation modules (ops/batch_norm.h has the formula), as
// torch.nn.BatchNorm1d and BatchNorm2d:
//   BatchNorm2d(32) on (B, 32, H, W);   BatchNorm1d(128) on (B, 128) or (B, 128, L)
// Parameters weight (ones) and bias (zeros) of (C) unless affine = false.
// Buffers running_mean (zeros), running_var (ones) and num_batches_tracked
// (an int64 count) unless track_running_stats = false; they go into
// checkpoints with the parameters (Module::state_dict). In training mode
// (Module::train()) a forward normalises with the batch's statistics and
// updates the running ones; in evaluation mode (eval()) it uses the running
// ones. Without running statistics it always uses the batch's.
#include <vector>

#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }

  Tensor weight, bias;                                   // (C), undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  // (C), (C), int64 (); undefined without tracking

 protected:
  // `ranks`: the x ranks the module accepts, named in its errors.
  BatchNorm(const char* name, int64_t num_features, BatchNormOptions options, std::vector<int> ranks, const char* shapes);

 private:
  const char* name_;
  int64_t num_features_;
  BatchNormOptions options_;
  std::vector<int> ranks_;
  const char* shapes_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {});
  std::string type_name() const override { return "BatchNorm1d"; }
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {});
  std::string type_name() const override { return "BatchNorm2d"; }
};

}  // namespace tg::nn
