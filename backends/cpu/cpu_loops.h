#pragma once
// The loop machinery behind the cpu backend's elementwise kernels.
//
// map_elements walks every element of `out`'s shape and calls
//   f(out[i], in0[i], in1[i], ...)
// where each operand is read through its own strides (stride 0 broadcasts).
// The walk is arranged so that the common cases run as plain loops that the
// compiler vectorises:
//   1. size-1 dimensions are dropped (their strides never matter);
//   2. adjacent dimensions that are contiguous for every operand are merged,
//      so a contiguous tensor of any rank becomes one long row;
//   3. the innermost remaining dimension is the inner loop, with a unit-stride
//      version of it when every operand steps by 1 there;
//   4. a transposing read (an input striding far along the inner dimension)
//      walks the last two dimensions in 32 x 32 tiles instead of whole rows.
// Large walks are split into chunks that the pool's threads share.
//
// Internal to core/: kernels only, not part of the public API.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstdint>
#include <tuple>
#include <utility>

#include "core/dispatch/backend.h"

#include "backends/cpu/thread_pool.h"

namespace tg::cpu {

// Below this many elements a kernel runs on the calling thread: handing work
// to another thread costs a few microseconds, more than small tensors take.
constexpr int64_t kParallelThreshold = 32768;
// A matrix product's multiply-adds weigh less per unit than an elementwise
// kernel's memory traffic: this many count as one element against the threshold.
constexpr int64_t kFlopsPerElement = 64;  // splits from about 128³ up: smaller products lose to the hand-off
// Chunks per thread: a few, so a thread the OS parks delays little (thread_pool.h).
constexpr int64_t kChunksPerThread = 4;

// body(begin, end), compiled once for both of parallel_ranges' paths. Inlined
// into each, the body would be two copies the compiler optimises apart, and
// it may vectorise one copy's `omp simd` reduction and not the other's: a
// row's sum would then depend on whether the kernel was split over threads,
// that is on the tensor's size (GCC's generic x86-64 build did this to the
// additive attention scores: 711 of 832 rows differed in the last bit
// between 1 and 2 threads). noipa: no clone specialised for one call site.
#if defined(__clang__)
#define TG_ONE_COPY [[gnu::noinline]]
#else
#define TG_ONE_COPY [[gnu::noinline, gnu::noipa]]
#endif
template <typename Body>
TG_ONE_COPY void run_range(const Body& body, int64_t begin, int64_t end) {
  body(begin, end);
}
#undef TG_ONE_COPY

// Runs body(begin, end) over [0, n), split into chunks the pool's threads
// share when `work` (elements touched) is large enough to repay them; the
// same code on either path (run_range). `body` must not throw.
template <typename Body>
void parallel_ranges(int64_t n, int64_t work, Body body) {
  const int threads = pool_threads();
  if (work >= kParallelThreshold && n > 1 && threads > 1) {
    parallel_for(n, threads * kChunksPerThread, [&body](int64_t begin, int64_t end) { run_range(body, begin, end); });
    return;
  }
  if (n > 0) run_range(body, 0, n);
}

// A walk over a shape, already simplified: `rank` dimensions (at least 1),
// and for each of N operands its stride along each of them, in elements.
template <int N>
struct LoopPlan {
  int rank = 0;
  std::array<int64_t, kMaxDims> sizes{};
  std::array<std::array<int64_t, kMaxDims>, N> strides{};

  int64_t inner_size() const { return sizes[rank - 1]; }
  int64_t inner_stride(int operand) const { return strides[operand][rank - 1]; }
};

// Builds the plan: drops size-1 dimensions, then merges dimension d into the
// one after it wherever stride[d] == stride[d+1] * size[d+1] for all operands.
template <int N>
LoopPlan<N> make_plan(const Shape& shape, const std::array<const Strides*, N>& strides) {
  LoopPlan<N> plan;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const int r = plan.rank;
    bool mergeable = r > 0;
    for (int k = 0; k < N && mergeable; ++k)
      mergeable = plan.strides[k][r - 1] == (*strides[k])[d] * shape[d];
    if (mergeable) {
      plan.sizes[r - 1] *= shape[d];
      for (int k = 0; k < N; ++k) plan.strides[k][r - 1] = (*strides[k])[d];
    } else {
      plan.sizes[r] = shape[d];
      for (int k = 0; k < N; ++k) plan.strides[k][r] = (*strides[k])[d];
      ++plan.rank;
    }
  }
  if (plan.rank == 0) plan.rank = plan.sizes[0] = 1;  // a single element
  return plan;
}

