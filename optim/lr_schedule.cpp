#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "core/services/error.h"

namespace tg::optim {

namespace {
double get(const std::map<std::string, double>& state, const char* key, const char* schedule) {
  const auto it = state.find(key);
  if (it == state.end()) fail("{}: state has no '{}'", schedule, key);
  return it->second;
}
// A counter (epoch, step): a non-negative integer that fits in int64_t.
int64_t get_count(const std::map<std::string, double>& state, const char* key, const char* schedule) {
  const double value = get(state, key, schedule);
  if (!(value >= 0 && value < 0x1p63) || value != std::floor(value))
    fail("{}: state '{}' must be a non-negative integer below 2^63, got {}", schedule, key, value);
  return static_cast<int64_t>(value);
}
}  // namespace

// ---- StepLR ----

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRSchedule(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) fail("StepLR: step_size must be >= 1, got {}", step_size);
  if (!(gamma >= 0)) fail("StepLR: gamma must be >= 0, got {}", gamma);
}

void StepLR::apply() { optimizer_.set_lr(base_lr_ * std::pow(gamma_, static_cast<double>(epoch_ / step_size_))); }

void StepLR::step() {
  ++epoch_;
  apply();
}

std::map<std::string, double> StepLR::state() const {
  return {{"base_lr", base_lr_}, {"epoch", static_cast<double>(epoch_)}};
}

void StepLR::load_state(const std::map<std::string, double>& state) {
  base_lr_ = get(state, "base_lr", "StepLR");
  epoch_ = get_count(state, "epoch", "StepLR");
  apply();
}

// ---- WarmupInverseSqrt ----

WarmupInverseSqrt::WarmupInverseSqrt(Optimizer& optimizer, int64_t warmup_steps)
    : LRSchedule(optimizer), warmup_(warmup_steps) {
  if (warmup_steps < 1) fail("WarmupInverseSqrt: warmup_steps must be >= 1, got {}", warmup_steps);
  apply();
}

void WarmupInverseSqrt::apply() {
  const double t = static_cast<double>(update_), w = static_cast<double>(warmup_);
  optimizer_.set_lr(t <= w ? base_lr_ * t / w : base_lr_ * std::sqrt(w / t));
}

void WarmupInverseSqrt::step() {
  ++update_;
  apply();
}

std::map<std::string, double> WarmupInverseSqrt::state() const {
  return {{"base_lr", base_lr_}, {"update", static_cast<double>(update_)}};
}

void WarmupInverseSqrt::load_state(const std::map<std::string, double>& state) {
  base_lr_ = get(state, "base_lr", "WarmupInverseSqrt");
  update_ = get_count(state, "update", "WarmupInverseSqrt");
  apply();
}

// ---- ReduceLROnPlateau ----

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : LRSchedule(optimizer), options_(options) {
  const PlateauOptions& o = options;
  if (!(o.factor >= 0 && o.factor < 1)) fail("ReduceLROnPlateau: factor must be in [0, 1), got {}", o.factor);
  if (o.patience < 0) fail("ReduceLROnPlateau: patience must be >= 0, got {}", o.patience);
  if (o.cooldown < 0) fail("ReduceLROnPlateau: cooldown must be >= 0, got {}", o.cooldown);
  if (!(o.threshold >= 0)) fail("ReduceLROnPlateau: threshold must be >= 0, got {}", o.threshold);
  if (!(o.min_lr >= 0)) fail("ReduceLROnPlateau: min_lr must be >= 0, got {}", o.min_lr);
  const double inf = std::numeric_limits<double>::infinity();
  best_ = o.mode == PlateauOptions::Mode::min ? inf : -inf;
}

bool ReduceLROnPlateau::is_better(double metric) const {
  if (options_.mode == PlateauOptions::Mode::min) return metric < best_ * (1 - options_.threshold);
  return metric > best_ * (1 + options_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  ++epoch_;
  if (is_better(metric)) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;  // bad epochs during cooldown are ignored
  }
  if (bad_epochs_ > options_.patience) {
    const double old_lr = optimizer_.lr();
    const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
    if (old_lr - new_lr > options_.eps) optimizer_.set_lr(new_lr);
    cooldown_left_ = options_.cooldown;
    bad_epochs_ = 0;
  }
}

std::map<std::string, double> ReduceLROnPlateau::state() const {
  return {{"best", best_},
          {"bad_epochs", static_cast<double>(bad_epochs_)},
          {"cooldown_left", static_cast<double>(cooldown_left_)},
          {"epoch", static_cast<double>(epoch_)}};
}

void ReduceLROnPlateau::load_state(const std::map<std::string, double>& state) {
  best_ = get(state, "best", "ReduceLROnPlateau");
  bad_epochs_ = get_count(state, "bad_epochs", "ReduceLROnPlateau");
  cooldown_left_ = get_count(state, "cooldown_left", "ReduceLROnPlateau");
  epoch_ = get_count(state, "epoch", "ReduceLROnPlateau");
}

// ---- CosineAnnealingLR ----

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min, int64_t warmup_steps)
    : LRSchedule(optimizer), t_max_(t_max), eta_min_(eta_min), warmup_(warmup_steps) {
  if (t_max < 1) fail("CosineAnnealingLR: t_max must be >= 1, got {}", t_max);
  if (!(eta_min >= 0)) fail("CosineAnnealingLR: eta_min must be >= 0, got {}", eta_min);
  if (warmup_steps < 0) fail("CosineAnnealingLR: warmup_steps must be >= 0, got {}", warmup_steps);
  apply();
}

