// Chapter 4, exercise 3: a mask written the wrong way round (true at padding,
// PyTorch's key_padding_mask) given to nn::AdditiveAttention. The row of the
// longest sentence is then all false, a row the softmax cannot normalise (its
// max would be -∞ and 0/0 follows), so the module refuses it with an error
// naming that row. Exits 1 if no tg::Error is thrown.
#include <fmt/format.h>
#include <tapegrad.h>

int main() {
  tg::Generator gen(43);
  const tg::nn::AdditiveAttention attention(3, 4, 6, tg::DType::f64, gen);
  const tg::Tensor keys = tg::randn({3, 5, 4}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor query = tg::randn({3, 3}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor padding = tg::logical_not(tg::sequence_mask(tg::index_tensor({5, 3, 2}), 5));  // true = padding
  try {
    attention(query, keys, padding);
  } catch (const tg::Error& e) {
    fmt::print("refused: {}\n", e.what());
    return 0;
  }
  fmt::print(stderr, "a mask with true at padding was accepted\n");
  return 1;
}
