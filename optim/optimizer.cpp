#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "optim/update_kernels.h"

namespace tg::optim {

Optimizer::Optimizer(std::vector<std::pair<std::string, Tensor>> named_params, double lr, const char* op)
    : Optimizer(std::vector<ParamGroup>{ParamGroup{std::move(named_params), {}, {}}}, lr, op) {}

Optimizer::Optimizer(std::vector<ParamGroup> groups, double lr, const char* op)
    : op_(op), lr_(lr), initial_lr_(lr) {
  if (!(lr >= 0)) fail("{}: lr must be >= 0, got {}", op, lr);
  std::vector<std::pair<std::string, Tensor>> named_params;
  std::vector<size_t> group_of;
  for (size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    if (group.params.empty() && groups.size() > 1) fail("{}: parameter group {} is empty", op, g);
    if (group.lr && !(*group.lr >= 0)) fail("{}: parameter group {}: lr must be >= 0, got {}", op, g, *group.lr);
    if (group.weight_decay && !(*group.weight_decay >= 0))
      fail("{}: parameter group {}: weight_decay must be >= 0, got {}", op, g, *group.weight_decay);
    for (auto& named : group.params) {
      named_params.push_back(std::move(named));
      group_of.push_back(g);
    }
    group.params.clear();
    groups_.push_back(std::move(group));
  }
  if (named_params.empty()) fail("{}: got an empty parameter list", op);
  for (size_t i = 0; i < named_params.size(); ++i) {
    const auto& [name, p] = named_params[i];
    if (!p.defined()) fail("{}: parameter {} ('{}') is an undefined tensor", op, i, name);
    if (!p.requires_grad())
      fail("{}: parameter {} ('{}', {} {}) does not require grad; an optimizer only updates tensors "
           "that require grad", op, i, name, p.shape().str(), dtype_name(p.dtype()));
    if (!p.is_leaf()) fail("{}: parameter {} ('{}') is an op's result, not a leaf tensor", op, i, name);
    for (size_t j = 0; j < i; ++j) {
      if (named_params[j].second.is_same(p))
        fail("{}: parameter {} ('{}') is the same tensor as parameter {} ('{}'); pass each parameter once",
             op, i, name, j, named_params[j].first);
      if (named_params[j].first == name)
        fail("{}: parameters {} and {} are both named '{}'{}", op, j, i, name,
             groups_.size() > 1 ? " (split the whole model's named_parameters() into the groups, so names stay unique)"
                                : "");
    }
    params_.push_back(p);
    names_.push_back(name);
  }
  states_.resize(params_.size());
  for (size_t i = 0; i < states_.size(); ++i) states_[i].group = group_of[i];
}

double Optimizer::group_lr(size_t group) const {
  const std::optional<double>& own = groups_.at(group).lr;
  if (!own) return lr_;
  return initial_lr_ > 0 ? *own * (lr_ / initial_lr_) : *own;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::number(std::vector<Tensor> params) {
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), std::move(params[i]));
  return named;
}

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0)) fail("{}: lr must be >= 0, got {}", op_, lr);
  lr_ = lr;
}

void Optimizer::step() { step(1.0); }

void Optimizer::step(double grad_scale) {
  if (!(std::isfinite(grad_scale) && grad_scale > 0))
    fail("{}.step: grad_scale must be finite and > 0, got {}", op_, grad_scale);
  NoGrad no_grad;
  grad_scale_ = grad_scale;
  struct Reset {
    double& scale;
    ~Reset() { scale = 1; }
  } reset{grad_scale_};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    if (grad_scale != 1 && !reads_grad_scale()) grad = scale(grad, grad_scale);  // as scale_ would leave it
    ++states_[i].step;
    update(params_[i], grad, states_[i]);
  }
}

void Optimizer::zero_grad() {
  for (const Tensor& p : params_) p.set_grad(Tensor());
}

OptimizerState Optimizer::state() const {
  OptimizerState out;
  out.type = type_name();
  out.scalars["lr"] = lr_;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (states_[i].step == 0 && states_[i].buffers.empty()) continue;
    out.scalars[names_[i] + ".step"] = static_cast<double>(states_[i].step);
    if (groups_.size() > 1) out.scalars[names_[i] + ".group"] = static_cast<double>(states_[i].group);
    for (const auto& [buffer, t] : states_[i].buffers) out.tensors.emplace_back(names_[i] + "." + buffer, t.clone());
  }
  return out;
}

namespace {
// "encoder.weight.exp_avg" -> ("encoder.weight", "exp_avg")
std::pair<std::string, std::string> split_key(const std::string& key) {
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos) return {"", key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}
}  // namespace

void Optimizer::load_state(const OptimizerState& state) {
  std::vector<std::string> problems;
  if (state.type != type_name())
    problems.push_back(fmt::format("the state is of a {} optimizer, this one is {}", state.type, type_name()));
  const auto index_of = [&](const std::string& name) -> int64_t {
    const auto it = std::find(names_.begin(), names_.end(), name);
    return it == names_.end() ? -1 : it - names_.begin();
  };
  const std::vector<std::string> known = buffer_names();
  std::vector<ParamState> loaded(params_.size());
  for (size_t i = 0; i < loaded.size(); ++i) loaded[i].group = states_[i].group;
  double lr = lr_;
  for (const auto& [key, value] : state.scalars) {
    if (key == "lr") {
      if (!(value >= 0)) problems.push_back(fmt::format("lr must be >= 0, got {}", value));
      lr = value;
      continue;
    }
    const auto [name, field] = split_key(key);
    const int64_t i = index_of(name);
    if (i >= 0 && field == "group") {
      if (value != static_cast<double>(states_[i].group))
        problems.push_back(fmt::format("parameter '{}' was in group {} when saved, is in group {} here", name, value,
                                       states_[i].group));
      continue;
    }
    if (i < 0 || field != "step") {
      problems.push_back(fmt::format("unexpected scalar '{}'", key));
    } else if (!(value >= 0 && value < 0x1p63) || value != std::floor(value)) {  // 2^63: beyond int64_t
      problems.push_back(fmt::format("'{}' must be a non-negative integer below 2^63, got {}", key, value));
    } else {
      loaded[i].step = static_cast<int64_t>(value);
    }
  }
  for (const auto& [key, t] : state.tensors) {
    const auto [name, field] = split_key(key);
    const int64_t i = index_of(name);
    if (i < 0 || std::find(known.begin(), known.end(), field) == known.end()) {
      problems.push_back(fmt::format("unexpected tensor '{}'", key));
      continue;
    }
    const Tensor& p = params_[i];
    if (!t.defined() || t.shape() != p.shape() || t.dtype() != p.dtype()) {
      problems.push_back(fmt::format("'{}' is {} {}, parameter '{}' is {} {}", key,
                                     t.defined() ? t.shape().str() : "undefined",
                                     t.defined() ? dtype_name(t.dtype()) : "", name, p.shape().str(),
                                     dtype_name(p.dtype())));
      continue;
    }
    loaded[i].buffers[field] = t.to(p.device()).clone();
  }
  if (!problems.empty()) {
    std::string message = fmt::format("{}: cannot load state: ", op_);
    for (size_t k = 0; k < problems.size(); ++k) message += fmt::format("{}{}", k ? "; " : "", problems[k]);
    throw Error(message);
  }
  lr_ = lr;
  states_ = std::move(loaded);
}

}  // namespace tg::optim
