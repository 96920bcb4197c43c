#pragma once
// The reference backend: every kernel written as its definition, in plain
// loops over multi-indices; no threads, no BLAS, no tricks. It is slow on
// purpose: tests run the cpu backend against it, and a new backend can be
// checked against it the same way.
#include "core/backend.h"

namespace tg {

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }

  void fill(const View& out, double value) override;
  void copy(const View& src, const View& out) override;
  void unary(UnaryOp op, const View& x, const View& out, double scalar) override;
  void unary_backward(UnaryOp op, const View& x, const View& y, const View& dy, const View& dx,
                      double scalar) override;
  void binary(BinaryOp op, const View& a, const View& b, const View& out) override;
  void where(const View& cond, const View& a, const View& b, const View& out) override;
  void reduce(ReduceOp op, const View& x, int axis, const View& out, const View* argmax) override;
  void matmul(const View& a, const View& b, const View& c, double beta) override;
  void gather_rows(const View& table, const View& index, const View& out) override;
  void scatter_add_rows(const View& src, const View& index, const View& table) override;
  void softmax(const View& x, const View& out, bool log) override;
  void softmax_backward(const View& y, const View& dy, const View& dx, bool log) override;
  void nll(const View& logp, const View& target, int64_t ignore_index, double smoothing,
           const View& loss) override;
  void nll_backward(const View& target, int64_t ignore_index, double smoothing, const View& dloss,
                    const View& dlogp) override;
  void gru_gates(const View& gi, const View& gh, const View& h, const View& out, const View& saved) override;
  void gru_gates_backward(const View& saved, const View& gh, const View& h, const View& dout, const View& dgi,
                          const View& dgh, const View& dh) override;
  void additive_score(const View& keys, const View& query, const View& v, const View& score) override;
  void additive_score_backward(const View& keys, const View& query, const View& v, const View& dscore,
                               const View* dkeys, const View* dquery, const View* dv) override;
  void ctc_loss(const View& log_probs, const View& targets, const View& input_lengths, const View& target_lengths,
                int64_t blank, const View& loss, const View* grad) override;
  void adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                   const View* max_exp_avg_sq, const AdamStep& step) override;
  void dropout_mask(const View& out, uint64_t key, double p) override;
  void topk_rows(const View& x, bool largest, const View& indices) override;
};

// The one reference backend, registered as "reference".
Backend& reference_backend();


}  // namespace tg
