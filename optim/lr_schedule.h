#pragma once
// Learning-rate schedules. Each holds the optimizer, reads its lr at
// construction as the base lr, and sets a new lr on every step(). Call step()
// once after each optimizer.step() (WarmupInverseSqrt) or once per epoch
// (StepLR, ReduceLROnPlateau with the validation metric).
//
// state()/load_state() give the counters as scalars, for checkpoints: store
// them in the checkpoint metadata (train/training_checkpoint.h does this for you).
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "optim/optimizer.h"

namespace tg::optim {

class LRSchedule {
 public:
  explicit LRSchedule(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}
  virtual ~LRSchedule() = default;
  double lr() const { return optimizer_.lr(); }
  double base_lr() const { return base_lr_; }
  virtual std::string type_name() const = 0;
  virtual std::map<std::string, double> state() const = 0;
  // Restores what state() returned; throws naming missing keys.
  virtual void load_state(const std::map<std::string, double>& state) = 0;

 protected:
  Optimizer& optimizer_;
  double base_lr_;
};

// lr = base_lr · γ^⌊epoch / step_size⌋, epoch = number of step() calls.
class StepLR : public LRSchedule {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  void step();
  int64_t epoch() const { return epoch_; }
  std::string type_name() const override { return "StepLR"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  void apply();
  int64_t step_size_;
  double gamma_;
  int64_t epoch_ = 0;
};

// Linear warm-up, then decay with the inverse square root of the update count
// (the Transformer schedule, scaled so that the peak is base_lr):
//   lr(t) = base_lr · min(t / warmup, √(warmup / t))
// where t = 1, 2, ... numbers the optimizer updates. The lr for update t is set
// after t − 1 calls of step(): construction already sets lr(1) = base_lr / warmup,
// update `warmup` runs at base_lr, later ones decay.
class WarmupInverseSqrt : public LRSchedule {
 public:
  WarmupInverseSqrt(Optimizer& optimizer, int64_t warmup_steps);
  void step();
  int64_t update() const { return update_; }  // t of the next optimizer update
  std::string type_name() const override { return "WarmupInverseSqrt"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  void apply();
  int64_t warmup_;
  int64_t update_ = 1;
};

struct PlateauOptions {
  enum class Mode { min, max };
  Mode mode = Mode::min;  // min: lower metric is better (a loss); max: higher is (BLEU)
  double factor = 0.1;    // new lr = max(lr · factor, min_lr); in [0, 1)
  int64_t patience = 10;  // epochs without improvement tolerated before reducing
  double threshold = 1e-4;  // relative: better means < best·(1 − threshold) (min) or > best·(1 + threshold) (max)
  int64_t cooldown = 0;   // epochs after a reduction during which bad epochs are not counted
  double min_lr = 0;
  double eps = 1e-8;      // reductions smaller than this are skipped
};

// Reduces the lr when the metric stops improving, as
// torch.optim.lr_scheduler.ReduceLROnPlateau (1.13, threshold_mode 'rel'):
//   better → best = metric, bad = 0; else bad += 1
//   in cooldown → cooldown −= 1, bad = 0
//   bad > patience → lr = max(lr·factor, min_lr), cooldown = its option, bad = 0
// A nan metric counts as a bad epoch.
class ReduceLROnPlateau : public LRSchedule {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options = {});
  void step(double metric);
  double best() const { return best_; }
  int64_t bad_epochs() const { return bad_epochs_; }
  std::string type_name() const override { return "ReduceLROnPlateau"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  bool is_better(double metric) const;
  PlateauOptions options_;
  double best_;
  int64_t bad_epochs_ = 0;
  int64_t cooldown_left_ = 0;
  int64_t epoch_ = 0;
};

// Cosine annealing from the base lr down to eta_min over t_max steps, after an
// optional linear warm-up (torch.optim.lr_scheduler.CosineAnnealingLR's closed
// form when warmup_steps = 0). With t = the number of step() calls so far:
//   t < W:  lr = base_lr · (t + 1) / W                 (warm-up: base_lr / W first, base_lr at t = W − 1)
//   t ≥ W:  lr = eta_min + (base_lr − eta_min) · (1 + cos(π (t − W) / t_max)) / 2
// Past t = W + t_max the cosine goes on (the lr rises again), as PyTorch's does;
// pick t_max = the number of steps after warm-up to end at eta_min.
class CosineAnnealingLR : public LRSchedule {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0, int64_t warmup_steps = 0);
  void step();
  int64_t step_count() const { return step_; }  // t: step() calls so far
  std::string type_name() const override { return "CosineAnnealingLR"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  void apply();
  int64_t t_max_;
  double eta_min_;
  int64_t warmup_;
  int64_t step_ = 0;
};

// lr = base_lr · lr_lambda(t), t = the number of step() calls so far (0 at
// construction), as torch.optim.lr_scheduler.LambdaLR. The function is not
// part of the state: a restored schedule uses the one it was constructed with.
//   LambdaLR schedule(adam, [](int64_t t) { return std::pow(0.95, t); });
class LambdaLR : public LRSchedule {
 public:
  using Lambda = std::function<double(int64_t step)>;
  LambdaLR(Optimizer& optimizer, Lambda lr_lambda);
  void step();
  int64_t step_count() const { return step_; }
  std::string type_name() const override { return "LambdaLR"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  void apply();
  Lambda lr_lambda_;
  int64_t step_ = 0;
};

struct OneCycleOptions {
  double pct_start = 0.3;  // the share of the steps spent rising to max_lr, in [0, 1]
  enum class Anneal { cos, linear };
  Anneal anneal_strategy = Anneal::cos;
  double div_factor = 25;          // initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;   // min_lr = initial_lr / final_div_factor
  bool three_phase = false;        // come back down to initial_lr before the final descent
};

// The 1cycle policy, as torch.optim.lr_scheduler.OneCycleLR (1.13) without
// momentum cycling (tapegrad's optimizers fix their momentum / betas at
// construction). With t = the number of step() calls so far (0 at
// construction, which sets initial_lr) and T = total_steps:
//   two phases:    initial_lr → max_lr for t ≤ pct_start·T − 1,  then → min_lr at t = T − 1
//   three phases:  initial_lr → max_lr (t ≤ pct_start·T − 1) → initial_lr (t ≤ 2·pct_start·T − 2) → min_lr (T − 1)
// each phase annealed from its start lr s to its end lr e over its steps, p in [0, 1]:
//   cos: e + (s − e)·(1 + cos(π p)) / 2      linear: s + (e − s)·p
// The optimizer's lr at construction is not used: max_lr sets the scale
// (parameter groups with an lr of their own follow in proportion, optimizer.h).
// Stepping past t = T throws, as PyTorch's does. At t = T (the rate set after
// the last update, which no update uses) the anneal runs past its end, as
// PyTorch's; a linear one would go below 0 there and stops at 0 instead.
class OneCycleLR : public LRSchedule {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, OneCycleOptions options = {});
  void step();
  int64_t step_count() const { return step_; }
  double initial_lr() const { return max_lr_ / options_.div_factor; }
  double min_lr() const { return initial_lr() / options_.final_div_factor; }
  std::string type_name() const override { return "OneCycleLR"; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  void apply();
  double max_lr_;
  int64_t total_steps_;
  OneCycleOptions options_;
  int64_t step_ = 0;
};

}  // namespace tg::optim
