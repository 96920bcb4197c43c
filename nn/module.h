#pragma once
// Module: the base of every layer and model. Parameters and child modules are
// registered by name, so named_parameters() yields dotted keys
// ("encoder.gru.weight_ih_l0") that checkpoints are keyed by.
//
// Modules hold their parameters and children as ordinary members and register
// them in the constructor:
//
//   struct Tagger : tg::nn::Module {
//     tg::nn::Embedding embed;
//     tg::nn::Linear out;
//     Tagger(int64_t vocab, int64_t dim, int64_t tags) : embed(vocab, dim), out(dim, tags) {
//       register_module("embed", embed);
//       register_module("out", out);
//     }
//   };
//
// Registration stores addresses, so a Module can be neither copied nor moved.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  // Every parameter of this module and its children, with dotted names:
  // first the module's own parameters in registration order, then each
  // child's (recursively, the same way) in the order the children were
  // registered, wherever their registration fell among the parameters'.
  // Checkpoints are keyed by name, so only optimizers see this order.
  // A tensor held under two names (tied weights: `out.weight = embed.weight;`)
  // is listed once, under the name met first, as PyTorch's named_parameters():
  // parameter_count, optimizers, checkpoints and to() all see it once.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  // Buffers: tensors a module keeps that are not trained (running statistics,
  // fixed masks, counters), named and ordered as the parameters are. They go
  // into checkpoints and move with to(); optimizers never see them.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  // What a checkpoint holds: named_parameters(), then named_buffers().
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  // state_dict() with a tied tensor under every name it is registered by
  // (the keys of PyTorch's state_dict(), which lists `embed.weight` and
  // `out.weight` both): how loading knows a file's duplicate keys.
  std::vector<std::pair<std::string, Tensor>> state_dict_all_names() const;
  std::vector<std::pair<std::string, Module*>> named_children() const { return children_; }
  int64_t parameter_count() const;

  // Training mode (dropout active) or evaluation mode; propagates to children.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops every parameter's gradient (the next backward starts from zero).
  void zero_grad();

  // Moves every parameter and buffer of this module and its children to `device`, in
  // place: each parameter keeps its Tensor handle (only its storage changes),
  // so whoever holds the parameters, an optimizer made before or after, sees
  // them on the new device. requires_grad stays; a gradient moves along.
  // All or nothing: if one copy fails (no CUDA, out of memory) nothing moves.
  // Optimizer buffers (Adam's moments) are made at the first step, on the
  // parameters' device, and to() does not move them: move the model before
  // that first step. Build on the cpu (the same seed gives the same weights
  // on every device), then move:
  //
  //   Tagger model(vocab, 64, tags);
  //   model.to(tg::parse_device("cuda"));
  //   tg::optim::Adam adam(model.named_parameters(), {.lr = 1e-3});
  void to(Device device);
  // Converts every parameter of this module and its children (and their
  // gradients, and the floating buffers) to a floating `dtype`, in place as to(Device) does: handles,
  // requires_grad and names stay, so build, convert, then make the optimizer.
  //   GRU gru(32, 16);  gru.to(DType::f64);
  void to(DType dtype);
  // The device of the first parameter; cpu for a module without parameters.
  Device device() const;

  // Reseeds the random streams (dropout masks) of this module and its
  // children from one number: child i gets a seed derived from (seed, i).
  // A training loop that reseeds from (seed, step) before each step draws the
  // same masks whether or not it was stopped and resumed in between.
  void reseed(uint64_t seed);

  // A table of parameter names, shapes and counts, with the total.
  std::string summary() const;
  // The module's kind, shown in summaries ("Linear", "GRU", ...). By default
  // the C++ class name without its namespaces (a user's `struct Tagger` shows
  // as "Tagger"); override to name it otherwise.
  virtual std::string type_name() const;

 protected:
  // Modules that own a Generator override this to reseed it.
  virtual void reseed_own(uint64_t /*seed*/) {}
  // Modules that keep a dtype of their own (beside their parameters') follow to(DType) here.
  virtual void dtype_changed(DType /*dtype*/) {}

  // Registers a parameter member: marks it as requiring grad, keyed by `name`.
  Tensor& register_parameter(std::string name, Tensor& parameter);
  // Registers a buffer member (any dtype; it must not require grad), keyed by
  // `name`, which it shares with no parameter or child:
  //   Tensor running_mean = zeros({C});  ...  register_buffer("running_mean", running_mean);
  Tensor& register_buffer(std::string name, Tensor& buffer);
  // Registers a child module member, keyed by `name`.
  template <typename M> M& register_module(std::string name, M& child) {
    add_child(std::move(name), child);
    return child;
  }

 private:
  void add_child(std::string name, Module& child);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void check_unused(const std::string& name, const char* what) const;
  std::vector<Tensor> state_tensors() const;  // the parameters, then the buffers
  void tell_dtype(DType dtype);  // dtype_changed here and in every child

  std::vector<std::pair<std::string, Tensor*>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

// A module of your own that is called as the built-in ones are: derive from
// CallableModule<YourModule> (itself a Module), write forward(...), and
// `model(x)` calls `model.forward(x)` with whatever arguments forward takes.
// (libtorch's answer is a holder class generated by a macro; in C++ a base
// that knows its derived type, CRTP, is enough.)
//   struct TinyGPT : tg::nn::CallableModule<TinyGPT> {
//     Tensor forward(const Tensor& tokens) const;
//   };
//   TinyGPT model;  Tensor logits = model(tokens);
template <class Derived>
class CallableModule : public Module {
 public:
  template <class... Args>
  decltype(auto) operator()(Args&&... args) {
    return static_cast<Derived&>(*this).forward(std::forward<Args>(args)...);
  }
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return static_cast<const Derived&>(*this).forward(std::forward<Args>(args)...);
  }
};

// Evaluation mode for a scope: `module` is put in eval() and its mode before comes back when the scope ends,
// an exception included (a decode that throws does not leave the model without its dropout).
//
//   { nn::EvalMode eval(model); ... decode ... }   // model.is_training() as before after this
class EvalMode {
 public:
  explicit EvalMode(Module& module) : module_(module), was_training_(module.is_training()) { module_.eval(); }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace tg::nn
