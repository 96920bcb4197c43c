#pragma once
// Attention over an encoder's outputs, shared by Bahdanau (additive) and Luong
// (multiplicative) attention so a decoder can hold either behind one interface.
//
//   keys h     (B, S, Kd)  encoder outputs, one per source position j
//   query s    (B, Qd)     the decoder state asking
//   mask       (B, S) bool TRUE AT VALID source positions, false at padding
//                          (the opposite of PyTorch's key_padding_mask); an
//                          undefined tensor means every position is valid
//   score_bj   (B, S)      how well h_j fits s_b (the subclass's formula)
//   α_b = softmax_j(score_b), padded positions get score -∞, so weight exactly 0
//   context_b = Σ_j α_bj h_j   (B, Kd)
//
// A row of the mask with no valid position is rejected with an error rather
// than turned into NaN or made-up uniform weights: every source sentence has at
// least one token, and a mask written the other way round (true = padding)
// makes the longest sentence's row all false, so the mistake is caught at once.
// (The check reads the B·S mask values on the host, once per mask tensor: a
// decoder passes the same mask at every step, and on a GPU a read at every
// step would make the host wait for the device each time. The module keeps a
// handle to the last mask it checked; changing that tensor's values in place
// afterwards escapes the check.)
//
// The keys' part of the score is the same at every decoder step, so a decoder
// calls project_keys(keys) once per source batch and passes the result to
// forward at each step.
#include <cstdint>
#include <string>

#include "core/types/dtype.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

struct AttentionResult {
  Tensor context;  // (B, Kd)  Σ_j α_bj h_j
  Tensor weights;  // (B, S)   α, rows sum to 1, 0 at padded positions
};

class Attention : public Module {
 public:
  Attention(int64_t query_size, int64_t key_size, DType dtype);

  // The keys' part of the score, computed once per source batch: keys (B, S, Kd)
  // -> projected keys (B, S, projected_size()).
  virtual Tensor project_keys(const Tensor& keys) const = 0;
  // query (B, Qd), keys (B, S, Kd), projected_keys = project_keys(keys),
  // mask (B, S) bool, true = valid (or undefined: all valid).
  virtual AttentionResult forward(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                                  const Tensor& mask) const = 0;
  // The same, projecting the keys on the spot (one-off use; a decoder should
  // project once and reuse).
  AttentionResult forward(const Tensor& query, const Tensor& keys, const Tensor& mask = Tensor()) const {
    return forward(query, keys, project_keys(keys), mask);
  }
  AttentionResult operator()(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                             const Tensor& mask) const {
    return forward(query, keys, projected_keys, mask);
  }
  AttentionResult operator()(const Tensor& query, const Tensor& keys, const Tensor& mask = Tensor()) const {
    return forward(query, keys, mask);
  }

  int64_t query_size() const { return query_size_; }
  int64_t key_size() const { return key_size_; }  // = the context's size
  // Last size of project_keys' result.
  virtual int64_t projected_size() const = 0;
  DType dtype() const { return dtype_; }

 protected:
  // Throws unless keys (B, S, Kd) and query (B, Qd) match this module's sizes
  // and dtype. The message starts with type_name().
  void check_keys(const Tensor& keys) const;
  void check_inputs(const Tensor& query, const Tensor& keys, const Tensor& projected_keys, const Tensor& mask) const;
  // check_inputs' second half: projected_keys and mask against keys (already checked).
  void check_projected_keys_and_mask(const Tensor& keys, const Tensor& projected_keys, const Tensor& mask) const;
  // Masked softmax of scores (B, S) and the weighted sum of keys (B, S, Kd).
  // mask already checked.
  static AttentionResult attend(const Tensor& scores, const Tensor& keys, const Tensor& mask);
  void dtype_changed(DType dtype) override { dtype_ = dtype; }

 private:
  int64_t query_size_, key_size_;
  DType dtype_;
  mutable Tensor checked_mask_;  // the last mask whose rows were all found to have a valid position
};

}  // namespace tg::nn
