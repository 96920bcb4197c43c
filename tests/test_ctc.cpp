// ctc_loss: losses for every reduction and the gradients reaching
// the logits equal PyTorch's (tests/fixtures/make_ctc_fixtures.py -> ctc.txt:
// padded and concatenated targets, repeated labels, the blank last, an empty
// target, an infeasible sequence, a long one) to 1e-10 in float64; warp-ctc's
// small case by hand; a float64 gradcheck at the log-probabilities; the
// reference backend equals the cpu's; errors name what was expected.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/dispatch/backend_registry.h"
#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Reduction;
using tg::Shape;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("ctc.txt");
  return loaded;
}

Tensor ids(const std::string& name) {
  const FixtureTensor& t = entry(fixture(), name);
  std::vector<int64_t> values(t.values.begin(), t.values.end());
  return tg::from_vector(values, t.shape, {DType::i64});
}

struct Case {
  std::string name;
  int64_t blank;
};
const Case kCases[] = {{"padded", 0}, {"concat_blank_last", 4}, {"infeasible", 0}, {"long", 0}};

void check_close(double got, double want) {
  if (std::isinf(want)) {
    CHECK(std::isinf(got));
    CHECK(got > 0);
  } else {
    CHECK(got == doctest::Approx(want).epsilon(1e-10).scale(1.0));
  }
}

}  // namespace

TEST_CASE("ctc_loss equals PyTorch's: every reduction, with and without zero_infinity, and the logits' gradient") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    const Tensor targets = ids(c.name + ".targets"), il = ids(c.name + ".input_lengths"), tl = ids(c.name + ".target_lengths");
    const std::pair<const char*, Reduction> reductions[] = {
        {"none", Reduction::none}, {"sum", Reduction::sum}, {"mean", Reduction::mean}};
    for (const auto& named : reductions)  // not a structured binding: clang 14 cannot capture one in CAPTURE
      for (const bool zero_inf : {false, true}) {
        const char* suffix = named.first;
        const Reduction reduction = named.second;
        CAPTURE(suffix);
        CAPTURE(zero_inf);
        const Tensor log_probs = tg::log_softmax(fixture_tensor(fixture(), c.name + ".logits", DType::f64), -1);
        const Tensor loss = tg::ctc_loss(log_probs, targets, il, tl, c.blank, reduction, zero_inf);
        const FixtureTensor& want = entry(fixture(), c.name + "." + suffix + (zero_inf ? ".zero_inf" : ""));
        const std::vector<double> got = loss.to_vector<double>();
        REQUIRE(got.size() == want.values.size());
        for (size_t i = 0; i < got.size(); ++i) check_close(got[i], want.values[i]);
      }
    tg::Tape tape;
    tg::TapeScope scope(tape);
    const Tensor logits = fixture_tensor(fixture(), c.name + ".logits", DType::f64, true);
    const Tensor loss = tg::ctc_loss(tg::log_softmax(logits, -1), targets, il, tl, c.blank, Reduction::none, true);
    tg::sum(loss * fixture_tensor(fixture(), c.name + ".w", DType::f64)).backward();
    const std::vector<double> grad = logits.grad().to_vector<double>();
    const FixtureTensor& want = entry(fixture(), c.name + ".grad_logits");
    REQUIRE(grad.size() == want.values.size());
    double worst = 0;
    for (size_t i = 0; i < grad.size(); ++i) worst = std::max(worst, std::abs(grad[i] - want.values[i]));
    CHECK(worst < 1e-10);
  }
}

TEST_CASE("ctc_loss: warp-ctc's small case, by hand") {
  // T = 2 steps over 5 classes, labels (1, 2): the one alignment is 1 then 2, so
  // loss = −ln(softmax(a_0)[1] · softmax(a_1)[2]), each factor e^0.6 / (e^0.6 + 4 e^0.1).
  const Tensor activations = tg::tensor({0.1, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.6, 0.1, 0.1}, Shape{2, 1, 5}, {.dtype = tg::DType::f64});
  const Tensor loss = tg::ctc_loss(tg::log_softmax(activations, -1), tg::index_tensor({1, 2}, Shape{1, 2}),
                                   std::vector<int64_t>{2}, std::vector<int64_t>{2}, 0, Reduction::sum);
  const double p = std::exp(0.6) / (std::exp(0.6) + 4 * std::exp(0.1));
  CHECK(loss.item() == doctest::Approx(-2 * std::log(p)).epsilon(1e-14));
}

