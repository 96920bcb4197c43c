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
// tensors) sees the new values.
//
// Parameter groups (PyTorch's param_groups): each group may set its own lr
// and weight decay; unset ones take the optimizer's options. Split the
// model's named_parameters() so names stay unique across groups:
//   std::vector<std::pair<std::string, tg::Tensor>> decayed, biases;
//   for (auto& [name, p] : model.named_parameters()) (name.ends_with("bias") ? biases : decayed).emplace_back(name, p);
//   tg::optim::Adam opt({{.params = decayed}, {.params = biases, .weight_decay = 0}}, {.lr = 1e-3, .weight_decay = 1e-4});
// A schedule's set_lr(x) scales every group alike: a group that set its own
// lr runs at that lr · x / (the optimizer's lr at construction), as PyTorch's
// schedules scale each group from its initial lr.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::optim {

// Per-parameter state: the number of updates applied so far and the buffers
// an optimizer keeps (momentum_buffer; exp_avg, exp_avg_sq, max_exp_avg_sq).
// Buffers are created lazily on a parameter's first update.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
  size_t group = 0;  // the parameter group it belongs to (not part of a checkpoint's state)
};

struct ParamGroup {
  std::vector<std::pair<std::string, Tensor>> params;
  std::optional<double> lr;            // unset: the optimizer's lr
  std::optional<double> weight_decay;  // unset: the optimizer's weight_decay
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
  // step() with each gradient read as grad · grad_scale, rounded in its dtype,
  // the bits of scaling the gradients in place first; the gradients are left
  // as they are. With clip_grad_factor's factor it is clip_grad_norm then
  // step() with one pass over the gradients fewer (Adam and AdamW fold it into
  // their one kernel pass). grad_scale finite and > 0.
  void step(double grad_scale);
  // Drops every parameter's gradient.
  void zero_grad();

  double lr() const { return lr_; }
  // Schedules call this; throws for a negative lr. Groups with an lr of their own follow in proportion.
  void set_lr(double lr);
  size_t group_count() const { return groups_.size(); }
  double group_lr(size_t group) const;

  const std::vector<Tensor>& parameters() const { return params_; }
  const std::vector<std::string>& parameter_names() const { return names_; }
  const ParamState& param_state(size_t i) const { return states_.at(i); }
  virtual std::string type_name() const = 0;

  // Snapshot of the state (the tensors are copies) and its inverse. load_state
  // checks everything first and reports every problem in one tg::Error: wrong
  // optimizer type, unknown parameter names or buffers, shape or dtype
  // mismatches, a parameter in another group than when saved. It restores
  // lr and every parameter's step and buffers; the other hyperparameters
  // (the groups' own lr and weight decay included) stay as constructed.
  OptimizerState state() const;
  void load_state(const OptimizerState& state);

 protected:
  // `op` names the optimizer in errors ("Adam: lr must be >= 0, got -1").
  Optimizer(std::vector<std::pair<std::string, Tensor>> named_params, double lr, const char* op);
  Optimizer(std::vector<ParamGroup> groups, double lr, const char* op);
  static std::vector<std::pair<std::string, Tensor>> number(std::vector<Tensor> params);

  // The lr and weight decay of the group of a parameter with `state`, for
  // update(); `optimizer_decay` is the optimizer's own weight_decay option.
  double lr_for(const ParamState& state) const { return group_lr(state.group); }
  double weight_decay_for(const ParamState& state, double optimizer_decay) const {
    return groups_.at(state.group).weight_decay.value_or(optimizer_decay);
  }

  // Applies one update to `param` given its gradient; `state.step` has already
  // been incremented. Runs under NoGrad.
  virtual void update(const Tensor& param, const Tensor& grad, ParamState& state) = 0;
  // Whether update() multiplies the gradient by grad_scale() itself; otherwise
  // step(grad_scale) hands it a scaled copy.
  virtual bool reads_grad_scale() const { return false; }
  double grad_scale() const { return grad_scale_; }
  // The buffers this optimizer may keep (load_state rejects others).
  virtual std::vector<std::string> buffer_names() const = 0;

  const char* op_;
  double grad_scale_ = 1;  // step(grad_scale)'s, during the step

 private:
  std::vector<Tensor> params_;
  std::vector<std::string> names_;
  std::vector<ParamState> states_;
  std::vector<ParamGroup> groups_;  // their lr and weight_decay (params left empty)
  double lr_;
  double initial_lr_;  // the constructor's lr: groups' own lrs scale with lr_ / initial_lr_
};

}  // namespace tg::optim