// Walks the elements with linear positions [begin, end) of the plan's shape,
// calling row(offsets, n) for each run of n elements along the inner
// dimension; offsets[k] is operand k's offset (in elements) of the run start.
template <int N, typename Row>
void walk_rows(const LoopPlan<N>& plan, int64_t begin, int64_t end, Row row) {
  std::array<int64_t, kMaxDims> index{};
  std::array<int64_t, N> offsets{};
  int64_t rest = begin;
  for (int d = plan.rank - 1; d >= 0; --d) {
    index[d] = rest % plan.sizes[d];
    rest /= plan.sizes[d];
    for (int k = 0; k < N; ++k) offsets[k] += index[d] * plan.strides[k][d];
  }
  const int inner = plan.rank - 1;
  while (begin < end) {
    const int64_t n = std::min(plan.sizes[inner] - index[inner], end - begin);
    row(offsets, n);
    begin += n;
    // Advance the odometer by n along the inner dimension, carrying outwards.
    index[inner] += n;
    for (int k = 0; k < N; ++k) offsets[k] += n * plan.strides[k][inner];
    for (int d = inner; d > 0 && index[d] == plan.sizes[d]; --d) {
      index[d] = 0;
      ++index[d - 1];
      for (int k = 0; k < N; ++k)
        offsets[k] += plan.strides[k][d - 1] - plan.sizes[d] * plan.strides[k][d];
    }
  }
}

// Transposing reads, where an input's inner stride jumps a cache line per
// element, go tile by tile: kTile rows of kTile elements, so that the lines
// one row of a tile touches are still cached when the next row reuses them.
constexpr int64_t kTile = 32;
constexpr int64_t kLongStride = 16;  // elements: a 64-byte line of float32

template <int N>
bool wants_tiles(const LoopPlan<N>& plan) {
  if (plan.rank < 2 || plan.inner_size() < kTile || plan.sizes[plan.rank - 2] < kTile) return false;
  for (int k = 1; k < N; ++k)
    if (std::abs(plan.inner_stride(k)) > kLongStride) return true;
  return false;
}

// Tiles are numbered over (outer dimensions..., blocks of kTile rows); the
// rows are the second-to-last dimension. Returns how many there are.
template <int N>
int64_t tile_count(const LoopPlan<N>& plan) {
  int64_t count = (plan.sizes[plan.rank - 2] + kTile - 1) / kTile;
  for (int d = 0; d < plan.rank - 2; ++d) count *= plan.sizes[d];
  return count;
}

// Walks the row blocks [begin, end), calling row(offsets, n) on runs of at
// most kTile elements, one column tile at a time.
template <int N, typename Row>
void walk_tiles(const LoopPlan<N>& plan, int64_t begin, int64_t end, Row row) {
  const int row_dim = plan.rank - 2, col_dim = plan.rank - 1;
  const int64_t rows = plan.sizes[row_dim], cols = plan.sizes[col_dim];
  const int64_t blocks = (rows + kTile - 1) / kTile;
  for (int64_t t = begin; t < end; ++t) {
    std::array<int64_t, N> base{};  // offsets of this block's outer index
    int64_t rest = t / blocks;
    for (int d = row_dim - 1; d >= 0; --d) {
      const int64_t i = rest % plan.sizes[d];
      rest /= plan.sizes[d];
      for (int k = 0; k < N; ++k) base[k] += i * plan.strides[k][d];
    }
    const int64_t r0 = (t % blocks) * kTile, r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < r1; ++r) {
        std::array<int64_t, N> offsets;
        for (int k = 0; k < N; ++k)
          offsets[k] = base[k] + r * plan.strides[k][row_dim] + c0 * plan.strides[k][col_dim];
        row(offsets, std::min(kTile, cols - c0));
      }
  }
}

// True when some dimension of size > 1 has stride 0 in operand `k`: writing
// such an operand from several threads would race on the shared element.
template <int N>
bool has_broadcast_dim(const LoopPlan<N>& plan, int k) {
  for (int d = 0; d < plan.rank; ++d)
    if (plan.sizes[d] > 1 && plan.strides[k][d] == 0) return true;
  return false;
}

