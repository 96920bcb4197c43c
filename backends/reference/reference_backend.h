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
};

// The one reference backend, registered as "reference".
Backend& reference_backend();


}  // namespace tg
