#pragma once
// Sequential: layers with one input and one output, run in order,
//   y = layer_{n-1}( ... layer_1(layer_0(x)) ... )
// registered under their positions "0", "1", ... (parameter names
// "0.weight", "2.bias", as PyTorch's nn.Sequential gives). It owns its layers.
//
//   tg::nn::Sequential mlp;
//   mlp.push_back<tg::nn::Linear>(4, 8, gen);
//   mlp.push_back<tg::nn::Tanh>();
//   mlp.push_back<tg::nn::Linear>(8, 1, gen);
//   tg::Tensor y = mlp(x);  // x (..., 4) -> y (..., 1)
//
// A layer is any Module with `Tensor forward(const Tensor&) const` (Linear,
// Dropout, Embedding, Tanh, ReLU, Sigmoid, another Sequential, or one's own):
// the UnaryLayer concept below checks it at compile time. Layers with more
// inputs or outputs (GRU, attention) belong in a Module of one's own.
// Like every Module, a Sequential is neither copyable nor movable: return one
// from a function as std::unique_ptr<Sequential> (nn/module_list.h shows how).
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/services/error.h"
#include "nn/module.h"

namespace tg::nn {

template <typename M>
concept UnaryLayer = std::derived_from<M, Module> && requires(const M& m, const Tensor& x) {
  { m.forward(x) } -> std::convertible_to<Tensor>;
};

class Sequential : public Module {
 public:
  // Appends a layer built elsewhere; the Sequential takes ownership. Returns it.
  template <UnaryLayer M> M& push_back(std::unique_ptr<M> layer) {
    if (layer == nullptr) fail("Sequential: push_back of a null layer (position {})", layers_.size());
    M& added = *layer;
    forwards_.push_back([&added](const Tensor& x) -> Tensor { return added.forward(x); });
    layers_.push_back(std::move(layer));
    register_module(std::to_string(layers_.size() - 1), added);
    return added;
  }
  // Builds an M from `args` in place: seq.push_back<Linear>(4, 8). Returns it.
  template <UnaryLayer M, typename... Args>
    requires std::constructible_from<M, Args...>
  M& push_back(Args&&... args) {
    return push_back(std::make_unique<M>(std::forward<Args>(args)...));
  }

  // Runs the layers in order; an empty Sequential returns x.
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  size_t size() const { return layers_.size(); }
  // The layer at position i; throws for i >= size().
  Module& operator[](size_t i) const;
  // The layer at position i as an M; throws when it is of another kind.
  template <std::derived_from<Module> M> M& at(size_t i) const {
    Module& m = (*this)[i];
    if (M* typed = dynamic_cast<M*>(&m)) return *typed;
    fail("Sequential: layer {} is a {}, not the type asked for", i, m.type_name());
  }

  std::string type_name() const override { return "Sequential"; }

 private:
  std::vector<std::unique_ptr<Module>> layers_;
  std::vector<std::function<Tensor(const Tensor&)>> forwards_;  // forwards_[i] runs layers_[i]
};

}  // namespace tg::nn
