// Chapter 4, exercise 2: mask after the softmax instead of before it.
//   α = softmax(score) ⊙ m                 rows no longer sum to 1: padding kept its share
//   α = softmax(score) ⊙ m / Σ_j (…)       renormalised: the masked softmax again
// because e^{s_j} / Σ_valid e^{s_k} is what both compute. Exits 1 unless the
// renormalised weights equal the masked softmax to 1e-12 and the plain
// product's rows fall short of 1.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

int main() {
  tg::Generator gen(42);
  const int64_t B = 3, S = 5;
  const tg::Tensor scores = tg::randn({B, S}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor mask = tg::sequence_mask(tg::index_tensor({5, 3, 2}), S);  // (B, S) bool, true = valid
  const tg::Tensor m = mask.to(tg::DType::f64);

  const tg::Tensor before =  // the chapter's way: -∞ before the softmax
      tg::softmax(tg::masked_fill(scores, tg::logical_not(mask), -std::numeric_limits<double>::infinity()), -1);
  const tg::Tensor after = tg::softmax(scores, -1) * m;                      // (B, S)
  const tg::Tensor renormalised = after / tg::sum(after, {-1}, true);          // (B, S) / (B, 1)

  const std::vector<double> x = before.to_vector<double>(), y = renormalised.to_vector<double>();
  double diff = 0;
  for (size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::abs(x[i] - y[i]));
  const std::vector<double> row_sums = tg::sum(after, {-1}).to_vector<double>();
  fmt::print("row sums of softmax(score) ⊙ mask: {:.4f} {:.4f} {:.4f}\n", row_sums[0], row_sums[1], row_sums[2]);
  fmt::print("renormalised against masked softmax: largest difference {:.1e}\n", diff);
  // The full-length row has no padding, so it sums to 1; the padded ones must fall short.
  const bool short_rows = row_sums[1] < 1 - 1e-6 && row_sums[2] < 1 - 1e-6;
  return diff <= 1e-12 && short_rows ? 0 : 1;
}
