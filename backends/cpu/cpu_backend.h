#pragma once
// The fast host backend: strided elementwise loops that vectorise and split
// large tensors across the thread pool (backends/cpu/thread_pool.h), OpenBLAS for matmul.
// Its results match the reference backend's up to floating-point rounding.
#include "core/backend.h"

namespace tg {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  std::string_view name() const override { return "cpu"; }

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
  // OpenBLAS stays single-threaded (the constructor sees to it): matrix
  // products are split over this backend's thread pool (thread_pool.h).
  void set_num_threads(int n) override;
  int num_threads() const override;
};

// The one cpu backend, registered as "cpu", the default host backend.
Backend& cpu_backend();

}  // namespace tg
