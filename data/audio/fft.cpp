#include "data/audio/fft.h"

#include <fftw3.h>

#include <algorithm>

#include "core/error.h"

namespace tg::audio::detail {

std::mutex& fftw_planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

namespace {
// Plans for these arrays (FFTW_ESTIMATE: no trial runs, so no array is touched while planning), runs, frees.
template <typename MakePlan>
void run_once(MakePlan make_plan, int64_t n) {
  fftwf_plan plan;
  {
    std::lock_guard lock(fftw_planner_mutex());
    plan = make_plan();
  }
  if (plan == nullptr) fail("FFTW could not plan a transform of {} points", n);
  fftwf_execute(plan);
  std::lock_guard lock(fftw_planner_mutex());
  fftwf_destroy_plan(plan);
}
}  // namespace

std::vector<std::complex<float>> real_fft(const float* x, int64_t count, int64_t n) {
  if (count > n) fail("real_fft: {} samples do not fit a transform of {} points", count, n);
  std::vector<float> input(static_cast<size_t>(n), 0.0f);
  std::copy(x, x + count, input.begin());
  std::vector<std::complex<float>> spectrum(static_cast<size_t>(n / 2 + 1));
  run_once([&] {
    return fftwf_plan_dft_r2c_1d(static_cast<int>(n), input.data(), reinterpret_cast<fftwf_complex*>(spectrum.data()),
                                 FFTW_ESTIMATE);
  }, n);
  return spectrum;
}

std::vector<float> inverse_real_fft(std::vector<std::complex<float>> spectrum, int64_t n) {
  if (static_cast<int64_t>(spectrum.size()) != n / 2 + 1)
    fail("inverse_real_fft: a transform of {} points needs {} bins, got {}", n, n / 2 + 1, spectrum.size());
  std::vector<float> out(static_cast<size_t>(n));
  run_once([&] {  // c2r overwrites its input: it is this function's own copy
    return fftwf_plan_dft_c2r_1d(static_cast<int>(n), reinterpret_cast<fftwf_complex*>(spectrum.data()), out.data(),
                                 FFTW_ESTIMATE);
  }, n);
  return out;
}

int64_t fft_size_for(int64_t n) {
  int64_t size = 1;
  while (size < n) size *= 2;
  return size;
}

}  // namespace tg::audio::detail
