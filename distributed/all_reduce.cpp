// What the MPI and single-process all-reduce share: the reducer's settings,
// gradients, the one-off call. AllReducer::reduce itself is in
// mpi_collectives.cpp or single_process.cpp.
#include "distributed/all_reduce.h"

#include <climits>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "distributed/dtypes.h"

namespace tg::distributed {

AllReducer::AllReducer(size_t bucket_bytes) : bucket_bytes_(bucket_bytes) {
  // One MPI call takes an int count of elements.
  if (bucket_bytes < 8 || bucket_bytes > size_t{INT_MAX})
    fail("distributed::AllReducer: bucket_bytes must be in [8, {}], got {}", INT_MAX, bucket_bytes);
}

void AllReducer::reduce_gradients(const std::vector<Tensor>& params, ReduceOp op) {
  std::vector<Tensor> grads;
  grads.reserve(params.size());
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) {
      g = zeros(p.shape(), {p.dtype(), p.device()});
      p.set_grad(g);
    } else if (!g.is_contiguous()) {
      g = contiguous_values(g);
      p.set_grad(g);
    }
    grads.push_back(g);
  }
  reduce(grads, op);
}

void all_reduce(const std::vector<Tensor>& tensors, ReduceOp op, size_t bucket_bytes) {
  AllReducer reducer(bucket_bytes);
  reducer.reduce(tensors, op);
}

namespace detail {
const std::vector<DType>& reducible_dtypes(ReduceOp op) {
  static const std::vector<DType> floating = {DType::f32, DType::f64};
  static const std::vector<DType> numeric = {DType::f32, DType::f64, DType::i64};
  return op == ReduceOp::mean ? floating : numeric;
}
const std::vector<DType>& broadcastable_dtypes() {
  static const std::vector<DType> all = {DType::f32, DType::f64, DType::i64, DType::boolean, DType::f16, DType::bf16};
  return all;
}
}  // namespace detail

}  // namespace tg::distributed
