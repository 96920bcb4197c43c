#pragma once
// The library's FFTs (FFTW3, single precision), for its own sources: one plan
// per direction and size, made under one lock (FFTW's planner is not
// thread-safe; executing a plan is) and kept.
#include <complex>
#include <cstdint>
#include <vector>

namespace tg::audio::detail {

// X(k) = Σ_t x(t) e^{-2πi kt/n}, k = 0 … n/2, of x's `count` samples zero-padded to n (count ≤ n).
std::vector<std::complex<float>> real_fft(const float* x, int64_t count, int64_t n);
// The same of n samples at `frame`, into n/2 + 1 bins at `spectrum` (no allocation: log_mel's frames).
void real_fft_into(const float* frame, std::complex<float>* spectrum, int64_t n);
// x(t) = Σ_k X(k) e^{2πi kt/n} over the whole (Hermitian) spectrum, unnormalised: n × the true inverse.
std::vector<float> inverse_real_fft(const std::vector<std::complex<float>>& spectrum, int64_t n);
// A size ≥ n that FFTW transforms fast, from a few per octave (m·2^k, m in {16, 18, 20, 24, 27, 30}).
int64_t fft_size_for(int64_t n);

}  // namespace tg::audio::detail
