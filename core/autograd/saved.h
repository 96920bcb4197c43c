#pragma once
// Saved: a value a backward function reads, kept as data only (a view of the
// same memory without the tensor's gradient slot). Two consequences:
// - An op that saves its own output (tanh saves y) makes no cycle: the node
//   does not hold its output's slot, so the graph is freed as soon as nobody
//   can reach its result.
// - A node's list of Saved values is exactly the memory its backward needs:
//   to_dot() and tg::Profiler show it.
// Each remembers its storage's version when saved. Every kernel that writes
// into an existing tensor bumps that version, so a value changed in place
// after it was saved makes backward fail, naming the op and the value,
// instead of giving a wrong gradient silently.
//
//   const Saved y_saved = save_if(x.requires_grad(), "y", y);
//   record("tanh", {&x}, y, {y_saved}, [dx = slot_of(x), y_saved](const Tensor& dy) { ... y_saved.get() ... });
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/tensor/tensor.h"

namespace tg {

class Saved {
 public:
  Saved() = default;  // nothing saved
  Saved(const char* name, const Tensor& value);

  bool defined() const { return value_.defined(); }
  const char* name() const { return name_; }
  // The value; fails when its memory was written in place since it was saved.
  const Tensor& get() const;
  // Whether that happened, and what to tell the user when it did.
  bool changed() const;
  // `name`: what the user's op calls the value, with its shape ("weight (6, 3, 1)"), shown instead of the
  // inner op's name and the shape it saved.
  std::string changed_message(std::string_view name = {}) const;
  // Bytes of the memory it keeps alive (its storage, which a view shares).
  size_t bytes() const;
  // Whether it is a leaf that requires grad (a parameter, a user's input):
  // memory its owner keeps anyway, so saving it costs nothing.
  bool is_leaf() const { return leaf_; }
  const void* storage_id() const;  // to count a storage saved twice once
  // "y (64, 256) float32", for errors and to_dot.
  std::string describe(std::string_view name = {}) const;

 private:
  Tensor value_;
  uint64_t version_ = 0;
  const char* name_ = "";
  bool leaf_ = false;
};

// A Saved value of `value` when `needed` and gradients are being recorded,
// else nothing: an op saves only what the derivatives it will run read.
Saved save_if(bool needed, const char* name, const Tensor& value);

}  // namespace tg
