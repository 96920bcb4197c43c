// The CUDA backend: one GPU's memory and copies, and its bodies of the
// primitives (core/dispatch/primitives.h), registered when the module loads. A body
// queues its work on the device's stream and returns; only copies to the host
// wait. Matrix products go to cuBLAS; everything else to
// backends/cuda/cuda_primitives.cu.
#include <climits>
#include <cstdint>
#include <optional>

#include "core/dispatch/backend.h"
#include "backends/cuda/cuda_device.h"
#include "backends/cuda/cuda_launch.h"
#include "core/services/error.h"
#include "core/dispatch/primitives.h"
#include "core/dispatch/matmul_precision.h"

namespace tg {

namespace {

using cuda_detail::check;
using cuda_detail::GpuDevice;
using cuda_kernels::Array;
using cuda_kernels::array;
using cuda_kernels::check_launch;
using namespace primitives;



int blas_int(int64_t v, std::string_view what) {
  if (v > INT_MAX) fail("matmul: {} = {} exceeds what cuBLAS can index", what, v);
  return static_cast<int>(v);
}

// One operand of a row-major product as cuBLAS (column-major) reads it:
// a (rows, cols) matrix with strides (rs, cs) is, column-major, its own
// transpose with leading dimension rs when cs == 1, or itself with leading
// dimension cs when rs == 1. Other layouts are packed into a contiguous copy.
struct BlasOperand {
  const void* data = nullptr;
  bool transposed_storage = false;  // stored column-major, i.e. as (rows, cols) with rs == 1
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : Backend(Memory::device), index_(index), name_(fmt::format("cuda:{}", index)) {}
  std::string_view name() const override { return name_; }

  void* allocate(size_t nbytes) override { return device().allocator.allocate(nbytes); }
  void deallocate(void* ptr, size_t nbytes) override { device().allocator.deallocate(ptr, nbytes); }

  void copy_to_host(const void* src, void* dst, size_t nbytes) override {
    GpuDevice& d = device();
    check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, d.stream), "cudaMemcpyAsync (to host)");
    d.synchronize();
  }
  void copy_from_host(const void* src, void* dst, size_t nbytes) override {
    // From pageable memory the copy is staged before this returns, so the
    // caller may free src at once; the kernels queued after it see the data.
    check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, device().stream), "cudaMemcpyAsync (to device)");
  }

  // The stream and error slot kernels are queued with (the families' CUDA
  // bodies reach it through cuda_kernels::context_of).
  cuda_kernels::Context context() { return device().context(); }

  GpuDevice& device() {
    GpuDevice& d = cuda_detail::gpu(index_);
    d.make_current();
    return d;
  }

 private:
  int index_;
  std::string name_;
};

CudaBackend& cuda(Backend& backend) { return static_cast<CudaBackend&>(backend); }

// ---------------------------------------------------------------------------
// the primitives' bodies (core/dispatch/primitives.h), registered as the cuda backend's below; arguments are checked
// before a body runs. Each queues its work on the device's stream and returns.

