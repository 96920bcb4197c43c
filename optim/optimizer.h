#pragma once
// Optimizer: the base of SGD, Adam and AdamW. It holds the parameters (with
// names, for checkpoints), one learning rate, and per-parameter state (a step
// count and named buffers such as exp_avg). step() applies one update to every
// parameter that has a gradient, under NoGrad: updates are never recorded.
//
//   tg::optim::Adam opt(model.named_parameters(), {.lr = 1e-3});
//   loss.backward();
//   opt.step();
//   opt.zero_grad();
//
// Parameters are updated in place, so the module (or whoever else holds the
// tensors) sees the new values. There are no parameter groups: one lr for all.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tg::optim {

// Per-parameter state: the number of updates applied so far and the buffers
// an optimizer keeps (momentum_buffer; exp_avg, exp_avg_sq, max_exp_avg_sq).
// Buffers are created lazily on a parameter's first update.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
};

// The optimizer's state as named tensors and scalars, for checkpoints:
//   tensors  "<param name>.<buffer>"   e.g. "encoder.weight.exp_avg"
//   scalars  "lr", "<param name>.step"
// Parameter names are those given to the constructor ("0", "1", ... for a
// plain vector of tensors).
struct OptimizerState {
  std::string type;  // "SGD", "Adam", "AdamW"
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, double> scalars;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient (others are skipped).
  void step();
  // Drops every parameter's gradient.
  void zero_grad();

  double lr() const { return lr_; }
  // Schedules call this; throws for a negative lr.
  void set_lr(double lr);

  const std::vector<Tensor>& parameters() const { return params_; }
  const std::vector<std::string>& parameter_names() const { return names_; }
  const ParamState& param_state(size_t i) const { return states_.at(i); }
  virtual std::string type_name() const = 0;

  // Snapshot of the state (the tensors are copies) and its inverse. load_state
  // checks everything first and reports every problem in one tg::Error: wrong
  // optimizer type, unknown parameter names or buffers, shape or dtype
  // mismatches. It restores lr and every parameter's step and buffers;
  // the other hyperparameters stay as constructed.
  OptimizerState state() const;
  void load_state(const OptimizerState& state);

 protected:
  // `op` names the optimizer in errors ("Adam: lr must be >= 0, got -1").
  Optimizer(std::vector<std::pair<std::string, Tensor>> named_params, double lr, const char* op);
  static std::vector<std::pair<std::string, Tensor>> number(std::vector<Tensor> params);

  // Applies one update to `param` given its gradient; `state.step` has already
  // been incremented. Runs under NoGrad.
  virtual void update(const Tensor& param, const Tensor& grad, ParamState& state) = 0;
  // The buffers this optimizer may keep (load_state rejects others).
  virtual std::vector<std::string> buffer_names() const = 0;

  const char* op_;

 private:
  std::vector<Tensor> params_;
  std::vector<std::string> names_;
  std::vector<ParamState> states_;
  double lr_;
};

}  // namespace tg::optim