TEST_CASE("ctc_loss: float64 gradcheck at the log-probabilities, and the reference backend equals the cpu's") {
  tg::Generator gen(11);
  const Tensor log_probs = tg::randn({7, 3, 5}, {.dtype = DType::f64, .requires_grad = true}, gen);  // any values
  const Tensor targets = tg::index_tensor({1, 2, 2, 3, 4, 1, 0, 0, 3, 0, 0, 0}, Shape{3, 4});
  const std::vector<int64_t> il{7, 6, 3}, tl{3, 2, 1};
  CHECK(tg::gradcheck([&](const std::vector<Tensor>& in) { return tg::ctc_loss(in[0], targets, il, tl, 0, Reduction::none); },
                      {log_probs}).ok);
  CHECK(tg::gradcheck([&](const std::vector<Tensor>& in) { return tg::ctc_loss(in[0], targets, il, tl, 0, Reduction::mean); },
                      {log_probs}).ok);

  auto loss_and_grad = [&](tg::Backend& backend) {
    tg::HostBackendScope scope(backend);
    tg::Tape tape;
    tg::TapeScope tape_scope(tape);
    const Tensor x = log_probs.detach().clone().requires_grad_();
    const Tensor loss = tg::ctc_loss(tg::log_softmax(x, -1), targets, il, tl, 0, Reduction::none);
    tg::sum(loss).backward();
    return std::pair{loss.to_vector<double>(), x.grad().to_vector<double>()};
  };
  const auto cpu = loss_and_grad(tg::host_backend_named("cpu"));
  const auto reference = loss_and_grad(tg::host_backend_named("reference"));
  CHECK(cpu.first == reference.first);    // the same recursion, sequence by sequence
  CHECK(max_abs_diff(cpu.second, reference.second) < 1e-12);  // log_softmax differs by roundings
}

TEST_CASE("ctc_loss: an infeasible sequence gives +inf (0 with zero_infinity) and a zero, finite gradient") {
  tg::Tape tape;
  tg::TapeScope scope(tape);
  const Tensor logits = tg::zeros({4, 1, 3}, {.dtype = DType::f64, .requires_grad = true});
  const Tensor labels = tg::index_tensor({1, 1, 1}, Shape{1, 3});  // needs 5 steps (blanks between repeats)
  const Tensor loss = tg::ctc_loss(tg::log_softmax(logits, -1), labels, std::vector<int64_t>{4}, std::vector<int64_t>{3}, 0,
                                   Reduction::sum);
  CHECK(std::isinf(loss.item()));
  loss.backward();
  for (const double g : logits.grad().to_vector<double>()) CHECK(g == 0.0);
  CHECK(tg::ctc_loss(tg::log_softmax(logits, -1), labels, std::vector<int64_t>{4}, std::vector<int64_t>{3}, 0,
                     Reduction::sum, true).item() == 0.0);
}

