// Chapter 5, exercise 3: cross entropy without ignore_index, so that <pad>
// targets (id 0) count. Two sentences of 4 and 2 target tokens padded to
// T = 4: the mean is then taken over all 8 positions instead of the 6 real
// ones, and the padded positions send gradient into the logits, teaching the
// model to predict <pad> after <eos>. Exits 1 unless the ignoring loss equals
// the mean over the real positions alone and the counting one gives the
// padded rows a non-zero gradient.
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>
#include <vector>

int main() {
  tg::Generator gen(55);
  const int64_t T = 4, B = 2, V = 6, pad = 0;
  // Targets (T, B) flattened row by row to (T·B): sentence 0 has 4 tokens, sentence 1 has 2 then padding.
  const tg::Tensor target = tg::index_tensor({3, 4, 5, 2, 4, pad, 2, pad});
  const tg::Tensor logits = tg::randn({T * B, V}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);

  const tg::Tensor ignoring = tg::cross_entropy(logits, target, {.ignore_index = pad});
  const tg::Tensor counting = tg::cross_entropy(logits, target);  // ignore_index -100: nothing ignored
  const std::vector<double> per_row = tg::cross_entropy(logits, target, {.reduction = tg::Reduction::none}).to_vector<double>();
  const std::vector<int64_t> ids = target.to_vector<int64_t>();
  double real_sum = 0;
  int real = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] != pad) real_sum += per_row[i], ++real;
  fmt::print("loss ignoring <pad> {:.6f} (mean over the {} real tokens: {:.6f}); counting it {:.6f}\n",
             ignoring.item(), real, real_sum / real, counting.item());

  counting.backward();
  const std::vector<double> grad = logits.grad().to_vector<double>();  // (T·B, V)
  double padded_grad = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == pad)
      for (int64_t c = 0; c < V; ++c) padded_grad += std::abs(grad[i * V + c]);
  fmt::print("counting <pad>: gradient reaching the padded positions' logits, summed |.|: {:.4f}\n", padded_grad);
  return std::abs(ignoring.item() - real_sum / real) <= 1e-12 && padded_grad > 0 ? 0 : 1;
}