void fill_cuda(Backend& backend, const FillArgs& a) {
  cuda_kernels::fill(cuda(backend).context(), array(a.out), a.value);
  check_launch("fill");
}
void copy_cuda(Backend& backend, const CopyArgs& a) {
  cuda_kernels::copy(cuda(backend).context(), array(a.src), array(a.out));
  check_launch("copy");
}
void unary_cuda(Backend& backend, const UnaryArgs& a) {
  cuda_kernels::unary(cuda(backend).context(), a.op, array(a.x), array(a.out), a.scalar);
  check_launch("unary");
}
void unary_backward_cuda(Backend& backend, const UnaryBackwardArgs& a) {
  cuda_kernels::unary_backward(cuda(backend).context(), a.op, array(a.x), array(a.y), array(a.dy), array(a.dx),
                               a.scalar);
  check_launch("unary_backward");
}
void binary_cuda(Backend& backend, const BinaryArgs& a) {
  cuda_kernels::binary(cuda(backend).context(), a.op, array(a.a), array(a.b), array(a.out));
  check_launch("binary");
}
void where_cuda(Backend& backend, const WhereArgs& a) {
  cuda_kernels::where(cuda(backend).context(), array(a.cond), array(a.a), array(a.b), array(a.out));
  check_launch("where");
}
void reduce_cuda(Backend& backend, const ReduceArgs& a) {
  const bool max = a.op == ReduceOp::max;
  const Array arg = a.argmax != nullptr ? array(*a.argmax) : Array{};
  cuda_kernels::reduce(cuda(backend).context(), max, array(a.x), reduce_axis(a), array(a.out),
                       a.argmax != nullptr && max ? &arg : nullptr);
  check_launch("reduce");
}
void gather_rows_cuda(Backend& backend, const GatherRowsArgs& a) {
  cuda_kernels::gather_rows(cuda(backend).context(), array(a.table), array(a.index), array(a.out));
  check_launch("gather_rows");
}
void scatter_add_rows_cuda(Backend& backend, const ScatterAddRowsArgs& a) {
  const int64_t rows = a.index.shape[0], table_rows = a.table.shape[0];
  if (rows > INT_MAX || table_rows >= int64_t{UINT32_MAX})
    fail("scatter_add_rows: {} rows into a table of {} rows: the GPU's sort indexes at most {} rows into {}", rows,
         table_rows, INT_MAX, UINT32_MAX - 1);
  const size_t scratch_bytes = cuda_kernels::scatter_add_rows_scratch_bytes(rows, table_rows);
  const cuda_kernels::DeviceScratch scratch(backend, scratch_bytes);
  cuda_kernels::scatter_add_rows(cuda(backend).context(), array(a.src), array(a.index), array(a.table),
                                 scratch.data(), scratch_bytes);
  check_launch("scatter_add_rows");
}
void softmax_cuda(Backend& backend, const SoftmaxArgs& a) {
  const auto [rows, cols] = as_rows(a.x);
  cuda_kernels::softmax(cuda(backend).context(), array(a.x), array(a.out), rows, cols, a.log);
  check_launch("softmax");
}
void softmax_backward_cuda(Backend& backend, const SoftmaxBackwardArgs& a) {
  const auto [rows, cols] = as_rows(a.y);
  cuda_kernels::softmax_backward(cuda(backend).context(), array(a.y), array(a.dy), array(a.dx), rows, cols, a.log);
  check_launch("softmax_backward");
}

// Describes (rows, cols) strided as cuBLAS reads it, packing it into
// `scratch` (a contiguous copy, made here) when neither stride is 1.
BlasOperand operand(CudaBackend& backend, const View& v, std::optional<cuda_kernels::DeviceScratch>* scratch) {
  const int64_t rows = v.shape[1], cols = v.shape[2], rs = v.strides[1], cs = v.strides[2];
  BlasOperand op;
  op.data = v.data;
  op.batch_stride = v.shape[0] == 1 ? 0 : v.strides[0];
  // A stride along a dimension of size 1 is never followed, so it may be anything.
  if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
    op.ld = rows == 1 ? cols : rs;
  } else if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
    op.transposed_storage = true;
    op.ld = cols == 1 ? rows : cs;
  } else {
    scratch->emplace(backend, static_cast<size_t>(v.numel()) * dtype_size(v.dtype));
    View packed{(*scratch)->data(), v.dtype, v.shape, contiguous_strides(v.shape)};
    copy_cuda(backend, {v, packed});
    op.data = packed.data;
    op.ld = cols;
    op.batch_stride = v.shape[0] == 1 ? 0 : rows * cols;
  }
  if (op.ld < 1) op.ld = 1;
  return op;
}

