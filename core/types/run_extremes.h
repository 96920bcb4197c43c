#pragma once
// The largest (or smallest) of a run of n ≥ 1 floating-point values in memory
// and how many are NaN, as two reductions the compiler vectorises (a bool
// ||-reduction for the NaN left GCC's loop scalar). Where nans > 0, value is
// unspecified. Callers: max along a row (the cpu backend's reduce), top-k's
// and beam search's chunk filters.
#include <cstdint>

namespace tg {

template <typename T>
struct RunExtreme {
  T value;
  int64_t nans;
};

template <typename T>
RunExtreme<T> run_max(const T* x, int64_t n) {
  T largest = x[0];
  int64_t nans = 0;
#pragma omp simd reduction(max : largest) reduction(+ : nans)
  for (int64_t j = 0; j < n; ++j) {
    largest = x[j] > largest ? x[j] : largest;
    nans += x[j] != x[j] ? 1 : 0;
  }
  return {largest, nans};
}

template <typename T>
RunExtreme<T> run_min(const T* x, int64_t n) {
  T smallest = x[0];
  int64_t nans = 0;
#pragma omp simd reduction(min : smallest) reduction(+ : nans)
  for (int64_t j = 0; j < n; ++j) {
    smallest = x[j] < smallest ? x[j] : smallest;
    nans += x[j] != x[j] ? 1 : 0;
  }
  return {smallest, nans};
}

}  // namespace tg
