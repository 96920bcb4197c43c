#include "data/audio/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "core/services/error.h"

namespace tg::audio::detail {

namespace {
std::mutex& fftw_planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

// One plan per (direction, size), made once (FFTW_ESTIMATE: no trial runs, so the same plan, and the
// same bits, in every process) and kept: making one costs about as much as running it. Plans are made
// for SIMD-aligned arrays and run only on this thread's aligned scratch (fftwf_execute_dft_* is
// thread-safe); FFTW_UNALIGNED plans, which take any array, ran 1.3-4x slower.
enum class Direction { forward, inverse };
fftwf_plan cached_plan(Direction direction, int64_t n) {
  // Never destroyed: the plans live as long as the process (and stay reachable for LeakSanitizer).
  static auto* plans = new std::map<std::pair<Direction, int64_t>, fftwf_plan>;
  std::lock_guard lock(fftw_planner_mutex());
  fftwf_plan& plan = (*plans)[{direction, n}];
  if (plan == nullptr) {
    float* real = fftwf_alloc_real(static_cast<size_t>(n));
    fftwf_complex* bins = fftwf_alloc_complex(static_cast<size_t>(n / 2 + 1));
    plan = direction == Direction::forward ? fftwf_plan_dft_r2c_1d(static_cast<int>(n), real, bins, FFTW_ESTIMATE)
                                           : fftwf_plan_dft_c2r_1d(static_cast<int>(n), bins, real, FFTW_ESTIMATE);
    fftwf_free(real);
    fftwf_free(bins);
  }
  if (plan == nullptr) fail("FFTW could not plan a transform of {} points", n);
  return plan;
}

// This thread's aligned arrays for a transform of n points: n reals and n/2 + 1 bins.
struct Scratch {
  float* real = nullptr;
  fftwf_complex* bins = nullptr;
  int64_t capacity = 0;
  ~Scratch() { fftwf_free(real), fftwf_free(bins); }
  void reserve(int64_t n) {
    if (n <= capacity) return;
    fftwf_free(real), fftwf_free(bins);
    real = fftwf_alloc_real(static_cast<size_t>(n));
    bins = fftwf_alloc_complex(static_cast<size_t>(n / 2 + 1));
    if (real == nullptr || bins == nullptr) fail("FFT: out of memory for a transform of {} points", n);
    capacity = n;
  }
};
Scratch& scratch(int64_t n) {
  thread_local Scratch s;
  s.reserve(n);
  return s;
}

std::complex<float>* as_complex(fftwf_complex* bins) { return reinterpret_cast<std::complex<float>*>(bins); }
}  // namespace

std::vector<std::complex<float>> real_fft(const float* x, int64_t count, int64_t n) {
  if (count > n) fail("real_fft: {} samples do not fit a transform of {} points", count, n);
  Scratch& s = scratch(n);
  std::copy(x, x + count, s.real);
  std::fill(s.real + count, s.real + n, 0.0f);
  fftwf_execute_dft_r2c(cached_plan(Direction::forward, n), s.real, s.bins);
  return {as_complex(s.bins), as_complex(s.bins) + n / 2 + 1};
}

void real_fft_into(const float* frame, std::complex<float>* spectrum, int64_t n) {
  Scratch& s = scratch(n);
  std::copy(frame, frame + n, s.real);
  fftwf_execute_dft_r2c(cached_plan(Direction::forward, n), s.real, s.bins);
  std::copy(as_complex(s.bins), as_complex(s.bins) + n / 2 + 1, spectrum);
}

std::vector<float> inverse_real_fft(const std::vector<std::complex<float>>& spectrum, int64_t n) {
  if (static_cast<int64_t>(spectrum.size()) != n / 2 + 1)
    fail("inverse_real_fft: a transform of {} points needs {} bins, got {}", n, n / 2 + 1, spectrum.size());
  Scratch& s = scratch(n);
  std::copy(spectrum.begin(), spectrum.end(), as_complex(s.bins));  // c2r overwrites its input: the scratch
  fftwf_execute_dft_c2r(cached_plan(Direction::inverse, n), s.bins, s.real);
  return {s.real, s.real + n};
}

int64_t fft_size_for(int64_t n) {
  // The smallest m·2^k >= n with m in {16, 18, 20, 24, 27, 30}: FFTW runs these as fast as powers of two,
  // they waste at most a fifth of the transform (a power of two nearly half), and six sizes an octave
  // keep the plans few (training's utterances have hundreds of lengths; a plan costs about a run).
  if (n <= 16) {
    int64_t size = 1;
    while (size < n) size *= 2;
    return size;
  }
  int64_t best = 0;
  for (const int64_t m : {16, 18, 20, 24, 27, 30}) {
    int64_t size = m;
    while (size < n) size *= 2;
    if (best == 0 || size < best) best = size;
  }
  return best;
}

}  // namespace tg::audio::detail