cudaDataType_t blas_type(DType t) {
  switch (t) {
    case DType::f64: return CUDA_R_64F;
    case DType::f16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// Tensor cores round float32 inputs to the format core/dispatch/matmul_precision.h names.
cublasComputeType_t float32_compute(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::fp32: return CUBLAS_COMPUTE_32F;
    case MatmulPrecision::tf32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case MatmulPrecision::bf16: return CUBLAS_COMPUTE_32F_FAST_16BF;
    case MatmulPrecision::fp16: return CUBLAS_COMPUTE_32F_FAST_16F;
  }
  return CUBLAS_COMPUTE_32F;
}

// Row-major c = a @ b is column-major cᵀ = bᵀ aᵀ: cuBLAS gets b as its first
// operand and a as its second, m = N, n = M.
void matmul_cuda(Backend& backend, const MatmulArgs& args) {
  const View &a = args.a, &b = args.b, &c = args.c;
  const double beta = args.beta;
  const int64_t batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: c = beta * c
    if (beta == 0) fill_cuda(backend, {c, 0});
    return;
  }
  std::optional<cuda_kernels::DeviceScratch> a_scratch, b_scratch;
  const BlasOperand ao = operand(cuda(backend), a, &a_scratch), bo = operand(cuda(backend), b, &b_scratch);
  for (int64_t v : {m, n, k, ao.ld, bo.ld, batch}) blas_int(v, "a matrix extent or stride");
  GpuDevice& d = cuda(backend).device();
  // bᵀ as cuBLAS's first operand (N, K): row-major b (cs == 1) is that matrix
  // as stored, column-major b must be transposed.
  const cublasOperation_t op_first = bo.transposed_storage ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = ao.transposed_storage ? CUBLAS_OP_T : CUBLAS_OP_N;
  const bool f64 = a.dtype == DType::f64;
  const double alpha64 = 1, beta64 = beta;
  const float alpha32 = 1, beta32 = static_cast<float>(beta);
  const cudaDataType_t input = blas_type(a.dtype), output = blas_type(c.dtype);
  // 16-bit inputs: float32 products and sums, as on the host.
  const cublasComputeType_t compute =
      f64 ? CUBLAS_COMPUTE_64F : is_half(a.dtype) ? CUBLAS_COMPUTE_32F : float32_compute(matmul_precision());
  const void* alpha = f64 ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta_ptr = f64 ? static_cast<const void*>(&beta64) : &beta32;
  check(cublasGemmStridedBatchedEx(d.blas, op_first, op_second, int(n), int(m), int(k), alpha, bo.data, input,
                                   int(bo.ld), bo.batch_stride, ao.data, input, int(ao.ld), ao.batch_stride, beta_ptr,
                                   c.data, output, int(n), m * n, int(batch), compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx");
}

// Registered when the CUDA module loads.
const RegisterKernel fill_on_cuda(fill_table(), "cuda", &fill_cuda);
const RegisterKernel copy_on_cuda(copy_table(), "cuda", &copy_cuda);
const RegisterKernel unary_on_cuda(unary_table(), "cuda", &unary_cuda);
const RegisterKernel unary_backward_on_cuda(unary_backward_table(), "cuda", &unary_backward_cuda);
const RegisterKernel binary_on_cuda(binary_table(), "cuda", &binary_cuda);
const RegisterKernel where_on_cuda(where_table(), "cuda", &where_cuda);
const RegisterKernel reduce_on_cuda(reduce_table(), "cuda", &reduce_cuda);
const RegisterKernel matmul_on_cuda(matmul_table(), "cuda", &matmul_cuda);
const RegisterKernel gather_rows_on_cuda(gather_rows_table(), "cuda", &gather_rows_cuda);
const RegisterKernel scatter_add_rows_on_cuda(scatter_add_rows_table(), "cuda", &scatter_add_rows_cuda);
const RegisterKernel softmax_on_cuda(softmax_table(), "cuda", &softmax_cuda);
const RegisterKernel softmax_backward_on_cuda(softmax_backward_table(), "cuda", &softmax_backward_cuda);

}  // namespace

Backend& cuda_backend(int index) {
  static std::mutex mutex;
  static auto* backends = new std::vector<std::unique_ptr<CudaBackend>>;
  cuda_detail::gpu(index);  // throws for a missing device
  std::lock_guard lock(mutex);
  if (static_cast<int>(backends->size()) <= index) backends->resize(index + 1);
  if ((*backends)[index] == nullptr) (*backends)[index] = std::make_unique<CudaBackend>(index);
  return *(*backends)[index];
}

namespace cuda_kernels {

// The kernel families' side of backends/cuda/cuda_launch.h.
Context context_of(Backend& backend) { return static_cast<CudaBackend&>(backend).context(); }

void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) fail("cuda: launching {} failed: {}", kernel, cudaGetErrorString(status));
}

void check_blocks(const char* kernel, int64_t n) {
  if (n > INT_MAX) fail("{}: {} rows exceed a launch's blocks", kernel, n);
}

DeviceScratch::DeviceScratch(Backend& backend, size_t nbytes)
    : backend_(backend), nbytes_(nbytes), data_(backend.allocate(nbytes)) {}
DeviceScratch::~DeviceScratch() { backend_.deallocate(data_, nbytes_); }

}  // namespace cuda_kernels

}  // namespace tg