template <typename> using ViewOf = View;

// out[i] is passed as Out& so that f can assign (out = g(x)) or accumulate
// (out += g(x)). Out and In... are the element types, given explicitly:
//   map_elements<float, float, float>(out, [](float& o, float a, float b) { o = a + b; }, a, b);
// One run of a walk where out and every input step by 1 along the inner
// dimension, except the inputs set in Broadcast (bit I: input I), which step
// by 0 and are read once: known at compile time, so the loop vectorises.
// (A broadcast input never overlaps out: only an input equal to out may.)
template <unsigned Broadcast, typename Out, typename F, typename... In, size_t... I>
void unit_or_broadcast_run(Out* o, int64_t n, F& f, const std::tuple<const In*...>& x, std::index_sequence<I...>) {
  const std::tuple<In...> first{std::get<I>(x)[0]...};
  for (int64_t i = 0; i < n; ++i) f(o[i], ((Broadcast >> I) & 1u ? std::get<I>(first) : std::get<I>(x)[i])...);
}

// Runs unit_or_broadcast_run for the runtime mask `broadcast` (< 2^inputs).
template <typename Out, typename F, typename... In, unsigned... Masks>
void unit_or_broadcast_dispatch(unsigned broadcast, Out* o, int64_t n, F& f, const std::tuple<const In*...>& x,
                                std::integer_sequence<unsigned, Masks...>) {
  ((broadcast == Masks ? unit_or_broadcast_run<Masks>(o, n, f, x, std::index_sequence_for<In...>{}) : void()), ...);
}

template <typename Out, typename... In, typename F>
void map_elements(const View& out, F f, const ViewOf<In>&... in) {
  constexpr int N = 1 + sizeof...(In);
  const int64_t numel = out.numel();
  if (numel == 0) return;
  const LoopPlan<N> plan = make_plan<N>(out.shape, {&out.strides, &in.strides...});
  Out* const out_base = out.as<Out>();
  const std::tuple<const In*...> in_base{in.template as<const In>()...};

  auto row = [&](const std::array<int64_t, N>& offsets, int64_t n) {
    [&]<size_t... I>(std::index_sequence<I...>) {
      Out* const o = out_base + offsets[0];
      [[maybe_unused]] const std::tuple<const In*...> x{(std::get<I>(in_base) + offsets[I + 1])...};
      const bool unit = plan.inner_stride(0) == 1 && ((plan.inner_stride(I + 1) == 1) && ...);
      // Up to two inputs, each unit-stride or broadcast along the row (x + b for b (R, 1), a scalar's gradient).
      constexpr bool may_broadcast = sizeof...(In) <= 2;
      const bool unit_or_broadcast = may_broadcast && plan.inner_stride(0) == 1 &&
                                     ((plan.inner_stride(I + 1) == 1 || plan.inner_stride(I + 1) == 0) && ...);
      if (unit) {
        for (int64_t i = 0; i < n; ++i) f(o[i], std::get<I>(x)[i]...);
      } else if (unit_or_broadcast) {
        if constexpr (may_broadcast) {
          const unsigned broadcast = (0u | ... | (plan.inner_stride(I + 1) == 0 ? 1u << I : 0u));
          unit_or_broadcast_dispatch(broadcast, o, n, f, x, std::make_integer_sequence<unsigned, 1u << sizeof...(In)>{});
        }
      } else {
        const int64_t so = plan.inner_stride(0);
        [[maybe_unused]] const std::array<int64_t, sizeof...(In)> sx{plan.inner_stride(I + 1)...};
        for (int64_t i = 0; i < n; ++i) f(o[i * so], std::get<I>(x)[i * sx[I]]...);
      }
    }(std::index_sequence_for<In...>{});
  };
  const int64_t work = has_broadcast_dim(plan, 0) ? 0 : numel;  // no parallel writes to one element
  if (wants_tiles(plan)) {
    parallel_ranges(tile_count(plan), work,
                    [&](int64_t begin, int64_t end) { walk_tiles(plan, begin, end, row); });
  } else {
    parallel_ranges(numel, work, [&](int64_t begin, int64_t end) { walk_rows(plan, begin, end, row); });
  }
}

}  // namespace tg::cpu