void CosineAnnealingLR::apply() {
  if (step_ < warmup_) {
    optimizer_.set_lr(base_lr_ * static_cast<double>(step_ + 1) / static_cast<double>(warmup_));
    return;
  }
  const double progress = static_cast<double>(step_ - warmup_) / static_cast<double>(t_max_);
  optimizer_.set_lr(eta_min_ + (base_lr_ - eta_min_) * (1 + std::cos(std::numbers::pi * progress)) / 2);
}

void CosineAnnealingLR::step() {
  ++step_;
  apply();
}

std::map<std::string, double> CosineAnnealingLR::state() const {
  return {{"base_lr", base_lr_}, {"step", static_cast<double>(step_)}};
}

void CosineAnnealingLR::load_state(const std::map<std::string, double>& state) {
  base_lr_ = get(state, "base_lr", "CosineAnnealingLR");
  step_ = get_count(state, "step", "CosineAnnealingLR");
  apply();
}

// ---- LambdaLR ----

LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lr_lambda) : LRSchedule(optimizer), lr_lambda_(std::move(lr_lambda)) {
  if (!lr_lambda_) fail("LambdaLR: lr_lambda is empty");
  apply();
}

void LambdaLR::apply() {
  const double factor = lr_lambda_(step_);
  if (!std::isfinite(factor)) fail("LambdaLR: lr_lambda({}) returned {}, not a finite number", step_, factor);
  optimizer_.set_lr(base_lr_ * factor);
}

void LambdaLR::step() {
  ++step_;
  apply();
}

std::map<std::string, double> LambdaLR::state() const {
  return {{"base_lr", base_lr_}, {"step", static_cast<double>(step_)}};
}

void LambdaLR::load_state(const std::map<std::string, double>& state) {
  base_lr_ = get(state, "base_lr", "LambdaLR");
  step_ = get_count(state, "step", "LambdaLR");
  apply();
}

// ---- OneCycleLR ----

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, OneCycleOptions options)
    : LRSchedule(optimizer), max_lr_(max_lr), total_steps_(total_steps), options_(options) {
  if (total_steps < 1) fail("OneCycleLR: total_steps must be >= 1, got {}", total_steps);
  if (!(max_lr > 0)) fail("OneCycleLR: max_lr must be > 0, got {}", max_lr);
  if (!(options.pct_start >= 0 && options.pct_start <= 1))
    fail("OneCycleLR: pct_start must be in [0, 1], got {}", options.pct_start);
  if (!(options.div_factor > 0)) fail("OneCycleLR: div_factor must be > 0, got {}", options.div_factor);
  if (!(options.final_div_factor > 0))
    fail("OneCycleLR: final_div_factor must be > 0, got {}", options.final_div_factor);
  base_lr_ = initial_lr();
  apply();
}

void OneCycleLR::apply() {
  struct Phase {
    double end_step, start_lr, end_lr;
  };
  const double total = static_cast<double>(total_steps_), pct = options_.pct_start;
  const double initial = initial_lr(), minimum = min_lr();
  std::vector<Phase> phases;
  if (options_.three_phase)
    phases = {{pct * total - 1, initial, max_lr_},
              {2 * pct * total - 2, max_lr_, initial},
              {total - 1, initial, minimum}};
  else
    phases = {{pct * total - 1, initial, max_lr_}, {total - 1, max_lr_, minimum}};
  const double t = static_cast<double>(step_);
  double start_step = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& phase = phases[i];
    if (t <= phase.end_step || i + 1 == phases.size()) {
      // A phase of no length (pct_start · T = 1) is at its end (PyTorch divides by zero there).
      const double span = phase.end_step - start_step;
      const double p = span == 0 ? 1.0 : (t - start_step) / span;
      const double lr = options_.anneal_strategy == OneCycleOptions::Anneal::cos
                            ? phase.end_lr + (phase.start_lr - phase.end_lr) * (1 + std::cos(std::numbers::pi * p)) / 2
                            : phase.start_lr + (phase.end_lr - phase.start_lr) * p;
      optimizer_.set_lr(std::max(lr, 0.0));  // past the end (t = T) a linear anneal would go below 0
      return;
    }
    start_step = phase.end_step;
  }
}

void OneCycleLR::step() {
  if (step_ + 1 > total_steps_)
    fail("OneCycleLR: step {} is beyond total_steps {} (the schedule ends there; make total_steps larger)", step_ + 1,
         total_steps_);
  ++step_;
  apply();
}

std::map<std::string, double> OneCycleLR::state() const {
  return {{"max_lr", max_lr_}, {"step", static_cast<double>(step_)}};
}

void OneCycleLR::load_state(const std::map<std::string, double>& state) {
  max_lr_ = get(state, "max_lr", "OneCycleLR");
  step_ = get_count(state, "step", "OneCycleLR");
  if (step_ > total_steps_) fail("OneCycleLR: state 'step' {} is beyond total_steps {}", step_, total_steps_);
  base_lr_ = initial_lr();
  apply();
}

}  // namespace tg::optim
