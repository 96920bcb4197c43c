#pragma once
// ModuleList: a variable number of child modules, added at run time and
// registered under their positions "0", "1", ..., so a list held as member
// "blocks" gives parameter names "blocks.0.weight", "blocks.1.weight", ...
// ModuleListOf<Layer> holds Layers only and hands them back as Layer&, so a
// loop reads as PyTorch's `for layer in self.layers: x = layer(x)`:
//
//   tg::nn::ModuleListOf<tg::nn::Linear> layers;
//   for (const tg::nn::Linear& layer : layers) x = tg::relu(layer(x));
// The list owns its modules (std::unique_ptr); their addresses never change,
// which is what registration needs.
//
//   struct Deep : tg::nn::Module {
//     tg::nn::ModuleList blocks;
//     explicit Deep(int depth) {
//       for (int i = 0; i < depth; ++i) blocks.push_back<tg::nn::Linear>(16, 16);
//       register_module("blocks", blocks);
//     }
//     tg::Tensor forward(tg::Tensor x) const {
//       for (size_t i = 0; i < blocks.size(); ++i) x = tg::tanh(blocks.at<tg::nn::Linear>(i)(x));
//       return x;
//     }
//   };
//
// Modules can be neither copied nor moved. To return a model from a function
// or keep several in a container, hold them by std::unique_ptr; checkpoints
// (nn::save / nn::load take Module&) and optimizers (named_parameters()) take
// *ptr and ptr->... as they take a module held by value:
//
//   std::unique_ptr<Deep> make_model(int depth) { return std::make_unique<Deep>(depth); }
//   std::vector<std::unique_ptr<Deep>> ensemble;
//   ensemble.push_back(make_model(3));
//   tg::optim::Adam adam(ensemble[0]->named_parameters(), {.lr = 1e-3});
//   tg::nn::save(*ensemble[0], "model.safetensors");
#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/services/error.h"
#include "nn/module.h"

namespace tg::nn {

template <std::derived_from<Module> Element>
class ModuleListOf : public Module {
  using Items = std::vector<std::unique_ptr<Element>>;

 public:
  // Appends a module built elsewhere; the list takes ownership. Returns it.
  template <std::derived_from<Element> M> M& push_back(std::unique_ptr<M> module) {
    if (module == nullptr) fail("ModuleList: push_back of a null module (position {})", items_.size());
    M& added = *module;
    items_.push_back(std::move(module));
    register_module(std::to_string(items_.size() - 1), added);
    return added;
  }
  // Builds an M from `args` in place: list.push_back<Linear>(4, 8). Returns it.
  template <std::derived_from<Element> M = Element, typename... Args>
    requires std::constructible_from<M, Args...>
  M& push_back(Args&&... args) {
    return push_back(std::make_unique<M>(std::forward<Args>(args)...));
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // The module at position i; throws for i >= size().
  Element& operator[](size_t i) const {
    if (i >= items_.size()) fail("ModuleList: index {} is out of range for a list of {} modules", i, items_.size());
    return *items_[i];
  }
  // The module at position i as an M; throws when it is of another kind.
  template <std::derived_from<Module> M> M& at(size_t i) const {
    Module& m = (*this)[i];
    if (M* typed = dynamic_cast<M*>(&m)) return *typed;
    fail("ModuleList: module {} is a {}, not the type asked for", i, m.type_name());
  }

  // Iterates the modules in order, as Element&.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    using pointer = Element*;
    using reference = Element&;
    iterator() = default;
    explicit iterator(typename Items::const_iterator it) : it_(it) {}
    Element& operator*() const { return **it_; }
    Element* operator->() const { return it_->get(); }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++it_;
      return before;
    }
    bool operator==(const iterator&) const = default;

   private:
    typename Items::const_iterator it_;
  };
  iterator begin() const { return iterator(items_.begin()); }
  iterator end() const { return iterator(items_.end()); }

  std::string type_name() const override { return "ModuleList"; }

 private:
  Items items_;
};

// Any modules, each handed back as Module& (at<M>(i) for its own type).
using ModuleList = ModuleListOf<Module>;

}  // namespace tg::nn