TEST_CASE("ctc_loss: float32, unbatched (T, C), and errors that name what was expected") {
  const Tensor lp = tg::log_softmax(tg::zeros({6, 4}), -1);  // uniform over 4 classes, float32
  const Tensor one = tg::ctc_loss(lp, tg::index_tensor({1, 2}, Shape{2}), tg::index_tensor({6}), tg::index_tensor({2}), 0,
                                  Reduction::none);
  CHECK(one.shape() == Shape{});
  CHECK(std::isfinite(one.item()));

  const Tensor batch = tg::log_softmax(tg::zeros({6, 2, 4}), -1);
  const Tensor labels = tg::index_tensor({1, 2, 3, 1}, Shape{2, 2});
  const std::vector<int64_t> six{6, 6}, two{2, 2};
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, labels, six, two, 4), doctest::Contains("blank 4 is not a class of the 4"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, labels, six, two, 3),
                       doctest::Contains("target 0 of sequence 1 is 3; labels must be in [0, 4) and not the blank 3"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, labels, std::vector<int64_t>{7, 6}, two),
                       doctest::Contains("input_lengths[0] is 7; it must be in [1, 6]"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, labels, six, std::vector<int64_t>{3, 2}),
                       doctest::Contains("a target length of 3 is longer than the padded targets' 2 columns"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, tg::index_tensor({1, 2, 3}, Shape{3}), six, two),
                       doctest::Contains("concatenated targets hold 3 labels, the target lengths sum to 4"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_loss(batch, labels, std::vector<int64_t>{6}, two),
                       doctest::Contains("input_lengths must be int64 (2), one per sequence"), tg::Error);
}

namespace {
// A language model over 3 labels that likes label 2 after label 1, for the decoder's hook.
struct LikesTwoAfterOne : tg::CtcLabelScorer {
  int64_t context_size() const override { return 1; }
  double score(const std::vector<int64_t>& context, int64_t label) const override {
    return !context.empty() && context.back() == 1 && label == 2 ? std::log(0.9) : std::log(0.05);
  }
  double end_score(const std::vector<int64_t>&) const override { return 0; }
};
}  // namespace

TEST_CASE("ctc_greedy_decode and ctc_prefix_beam_decode in the library: tensors, a language model hook, errors") {
  // 4 frames over {blank, 1, 2, 3}: greedy reads 1, 1, blank, 3 -> [1, 3].
  const std::vector<double> p = {0.1, 0.8, 0.05, 0.05,  0.1, 0.8, 0.05, 0.05,  0.7, 0.1, 0.1, 0.1,
                                 0.1, 0.05, 0.4, 0.45};
  std::vector<double> logp;
  for (const double v : p) logp.push_back(std::log(v));
  const tg::Tensor rows = tg::tensor(logp, {4, 4});
  CHECK(tg::ctc_greedy_decode(rows) == std::vector<int64_t>{1, 3});
  CHECK(tg::ctc_greedy_decode(rows, 2) == std::vector<int64_t>{1});  // the first 2 frames only
  // Where they are emitted: 1 at frame 0 (its run of two starts there), 3 at frame 3.
  const std::vector<float> host = rows.to_vector<float>();
  const std::vector<tg::CtcEmission> emissions = tg::ctc_greedy_emissions(host.data(), 4, 4);
  REQUIRE(emissions.size() == 2);
  CHECK((emissions[0].frame == 0 && emissions[0].label == 1));
  CHECK((emissions[1].frame == 3 && emissions[1].label == 3));
  CHECK(tg::ctc_prefix_beam_decode(rows, {.width = 8}) == std::vector<int64_t>{1, 3});
  // The language model turns the last, nearly tied frame from 3 to 2 (after 1).
  const LikesTwoAfterOne lm;
  CHECK(tg::ctc_prefix_beam_decode(rows, {.width = 8, .lm = &lm, .lm_weight = 1.0, .bonus = 0}) ==
        std::vector<int64_t>{1, 2});
  // A different blank: class 0 is a label then.
  CHECK(tg::ctc_greedy_decode(rows, -1, 2) == std::vector<int64_t>{1, 0, 3});
  CHECK_THROWS_WITH_AS(tg::ctc_greedy_decode(rows, -1, 4), doctest::Contains("blank 4 is not one of the 4 classes"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_prefix_beam_decode(rows, {.width = 0}),
                       doctest::Contains("the beam width must be at least 1, got 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_greedy_decode(rows, 9), doctest::Contains("frames 9 is more than the 4 rows"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::ctc_greedy_decode(tg::ones({2, 3, 4})), doctest::Contains("must be (T, C), one sequence"),
                       tg::Error);
}
