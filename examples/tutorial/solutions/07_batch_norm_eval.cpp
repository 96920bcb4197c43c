// Chapter 7, exercise 2: why batch norm behaves differently in evaluation
// mode. In training mode an example's output depends on the rest of its batch
// (the statistics are the batch's): change another example and it changes,
// and a batch of one normalises every channel to its shift. In evaluation mode
// the running statistics stand in, so an example's output is its own, the
// same alone or in any batch. Exits 1 if any of that does not hold.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../tutorial_checks.h"

using tutorial::expect;
using tutorial::max_abs_diff;

int main() {
  tg::Generator gen(5);
  tg::NoGrad no_grad;
  tg::nn::BatchNorm2d bn(3, {.dtype = tg::DType::f64});
  const tg::Tensor batch = tg::randn({4, 3, 5, 5}, {.dtype = tg::DType::f64}, gen);
  // The same batch with example 3 replaced: example 0 is unchanged.
  const tg::Tensor other = tg::concat({tg::slice(batch, 0, 0, 3), tg::randn({1, 3, 5, 5}, {.dtype = tg::DType::f64}, gen) * 3.0}, 0);
  const tg::Tensor first = tg::slice(batch, 0, 0, 1);

  bn.train();
  for (int i = 0; i < 50; ++i) bn(tg::randn({8, 3, 5, 5}, {.dtype = tg::DType::f64}, gen));  // running statistics settle
  const double train_changed = max_abs_diff(tg::slice(bn(batch), 0, 0, 1), tg::slice(bn(other), 0, 0, 1));
  expect(train_changed > 1e-3, fmt::format("training mode: example 0's output moves by {:.3f} when example 3 changes",
                                           train_changed));
  // A batch of one: each channel of the example comes out with mean 0 and variance 1 (weight 1, bias 0),
  // whatever its own mean was: a bright coat and a dark one look alike.
  const tg::Tensor alone = bn(first * 5.0 + 2.0);
  const double channel_mean = tg::max(tg::abs(tg::mean(alone, {0, 2, 3}))).item();
  const double channel_var = tg::max(tg::abs(tg::mean(alone * alone, {0, 2, 3}) - 1.0)).item();
  expect(channel_mean < 1e-12 && channel_var < 1e-3,
         fmt::format("training mode, a batch of one (its pixels ×5 + 2): every channel comes out with mean 0 "
                     "(largest |mean| {:.1e}) and variance 1 (largest |var − 1| {:.1e})",
                     channel_mean, channel_var));

  bn.eval();
  const tg::Tensor in_batch = tg::slice(bn(batch), 0, 0, 1), in_other = tg::slice(bn(other), 0, 0, 1);
  const double eval_changed = max_abs_diff(in_batch, in_other), eval_alone = max_abs_diff(in_batch, bn(first));
  expect(eval_changed == 0 && eval_alone == 0,
         fmt::format("evaluation mode: example 0's output is its own (difference {} with another batch, {} alone)",
                     eval_changed, eval_alone));
  return tutorial::exit_status();
}
