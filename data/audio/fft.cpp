#include "data/audio/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "core/error.h"

namespace tg::audio::detail {

namespace {
std::mutex& fftw_planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

// One plan per (direction, size), made once (FFTW_ESTIMATE: no trial runs) and kept: making one costs
// about as much as running it. FFTW_UNALIGNED lets any arrays run through it (fftwf_execute_dft_*,
// which is thread-safe).
enum class Direction { forward, inverse };
fftwf_plan cached_plan(Direction direction, int64_t n) {
  // Never destroyed: the plans live as long as the process (and stay reachable for LeakSanitizer).
  static auto* plans = new std::map<std::pair<Direction, int64_t>, fftwf_plan>;
  std::lock_guard lock(fftw_planner_mutex());
  fftwf_plan& plan = (*plans)[{direction, n}];
  if (plan == nullptr) {
    std::vector<float> real(static_cast<size_t>(n));
    std::vector<std::complex<float>> bins(static_cast<size_t>(n / 2 + 1));
    auto* complex = reinterpret_cast<fftwf_complex*>(bins.data());
    const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    plan = direction == Direction::forward ? fftwf_plan_dft_r2c_1d(static_cast<int>(n), real.data(), complex, flags)
                                           : fftwf_plan_dft_c2r_1d(static_cast<int>(n), complex, real.data(), flags);
  }
  if (plan == nullptr) fail("FFTW could not plan a transform of {} points", n);
  return plan;
}
}  // namespace

std::vector<std::complex<float>> real_fft(const float* x, int64_t count, int64_t n) {
  if (count > n) fail("real_fft: {} samples do not fit a transform of {} points", count, n);
  std::vector<float> input(static_cast<size_t>(n), 0.0f);
  std::copy(x, x + count, input.begin());
  std::vector<std::complex<float>> spectrum(static_cast<size_t>(n / 2 + 1));
  fftwf_execute_dft_r2c(cached_plan(Direction::forward, n), input.data(), reinterpret_cast<fftwf_complex*>(spectrum.data()));
  return spectrum;
}

void real_fft_into(const float* frame, std::complex<float>* spectrum, int64_t n) {
  // FFTW's r2c leaves its input alone, despite the non-const pointer it takes.
  fftwf_execute_dft_r2c(cached_plan(Direction::forward, n), const_cast<float*>(frame), reinterpret_cast<fftwf_complex*>(spectrum));
}

std::vector<float> inverse_real_fft(std::vector<std::complex<float>> spectrum, int64_t n) {
  if (static_cast<int64_t>(spectrum.size()) != n / 2 + 1)
    fail("inverse_real_fft: a transform of {} points needs {} bins, got {}", n, n / 2 + 1, spectrum.size());
  std::vector<float> out(static_cast<size_t>(n));
  // c2r overwrites its input: `spectrum` is this function's own copy.
  fftwf_execute_dft_c2r(cached_plan(Direction::inverse, n), reinterpret_cast<fftwf_complex*>(spectrum.data()), out.data());
  return out;
}

int64_t fft_size_for(int64_t n) {
  int64_t size = 1;
  while (size < n) size *= 2;
  return size;
}

}  // namespace tg::audio::detail
