// Optimizers (SGD, Adam, AdamW) against PyTorch trajectories and a hand step,
// gradient clipping, learning-rate schedules, argument validation, state.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_gemm.h"
#include "backends/cpu/packed_operand_cache.h"
#include "bf16_kernel_guard.h"
#include "backends/reference/reference_backend.h"
#include "tapegrad_kernels.h"

using namespace tg;
using namespace tg::optim;

namespace {

// tests/fixtures/optim_reference.txt: "<name> <values...>" per line.
std::map<std::string, std::vector<double>> read_reference() {
  std::ifstream in(TAPEGRAD_SOURCE_DIR "/tests/fixtures/optim_reference.txt");
  REQUIRE(in.good());
  std::map<std::string, std::vector<double>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    double v;
    while (fields >> v) out[name].push_back(v);
  }
  return out;
}

// Same hyperparameters as CONFIGS in make_optim_fixtures.py.
using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;
std::map<std::string, Factory> configs() {
  return {
      {"sgd_plain", [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1}); }},
      {"sgd_momentum",
       [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1}); }},
      {"sgd_nesterov",
       [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true}); }},
      {"sgd_weight_decay",
       [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1, .momentum = 0.5, .weight_decay = 0.01}); }},
      {"adam", [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.01}); }},
      {"adam_weight_decay",
       [](auto p) {
         return std::make_unique<Adam>(
             p, AdamOptions{.lr = 0.01, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.1});
       }},
      {"adam_amsgrad", [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.01, .amsgrad = true}); }},
      {"adamw", [](auto p) { return std::make_unique<AdamW>(p, AdamWOptions{.lr = 0.01, .weight_decay = 0.1}); }},
      {"adamw_amsgrad",
       [](auto p) {
         return std::make_unique<AdamW>(
             p, AdamWOptions{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .weight_decay = 0.05, .amsgrad = true});
       }},
  };
}

Tensor from(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return tensor(values, shape).to(dtype);
}

void check_close(const Tensor& got, const std::vector<double>& want, double tolerance, const std::string& what) {
  const std::vector<double> g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO(what << " element " << i);
    CHECK(g[i] == doctest::Approx(want[i]).epsilon(tolerance).scale(1.0));
  }
}

// Runs every fixture configuration with parameters of `dtype`; compares after each step.
void run_fixture_configs(DType dtype, double tolerance) {
  const auto ref = read_reference();
  for (const auto& [name_, make_] : configs()) {
    const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& make = make_;
    CAPTURE(name);
    Tensor w = from(ref.at("w0"), {2, 3}, dtype).requires_grad_();
    Tensor b = from(ref.at("b0"), {3}, dtype).requires_grad_();
    const std::unique_ptr<Optimizer> opt = make({w, b});
    for (int k = 1; k <= 5; ++k) {
      w.set_grad(from(ref.at(fmt::format("grad.w.{}", k)), {2, 3}, dtype));
      const std::string grad_b = fmt::format("grad.b.{}", k);
      b.set_grad(ref.count(grad_b) ? from(ref.at(grad_b), {3}, dtype) : Tensor());  // none at step 3
      opt->step();
      check_close(w, ref.at(fmt::format("{}.w.{}", name, k)), tolerance, fmt::format("{} w step {}", name, k));
      check_close(b, ref.at(fmt::format("{}.b.{}", name, k)), tolerance, fmt::format("{} b step {}", name, k));
    }
    CHECK(opt->param_state(0).step == 5);
    CHECK(opt->param_state(1).step == 4);  // b was skipped once
  }
}

}  // namespace

TEST_CASE("SGD, Adam and AdamW follow PyTorch's trajectories (float64, both backends)") {
  SUBCASE("cpu") { run_fixture_configs(DType::f64, 1e-12); }
  SUBCASE("reference") {
    HostBackendScope use(reference_backend());
    run_fixture_configs(DType::f64, 1e-12);
  }
}

namespace {
// GROUPED in make_optim_fixtures.py: w in group 0, b in group 1.
using GroupedFactory = std::function<std::unique_ptr<Optimizer>(const Tensor& w, const Tensor& b)>;
std::map<std::string, GroupedFactory> grouped_configs() {
  auto groups = [](const Tensor& w, const Tensor& b, ParamGroup first, ParamGroup second) {
    first.params = {{"w", w}};
    second.params = {{"b", b}};
    return std::vector<ParamGroup>{first, second};
  };
  return {
      {"sgd_groups",
       [=](const Tensor& w, const Tensor& b) {
         return std::make_unique<SGD>(groups(w, b, {.weight_decay = 0.05}, {.lr = 0.02}),
                                      SGDOptions{.lr = 0.1, .momentum = 0.9});
       }},
      {"adam_groups",
       [=](const Tensor& w, const Tensor& b) {
         return std::make_unique<Adam>(groups(w, b, {.lr = 0.05, .weight_decay = 0.1}, {}),
                                       AdamOptions{.lr = 0.01, .weight_decay = 0.01});
       }},
      {"adamw_groups",
       [=](const Tensor& w, const Tensor& b) {
         return std::make_unique<AdamW>(groups(w, b, {.weight_decay = 0.0}, {.lr = 0.003}), AdamWOptions{.lr = 0.01});
       }},
  };
}
}  // namespace

TEST_CASE("parameter groups: own lr and weight decay follow PyTorch's param_groups, a StepLR scaling each group") {
  const auto ref = read_reference();
  for (const auto& [name_, make_] : grouped_configs()) {
    const auto& name = name_;
    const auto& make = make_;
    CAPTURE(name);
    Tensor w = from(ref.at("w0"), {2, 3}, DType::f64).requires_grad_();
    Tensor b = from(ref.at("b0"), {3}, DType::f64).requires_grad_();
    const std::unique_ptr<Optimizer> opt = make(w, b);
    REQUIRE(opt->group_count() == 2);
    StepLR schedule(*opt, 2, 0.5);
    for (int k = 1; k <= 5; ++k) {
      w.set_grad(from(ref.at(fmt::format("grad.w.{}", k)), {2, 3}, DType::f64));
      const std::string grad_b = fmt::format("grad.b.{}", k);
      b.set_grad(ref.count(grad_b) ? from(ref.at(grad_b), {3}, DType::f64) : Tensor());
      opt->step();
      schedule.step();
      check_close(w, ref.at(fmt::format("{}.w.{}", name, k)), 1e-12, fmt::format("{} w step {}", name, k));
      check_close(b, ref.at(fmt::format("{}.b.{}", name, k)), 1e-12, fmt::format("{} b step {}", name, k));
    }
  }
}

TEST_CASE("parameter groups: a state round trip continues exactly; a parameter moved to another group is refused") {
  const auto ref = read_reference();
  const GroupedFactory make = grouped_configs().at("adam_groups");
  auto run = [&](const Tensor& w, const Tensor& b, Optimizer& opt, StepLR& schedule, int from_step, int to_step) {
    for (int k = from_step; k <= to_step; ++k) {
      w.set_grad(from(ref.at(fmt::format("grad.w.{}", k)), {2, 3}, DType::f64));
      const std::string grad_b = fmt::format("grad.b.{}", k);
      b.set_grad(ref.count(grad_b) ? from(ref.at(grad_b), {3}, DType::f64) : Tensor());
      opt.step();
      schedule.step();
    }
  };
  Tensor w1 = from(ref.at("w0"), {2, 3}, DType::f64).requires_grad_();
  Tensor b1 = from(ref.at("b0"), {3}, DType::f64).requires_grad_();
  const auto whole = make(w1, b1);
  StepLR whole_schedule(*whole, 2, 0.5);
  run(w1, b1, *whole, whole_schedule, 1, 5);

  Tensor w2 = from(ref.at("w0"), {2, 3}, DType::f64).requires_grad_();
  Tensor b2 = from(ref.at("b0"), {3}, DType::f64).requires_grad_();
  const auto first = make(w2, b2);
  StepLR first_schedule(*first, 2, 0.5);
  run(w2, b2, *first, first_schedule, 1, 3);
  const OptimizerState saved = first->state();
  CHECK(saved.scalars.at("w.group") == 0);
  CHECK(saved.scalars.at("b.group") == 1);
  const auto saved_schedule = first_schedule.state();

  const auto second = make(w2, b2);  // a fresh optimizer over the same tensors, as after loading a checkpoint
  StepLR second_schedule(*second, 2, 0.5);
  second->load_state(saved);
  second_schedule.load_state(saved_schedule);
  CHECK(second->group_lr(0) == first->group_lr(0));
  CHECK(second->group_lr(1) == first->group_lr(1));
  run(w2, b2, *second, second_schedule, 4, 5);
  CHECK(w2.to_vector<double>() == w1.to_vector<double>());  // bit for bit
  CHECK(b2.to_vector<double>() == b1.to_vector<double>());

  // The same names in swapped groups: refused, naming the parameter and both groups.
  std::vector<ParamGroup> swapped{{.params = {{"b", b2}}}, {.params = {{"w", w2}}, .lr = 0.05}};
  Adam other(swapped, AdamOptions{.lr = 0.01});
  CHECK_THROWS_WITH_AS(other.load_state(saved), doctest::Contains("parameter 'w' was in group 0 when saved, is in group 1 here"),
                       Error);
  // Names must stay unique across groups; bad group settings are named.
  CHECK_THROWS_WITH_AS(Adam(std::vector<ParamGroup>{{.params = {{"weight", w2}}}, {.params = {{"weight", b2}}}}),
                       doctest::Contains("both named 'weight' (split the whole model's named_parameters()"), Error);
  CHECK_THROWS_WITH_AS(Adam(std::vector<ParamGroup>{{.params = {{"w", w2}}, .lr = -1}}),
                       doctest::Contains("parameter group 0: lr must be >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(Adam(std::vector<ParamGroup>{{.params = {{"w", w2}}}, {}}),
                       doctest::Contains("parameter group 1 is empty"), Error);
}

TEST_CASE("float32 parameters follow the same trajectories to float32 precision") {
  run_fixture_configs(DType::f32, 2e-5);
}

TEST_CASE("one Adam step by hand") {
  // g = (0.5, -2), lr = 0.1, β = (0.9, 0.999), t = 1:
  //   m = 0.1 g, v = 0.001 g², bias corrections 0.1 and 0.001
  //   p -= 0.1 · (m / 0.1) / (√v / √0.001 + 1e-8) = 0.1 · g / (|g| + 1e-8)
  Tensor p = tensor({1.0, 1.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  Adam adam({p}, {.lr = 0.1});
  p.set_grad(tensor({0.5, -2.0}, {2}, {.dtype = tg::DType::f64}));
  adam.step();
  CHECK(p.at({0}) == doctest::Approx(1 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
  CHECK(p.at({1}) == doctest::Approx(1 + 0.1 * 2.0 / (2.0 + 1e-8)).epsilon(1e-15));
  const ParamState& s = adam.param_state(0);
  CHECK(s.step == 1);
  CHECK(s.buffers.at("exp_avg").at({1}) == doctest::Approx(-0.2));
  CHECK(s.buffers.at("exp_avg_sq").at({1}) == doctest::Approx(0.004));
  CHECK(s.buffers.count("max_exp_avg_sq") == 0);
}

TEST_CASE("SGD momentum by hand: the buffer starts as the gradient") {
  // b1 = g1 = 1; p1 = 1 - 0.5·1 = 0.5;  b2 = 0.9·1 + 2 = 2.9; p2 = 0.5 - 0.5·2.9 = -0.95
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 0.5, .momentum = 0.9});
  p.set_grad(tensor({1.0}, {1}, {.dtype = tg::DType::f64}));
  sgd.step();
  CHECK(p.item() == doctest::Approx(0.5));
  p.set_grad(tensor({2.0}, {1}, {.dtype = tg::DType::f64}));
  sgd.step();
  CHECK(p.item() == doctest::Approx(-0.95));
}

TEST_CASE("updates are not recorded on the tape and parameters stay leaves") {
  Tape tape;
  TapeScope scope(tape);
  Tensor w = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  sum(w * w).backward();
  tape.clear();
  Adam adam({w}, {});
  SGD sgd({w}, {.lr = 0.1, .momentum = 0.5});
  adam.step();
  sgd.step();
  CHECK(tape.size() == 0);
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());
  CHECK(grad_enabled());  // NoGrad was scoped to step()
}

TEST_CASE("parameters without a gradient are skipped; zero_grad drops gradients") {
  Tensor a = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true}), b = tensor({2.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({a, b}, {.lr = 1.0});
  a.set_grad(tensor({0.25}, {1}, {.dtype = tg::DType::f64}));
  sgd.step();
  CHECK(a.item() == 0.75);
  CHECK(b.item() == 2.0);
  CHECK(sgd.param_state(1).step == 0);
  sgd.zero_grad();
  CHECK_FALSE(a.grad().defined());
  sgd.step();  // nothing has a gradient: nothing moves
  CHECK(a.item() == 0.75);
}

TEST_CASE("optimizer arguments are validated") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  CHECK_THROWS_WITH_AS(Adam({p}, {.lr = -1}), doctest::Contains("Adam: lr must be >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(Adam({p}, {.beta1 = 1.5}), doctest::Contains("Adam: beta1 must be in [0, 1), got 1.5"),
                       Error);
  CHECK_THROWS_WITH_AS(Adam({p}, {.beta2 = 1.0}), doctest::Contains("Adam: beta2 must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(Adam({p}, {.eps = -1e-8}), doctest::Contains("Adam: eps must be >= 0, got -1e-08"), Error);
  CHECK_THROWS_WITH_AS(Adam({p}, {.weight_decay = -0.5}),
                       doctest::Contains("Adam: weight_decay must be >= 0, got -0.5"), Error);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.beta1 = -0.1}), doctest::Contains("AdamW: beta1 must be in [0, 1), got -0.1"),
                       Error);
  CHECK_THROWS_WITH_AS(Adam({p}, {.lr = std::nan("")}), doctest::Contains("Adam: lr must be >= 0, got nan"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = 0.1, .nesterov = true}),
                       doctest::Contains("SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=0"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                       doctest::Contains("dampening=0.1"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = 0.1, .momentum = -0.9}),
                       doctest::Contains("SGD: momentum must be >= 0, got -0.9"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.momentum = 0.9}), doctest::Contains("SGD: lr must be given"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = -0.1}), doctest::Contains("SGD: lr must be >= 0, got -0.1"), Error);
  const Tensor frozen = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64});
  CHECK_THROWS_WITH_AS(SGD({p, frozen}, {.lr = 0.1}),
                       doctest::Contains("SGD: parameter 1 ('1', (2,) float64) does not require grad"), Error);
  CHECK_THROWS_WITH_AS(Adam({p, tensor({3.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true}), p}),
                       doctest::Contains("Adam: parameter 2 ('2') is the same tensor as parameter 0 ('0')"), Error);
  CHECK_THROWS_WITH_AS(Adam(std::vector<Tensor>{}), doctest::Contains("Adam: got an empty parameter list"), Error);
  Tensor q = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  CHECK_THROWS_WITH_AS(Adam(std::vector<std::pair<std::string, Tensor>>{{"w", p}, {"w", q}}),
                       doctest::Contains("Adam: parameters 0 and 1 are both named 'w'"), Error);
  SGD sgd({p}, {.lr = 0.1});
  CHECK_THROWS_WITH_AS(sgd.set_lr(-0.5), doctest::Contains("SGD: lr must be >= 0, got -0.5"), Error);
  sgd.set_lr(0.25);
  CHECK(sgd.lr() == 0.25);
}

TEST_CASE("clip_grad_norm scales by max_norm / (norm + 1e-6) and returns the norm before clipping") {
  Tensor a = tensor({3.0, 4.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true}), b = tensor({12.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true}), c = tensor({5.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  a.set_grad(tensor({3.0, 4.0}, {2}, {.dtype = tg::DType::f64}));
  b.set_grad(tensor({12.0}, {1}, {.dtype = tg::DType::f64}));  // ‖(3, 4, 12)‖ = 13; c has no gradient
  SUBCASE("above the limit") {
    CHECK(clip_grad_norm({a, b, c}, 6.5) == doctest::Approx(13.0).epsilon(1e-15));
    const double k = 6.5 / (13.0 + 1e-6);
    CHECK(a.grad().at({0}) == doctest::Approx(3 * k).epsilon(1e-15));
    CHECK(a.grad().at({1}) == doctest::Approx(4 * k).epsilon(1e-15));
    CHECK(b.grad().at({0}) == doctest::Approx(12 * k).epsilon(1e-15));
    CHECK_FALSE(c.grad().defined());
  }
  SUBCASE("below the limit nothing changes") {
    CHECK(clip_grad_norm({a, b, c}, 20.0) == doctest::Approx(13.0));
    CHECK(a.grad().at({1}) == 4.0);
    CHECK(b.grad().at({0}) == 12.0);
  }
  SUBCASE("a non-finite norm is returned and the gradients are left alone") {
    b.set_grad(tensor({std::numeric_limits<double>::infinity()}, {1}, {.dtype = DType::f64}));
    CHECK(std::isinf(clip_grad_norm({a, b}, 1.0)));
    CHECK(a.grad().at({0}) == 3.0);
    b.set_grad(tensor({std::nan("")}, {1}, {.dtype = DType::f64}));
    CHECK(std::isnan(clip_grad_norm({a, b}, 1.0)));
    CHECK(a.grad().at({1}) == 4.0);
  }
  SUBCASE("float32 gradients") {
    Tensor f = tensor({0.f, 0.f, 0.f, 0.f}, {2, 2}, true);
    f.set_grad(tensor({1.f, -1.f, 1.f, -1.f}, {2, 2}));  // norm 2
    CHECK(clip_grad_norm({f}, 1.0) == doctest::Approx(2.0));
    CHECK(f.grad().at({1, 1}) == doctest::Approx(-0.5).epsilon(1e-6));
  }
  CHECK_THROWS_WITH_AS(clip_grad_norm({a}, -1.0), doctest::Contains("max_norm must be >= 0, got -1"), Error);
}

TEST_CASE("clip_grad_norm_async leaves the gradients bit for bit as clip_grad_norm, reading nothing back") {
  for (const DType dtype : {DType::f32, DType::f64})
    for (const double max_norm : {0.5, 1e6}) {  // clipping, and not
      for (const double poison : {0.0, double(INFINITY), double(NAN)}) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(max_norm);
        CAPTURE(poison);
        auto make = [&](uint64_t seed) {  // the same parameters and gradients for both
          Generator g(seed);
          std::vector<Tensor> params;
          for (const Shape& shape : {Shape{3, 5}, Shape{7}, Shape{2, 2, 2}}) {
            Tensor p = randn(shape, {dtype}, g).requires_grad_();
            p.set_grad(randn(shape, {dtype}, g));
            params.push_back(p);
          }
          params.push_back(tensor({1.0}, {1}, {.dtype = tg::DType::f64}).to(dtype).requires_grad_());  // no gradient
          return params;
        };
        std::vector<Tensor> host = make(5), device = make(5);
        if (poison != 0)
          for (std::vector<Tensor>* ps : {&host, &device})
            (*ps)[1].set_grad(full((*ps)[1].shape(), poison, {dtype}));
        const double norm = clip_grad_norm(host, max_norm);
        const Tensor norm_tensor = clip_grad_norm_async(device, max_norm);
        CHECK(norm_tensor.shape() == Shape{});
        CHECK(norm_tensor.dtype() == DType::f64);
        const double got = norm_tensor.item();
        CHECK((got == norm || (std::isnan(got) && std::isnan(norm))));
        for (size_t i = 0; i + 1 < host.size(); ++i) {
          const std::vector<double> a = host[i].grad().to_vector<double>(), b = device[i].grad().to_vector<double>();
          for (size_t j = 0; j < a.size(); ++j) CHECK((a[j] == b[j] || (std::isnan(a[j]) && std::isnan(b[j]))));
        }
        CHECK_FALSE(device.back().grad().defined());
      }
    }
  CHECK(clip_grad_norm_async({}, 1.0).item() == 0.0);
  CHECK_THROWS_WITH_AS(clip_grad_norm_async({}, -1.0), doctest::Contains("max_norm must be >= 0, got -1"), Error);
}

TEST_CASE("StepLR: lr = base · γ^⌊epoch / step_size⌋") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 1.0});
  StepLR schedule(sgd, 3, 0.5);
  CHECK(schedule.lr() == 1.0);
  const std::vector<double> want = {1, 1, 0.5, 0.5, 0.5, 0.25, 0.25};  // after step() 1..7
  for (double lr : want) {
    schedule.step();
    CHECK(sgd.lr() == lr);
  }
  CHECK_THROWS_WITH_AS(StepLR(sgd, 0, 0.5), doctest::Contains("StepLR: step_size must be >= 1, got 0"), Error);
}

TEST_CASE("WarmupInverseSqrt: linear warm-up to the base lr, then base · √(warmup / t)") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 0.8});
  WarmupInverseSqrt schedule(sgd, 4);
  // lr for update t = 1, 2, ...: 0.2, 0.4, 0.6, 0.8, then 0.8·√(4/t)
  std::vector<double> want = {0.2, 0.4, 0.6, 0.8, 0.8 * std::sqrt(4.0 / 5)};
  for (int t = 6; t <= 16; ++t) want.push_back(0.8 * std::sqrt(4.0 / t));
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(sgd.lr() == doctest::Approx(want[i]).epsilon(1e-15));
    schedule.step();
  }
  CHECK(want[8] == doctest::Approx(0.8 * 2 / 3));  // t = 9
  CHECK(want[15] == doctest::Approx(0.4));         // t = 16
  CHECK_THROWS_WITH_AS(WarmupInverseSqrt(sgd, 0),
                       doctest::Contains("WarmupInverseSqrt: warmup_steps must be >= 1, got 0"), Error);
}

TEST_CASE("ReduceLROnPlateau: patience, relative threshold, cooldown, min_lr") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 1.0});
  ReduceLROnPlateau schedule(
      sgd, {.factor = 0.5, .patience = 2, .threshold = 0.1, .cooldown = 1, .min_lr = 0.2});
  // Derived by hand (and identical to torch 1.13): better means < best · 0.9.
  // 10 sets best; 9.5, 9.2, 9.1 are 3 bad epochs > patience 2 -> 0.5, cooldown 1;
  // 8.0 is better (best 8) and spends the cooldown; then three bad epochs -> 0.25,
  // the next cooldown epoch is not counted, three more -> max(0.125, 0.2) = 0.2,
  // and a reduction from 0.2 to 0.2 changes nothing.
  const std::vector<double> metrics = {10, 9.5, 9.2, 9.1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  const std::vector<double> want = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2};
  for (size_t i = 0; i < metrics.size(); ++i) {
    schedule.step(metrics[i]);
    CAPTURE(i);
    CHECK(sgd.lr() == doctest::Approx(want[i]));
  }
  CHECK(schedule.best() == 8);
}

TEST_CASE("ReduceLROnPlateau in max mode; a nan metric is a bad epoch") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 1.0});
  ReduceLROnPlateau schedule(sgd, {.mode = PlateauOptions::Mode::max, .patience = 0, .threshold = 0});
  const std::vector<double> metrics = {1, 2, 2, 3, std::nan("")};
  const std::vector<double> want = {1, 1, 0.1, 0.1, 0.01};
  for (size_t i = 0; i < metrics.size(); ++i) {
    schedule.step(metrics[i]);
    CHECK(sgd.lr() == doctest::Approx(want[i]));
  }
  CHECK(schedule.best() == 3);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau(sgd, {.factor = 1.0}),
                       doctest::Contains("ReduceLROnPlateau: factor must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau(sgd, {.patience = -1}),
                       doctest::Contains("ReduceLROnPlateau: patience must be >= 0, got -1"), Error);
}

TEST_CASE("optimizer state round trip in memory continues exactly") {
  const auto ref = read_reference();
  const auto run = [&](Optimizer& opt, Tensor& w, int from, int to) {
    for (int k = from; k <= to; ++k) {
      w.set_grad(from_vector(ref.at(fmt::format("grad.w.{}", k)), {2, 3}, {DType::f32}));
      opt.step();
    }
  };
  const auto fresh = [&] { return from_vector(ref.at("w0"), {2, 3}, {DType::f32}).requires_grad_(); };
  Tensor w6 = fresh();
  AdamW straight({w6}, {.lr = 0.05, .amsgrad = true});
  run(straight, w6, 1, 5);

  Tensor w3 = fresh();
  AdamW first({w3}, {.lr = 0.05, .amsgrad = true});
  run(first, w3, 1, 3);
  const OptimizerState state = first.state();
  CHECK(state.type == "AdamW");
  CHECK(state.scalars.at("0.step") == 3);
  CHECK(state.tensors.size() == 3);  // exp_avg, exp_avg_sq, max_exp_avg_sq

  Tensor resumed = w3.detach().clone().requires_grad_();
  AdamW second({resumed}, {.lr = 0.5, .amsgrad = true});  // lr comes from the state
  second.load_state(state);
  CHECK(second.lr() == 0.05);
  run(second, resumed, 4, 5);
  CHECK(resumed.to_vector<float>() == w6.to_vector<float>());
}

TEST_CASE("load_state reports every problem at once") {
  Tensor w = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  Adam adam({w}, {});
  w.set_grad(tensor({1.0, 1.0}, {2}, {.dtype = tg::DType::f64}));
  adam.step();
  OptimizerState state = adam.state();
  state.tensors.emplace_back("0.velocity", zeros({2}, {DType::f64}));
  state.tensors.emplace_back("7.exp_avg", zeros({2}, {DType::f64}));
  state.tensors[0].second = zeros({3}, {DType::f64});
  state.type = "SGD";
  Tensor v = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  Adam other({v}, {});
  CHECK_THROWS_WITH_AS(other.load_state(state), doctest::Contains("the state is of a SGD optimizer, this one is Adam"),
                       Error);
  try {
    other.load_state(state);
    FAIL("load_state accepted a broken state");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("unexpected tensor '0.velocity'") != std::string::npos);
    CHECK(m.find("unexpected tensor '7.exp_avg'") != std::string::npos);
    CHECK(m.find("'0.exp_avg' is (3,) float64, parameter '0' is (2,) float64") != std::string::npos);
  }
  CHECK(other.param_state(0).step == 0);  // nothing was applied
}

TEST_CASE("CosineAnnealingLR: eta_min + (base − eta_min)(1 + cos(π t / t_max)) / 2") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 1.0});
  CosineAnnealingLR schedule(sgd, 4, 0.1);
  // By hand: cos(π/4) = √2/2, so t = 1, 3 give 0.1 + 0.45 (1 ± √2/2); t = 2 gives 0.55.
  const double h = std::sqrt(2.0) / 2;
  const std::vector<double> want = {1, 0.1 + 0.45 * (1 + h), 0.55, 0.1 + 0.45 * (1 - h), 0.1, 0.1 + 0.45 * (1 - h)};
  for (size_t t = 0; t < want.size(); ++t) {
    CAPTURE(t);
    CHECK(sgd.lr() == doctest::Approx(want[t]).epsilon(1e-15));
    // PyTorch's closed form, term for term.
    CHECK(sgd.lr() == doctest::Approx(0.1 + (1 - 0.1) * (1 + std::cos(M_PI * t / 4)) / 2).epsilon(1e-15));
    schedule.step();
  }
  CHECK(schedule.step_count() == 6);
  CHECK_THROWS_WITH_AS(CosineAnnealingLR(sgd, 0), doctest::Contains("CosineAnnealingLR: t_max must be >= 1, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(CosineAnnealingLR(sgd, 4, 0, -1),
                       doctest::Contains("CosineAnnealingLR: warmup_steps must be >= 0, got -1"), Error);
}

TEST_CASE("CosineAnnealingLR with warm-up: base·(t+1)/W, then the cosine from base") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 0.8});
  CosineAnnealingLR schedule(sgd, 2, 0.0, 2);
  const std::vector<double> want = {0.4, 0.8, 0.8, 0.4, 0.0};
  for (size_t t = 0; t < want.size(); ++t) {
    CAPTURE(t);
    CHECK(sgd.lr() == doctest::Approx(want[t]).epsilon(1e-15));
    schedule.step();
  }
}

TEST_CASE("LambdaLR: lr = base · f(t) with t = 0 at construction") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD sgd({p}, {.lr = 2.0});
  LambdaLR schedule(sgd, [](int64_t t) { return 1.0 / (1 + t); });
  const std::vector<double> want = {2, 1, 2.0 / 3, 0.5};
  for (size_t t = 0; t < want.size(); ++t) {
    CHECK(sgd.lr() == doctest::Approx(want[t]).epsilon(1e-15));
    schedule.step();
  }
  CHECK_THROWS_WITH_AS(LambdaLR(sgd, nullptr), doctest::Contains("LambdaLR: lr_lambda is empty"), Error);
  CHECK_THROWS_WITH_AS(LambdaLR(sgd, [](int64_t) { return std::nan(""); }),
                       doctest::Contains("LambdaLR: lr_lambda(0) returned nan"), Error);
}

TEST_CASE("CosineAnnealingLR and LambdaLR state round trip continues the sequence") {
  Tensor p = tensor({1.0}, {1}, {.dtype = tg::DType::f64, .requires_grad = true});
  SGD a({p}, {.lr = 1.0}), b({p}, {.lr = 1.0});
  CosineAnnealingLR first(a, 10, 0.01, 3);
  for (int i = 0; i < 6; ++i) first.step();
  CHECK(first.state() == std::map<std::string, double>{{"base_lr", 1.0}, {"step", 6.0}});
  b.set_lr(0.5);  // the restored schedule keeps its base lr from the state, not the optimizer
  CosineAnnealingLR second(b, 10, 0.01, 3);
  second.load_state(first.state());
  CHECK(b.lr() == a.lr());
  first.step();
  second.step();
  CHECK(b.lr() == a.lr());
  CHECK_THROWS_WITH_AS(second.load_state({{"base_lr", 1.0}}), doctest::Contains("CosineAnnealingLR: state has no 'step'"),
                       Error);

  const auto decay = [](int64_t t) { return std::pow(0.5, static_cast<double>(t)); };
  LambdaLR third(a, decay);
  third.step();
  third.step();
  LambdaLR fourth(b, decay);
  fourth.load_state(third.state());
  CHECK(fourth.step_count() == 2);
  CHECK(b.lr() == a.lr());
  CHECK(third.type_name() == "LambdaLR");
}

namespace {
// Adam's step as the separate kernels composed it before the fused kernel
// (kernels/adam_update/adam_element.h), each rounding in the element type.
void composed_adam_step(const Tensor& p, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor& v_max,
                        int64_t t, const AdamOptions& o, bool decoupled) {
  using compute::binary;
  using compute::unary;
  auto scale_ = [](const Tensor& x, double s) { compute::copy_into(unary(UnaryOp::mul_scalar, x, s), x); };
  Tensor g = grad;
  if (o.weight_decay != 0 && decoupled) scale_(p, 1 - o.lr * o.weight_decay);
  if (o.weight_decay != 0 && !decoupled) g = binary(BinaryOp::add, g, unary(UnaryOp::mul_scalar, p, o.weight_decay));
  scale_(m, o.beta1);
  compute::add_into(m, unary(UnaryOp::mul_scalar, g, 1 - o.beta1));
  scale_(v, o.beta2);
  compute::add_into(v, unary(UnaryOp::mul_scalar, binary(BinaryOp::mul, g, g), 1 - o.beta2));
  Tensor second = v;
  if (o.amsgrad) {
    compute::copy_into(binary(BinaryOp::maximum, v_max, v), v_max);
    second = v_max;
  }
  const double bc1 = 1 - std::pow(o.beta1, double(t)), bc2 = 1 - std::pow(o.beta2, double(t));
  const Tensor root = binary(BinaryOp::div, unary(UnaryOp::sqrt, second), scalar(std::sqrt(bc2), {p.dtype()}));
  const Tensor denom = unary(UnaryOp::add_scalar, root, o.eps);
  compute::add_into(p, unary(UnaryOp::mul_scalar, binary(BinaryOp::div, m, denom), -(o.lr / bc1)));
}
}  // namespace

TEST_CASE("Adam and AdamW equal the composed kernels bit for bit, float32 and float64, both backends") {
  for (Backend* backend : {&cpu_backend(), &reference_backend()})
    for (const DType dtype : {DType::f32, DType::f64})
      for (const bool amsgrad : {false, true})
        for (const bool decoupled : {false, true})
          for (const double wd : {0.0, 0.05}) {
            CAPTURE(backend->name()); CAPTURE(dtype_name(dtype)); CAPTURE(amsgrad); CAPTURE(decoupled); CAPTURE(wd);
            HostBackendScope scope(*backend);
            Generator gen(5);
            const AdamOptions o{.lr = 1e-2, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = wd, .amsgrad = amsgrad};
            const Tensor p = normal({37, 41}, 0, 1, {dtype}, gen).requires_grad_();
            const Tensor expected = p.detach().clone();
            const Tensor m = zeros({37, 41}, {dtype}), v = zeros({37, 41}, {dtype}), v_max = zeros({37, 41}, {dtype});
            std::unique_ptr<Optimizer> opt;
            if (decoupled)
              opt = std::make_unique<AdamW>(std::vector<Tensor>{p}, AdamWOptions{.lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps, .weight_decay = wd, .amsgrad = amsgrad});
            else
              opt = std::make_unique<Adam>(std::vector<Tensor>{p}, o);
            for (int64_t t = 1; t <= 3; ++t) {
              // A transposed gradient takes the contiguous-copy path.
              const Tensor g = t == 2 ? transpose(normal({41, 37}, 0, 1, {dtype}, gen), 0, 1)
                                      : normal({37, 41}, 0, 1, {dtype}, gen);
              p.set_grad(g);
              opt->step();
              composed_adam_step(expected, g, m, v, v_max, t, o, decoupled);
              CHECK(p.detach().to_vector<double>() == expected.to_vector<double>());
              CHECK(opt->param_state(0).buffers.at("exp_avg_sq").to_vector<double>() == v.to_vector<double>());
            }
          }
}

TEST_CASE("step(grad_scale) with clip_grad_factor's factor equals clip_grad_norm then step() bit for bit, and leaves the gradients") {
  using Make = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;
  const std::vector<std::pair<std::string, Make>> optimizers = {
      {"Adam", [](std::vector<Tensor> ps) { return std::make_unique<Adam>(std::move(ps), AdamOptions{.lr = 1e-2}); }},
      {"Adam amsgrad, L2 decay",
       [](std::vector<Tensor> ps) {
         return std::make_unique<Adam>(std::move(ps), AdamOptions{.lr = 1e-2, .weight_decay = 0.05, .amsgrad = true});
       }},
      {"AdamW", [](std::vector<Tensor> ps) {
         return std::make_unique<AdamW>(std::move(ps), AdamWOptions{.lr = 1e-2, .weight_decay = 0.1});
       }},
      {"SGD momentum, decay", [](std::vector<Tensor> ps) {
         return std::make_unique<SGD>(std::move(ps), SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
       }}};
  for (Backend* backend : {&cpu_backend(), &reference_backend()})
    for (const DType dtype : {DType::f32, DType::f64})
      for (const auto& entry : optimizers) {  // not a structured binding: clang 14 cannot capture one (CAPTURE)
        const std::string& name = entry.first;
        const Make& make = entry.second;
        CAPTURE(backend->name()); CAPTURE(dtype_name(dtype)); CAPTURE(name);
        HostBackendScope scope(*backend);
        Generator gen(9);
        const Tensor init_a = normal({33, 17}, 0, 1, {dtype}, gen), init_b = normal({40}, 0, 1, {dtype}, gen);
        const Tensor a1 = init_a.clone().requires_grad_(), b1 = init_b.clone().requires_grad_();
        const Tensor a2 = init_a.clone().requires_grad_(), b2 = init_b.clone().requires_grad_();
        const std::unique_ptr<Optimizer> clipped = make({a1, b1}), folded = make({a2, b2});
        for (int t = 1; t <= 3; ++t) {
          CAPTURE(t);
          // t = 2: a norm below max_norm (factor 1); otherwise above it; a transposed gradient at t = 3.
          const double size = t == 2 ? 0.01 : 3.0;
          const Tensor ga = t == 3 ? transpose(normal({17, 33}, 0, size, {dtype}, gen), 0, 1)
                                   : normal({33, 17}, 0, size, {dtype}, gen);
          const Tensor gb = normal({40}, 0, size, {dtype}, gen);
          a1.set_grad(ga.clone());
          b1.set_grad(gb.clone());
          a2.set_grad(ga);
          b2.set_grad(gb);
          const double norm = clip_grad_norm({a1, b1}, 1.0);
          clipped->step();
          const ClipFactor clip = clip_grad_factor({a2, b2}, 1.0);
          CHECK(clip.norm == norm);
          CHECK((t == 2 ? clip.factor == 1.0 : clip.factor < 1.0));
          folded->step(clip.factor);
          CHECK(a2.detach().to_vector<double>() == a1.detach().to_vector<double>());
          CHECK(b2.detach().to_vector<double>() == b1.detach().to_vector<double>());
          CHECK(a2.grad().is_same(ga));  // the gradients are left as they are
          CHECK(b2.grad().to_vector<double>() == gb.to_vector<double>());
        }
      }
  const Tensor p = zeros({2}, {}).requires_grad_();
  Adam adam({p}, {});
  p.set_grad(ones({2}, {}));
  CHECK_THROWS_WITH_AS(adam.step(0.0), doctest::Contains("Adam.step: grad_scale must be finite and > 0, got 0"), Error);
  CHECK_THROWS_WITH_AS(adam.step(std::nan("")), doctest::Contains("grad_scale must be finite and > 0"), Error);
}

TEST_CASE("GradScaler: an overflow skips the step and halves the scale; good steps equal unscaled ones and grow it") {
  using tg::train::GradScaler;
  const tg::Tensor start = tg::from_vector(std::vector<float>{0.5f, -1.0f, 2.0f}, tg::Shape{3}, {tg::DType::f32});
  tg::Tensor p = start.clone().requires_grad_(), twin = start.clone().requires_grad_();
  tg::optim::SGD sgd({p}, {.lr = 0.1}), plain({twin}, {.lr = 0.1});
  GradScaler scaler({.init_scale = 65536.0, .growth_interval = 3});
  auto loss_of = [](const tg::Tensor& w, float c) {
    return tg::sum(tg::mul(w, tg::from_vector(std::vector<float>{c, 2 * c, -c}, tg::Shape{3}, {tg::DType::f32})));
  };
  // Gradient c · S = 1e35 · 2¹⁶ overflows float32: skipped, parameters untouched, scale halved.
  {
    tg::Tape tape;
    tg::TapeScope scope(tape);
    scaler.scale(loss_of(p, 1e35f)).backward();
  }
  CHECK_FALSE(scaler.step(sgd));
  scaler.update();
  CHECK(p.detach().to_vector<float>() == start.to_vector<float>());
  CHECK(scaler.scale_value() == 32768.0);
  CHECK(scaler.good_steps() == 0);
  sgd.zero_grad();
  // Three good steps: each equals the unscaled optimizer's bit for bit (S is a power of 2); then S doubles.
  for (int step = 0; step < 3; ++step) {
    {
      tg::Tape tape;
      tg::TapeScope scope(tape);
      scaler.scale(loss_of(p, 3.0f)).backward();
      loss_of(twin, 3.0f).backward();
    }
    scaler.unscale(sgd);  // as before clip_grad_norm: the gradients are the plain ones now
    CHECK(p.grad().to_vector<float>() == twin.grad().to_vector<float>());
    CHECK(scaler.step(sgd));
    plain.step();
    scaler.update();
    sgd.zero_grad();
    plain.zero_grad();
    CHECK(p.detach().to_vector<float>() == twin.detach().to_vector<float>());
  }
  CHECK(scaler.scale_value() == 65536.0);
  CHECK(scaler.good_steps() == 0);
  // A NaN gradient is caught too.
  p.set_grad(tg::from_vector(std::vector<float>{1.0f, NAN, 0.0f}, tg::Shape{3}, {tg::DType::f32}));
  CHECK_FALSE(scaler.step(sgd));
  scaler.update();
  CHECK(scaler.scale_value() == 32768.0);
  // Checkpoint state round-trips.
  GradScaler restored;
  restored.load_state(scaler.state());
  CHECK(restored.scale_value() == 32768.0);
  CHECK_THROWS_WITH_AS(restored.load_state({{"scale", 2.0}}), doctest::Contains("missing 'good_steps'"), tg::Error);
}

TEST_CASE("GradScaler: call order, options and the disabled scaler") {
  using tg::train::GradScaler;
  tg::Tensor p = tg::ones({2}).requires_grad_();
  tg::optim::SGD sgd({p}, {.lr = 0.5});
  GradScaler scaler;
  p.set_grad(tg::ones({2}));
  scaler.unscale(sgd);
  CHECK_THROWS_WITH_AS(scaler.unscale(sgd), doctest::Contains("already unscaled"), tg::Error);
  CHECK(scaler.step(sgd));
  CHECK_THROWS_WITH_AS(scaler.step(sgd), doctest::Contains("already stepped; call update() first"), tg::Error);
  scaler.update();
  CHECK_THROWS_WITH_AS(scaler.update(), doctest::Contains("call step() first"), tg::Error);
  CHECK_THROWS_WITH_AS(GradScaler({.init_scale = 0}), doctest::Contains("init_scale must be positive"), tg::Error);
  CHECK_THROWS_WITH_AS(GradScaler({.growth_factor = 1}), doctest::Contains("growth_factor must be > 1"), tg::Error);
  CHECK_THROWS_WITH_AS(GradScaler({.backoff_factor = 1}), doctest::Contains("backoff_factor must be in (0, 1)"), tg::Error);
  CHECK_THROWS_WITH_AS(GradScaler({.growth_interval = 0}), doctest::Contains("growth_interval must be >= 1"), tg::Error);
  GradScaler off({.enabled = false});
  const tg::Tensor loss = tg::sum(p);
  CHECK(off.scale(loss).is_same(loss));
  p.set_grad(tg::from_vector(std::vector<float>{INFINITY, 1.0f}, tg::Shape{2}, {tg::DType::f32}));
  CHECK(off.step(sgd));  // disabled: no check, always steps
  off.update();
  CHECK(off.scale_value() == 65536.0);
}

TEST_CASE("bf16 products keep a parameter's packing only until it is written: copy_, an Adam step, SGD") {
  // The cpu backend packs a parameter's B once per version (backends/cpu/packed_operand_cache.h); a product
  // after an in-place write must read the new values. A detached clone is not a parameter, so its products
  // pack every time: the reference bits.
  const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
  Generator gen(41);
  const Tensor w = randn({288, 96}, {}, gen).requires_grad_();  // a GRU's W_hh (3H, H)
  const Tensor h = randn({64, 96}, {}, gen);
  auto step_product = [&](const Tensor& weight) {
    const NoGrad no_grad;
    return matmul(h, transpose(weight, 0, 1)).to_vector<float>();  // h W_hhᵀ, as a recurrent step
  };
  auto unkept = [&] { return step_product(w.detach().clone()); };
  CHECK(step_product(w) == unkept());
  CHECK(step_product(w) == unkept());  // the kept packing: the same bits
  {
    const NoGrad no_grad;
    w.copy_(randn({288, 96}, {}, gen));
  }
  CHECK(step_product(w) == unkept());
  for (const std::string name : {"adam", "sgd"}) {
    CAPTURE(name);
    std::unique_ptr<Optimizer> optimizer;
    if (name == "adam") optimizer = std::make_unique<Adam>(std::vector<Tensor>{w}, AdamOptions{.lr = 0.1});
    else optimizer = std::make_unique<SGD>(std::vector<Tensor>{w}, SGDOptions{.lr = 0.1});
    const std::vector<float> before = step_product(w);
    optimizer->zero_grad();
    sum(matmul(h, transpose(w, 0, 1))).backward();
    optimizer->step();
    const std::vector<float> after = step_product(w);
    CHECK(after != before);
    CHECK(after == unkept());
  }
}

TEST_CASE("an Adam step packs a parameter's kept bf16 packings again as it writes them: the bits of packing at the next product") {
  // kept_packing_refresh.h: Adam writes W a chunk of 2^19 values at a time and packs each chunk's part of every
  // kept packing (W as Wᵀ: panels of 32 of W's rows; W itself: pairs of its rows). W here is 1,160 rows of 905:
  // three chunks, a last panel of 8 rows, an odd k as Wᵀ (905), an odd last pair as W (1,160 rows, blocks of
  // 512); also read as a part of its columns (a layer's input in parts, nn/input_parts.h), as Wᵀ and as W.
  if (!tg::cpu::bf16_products_built()) {
    MESSAGE("skipped: no vdpbf16ps kernels here (nothing is kept packed in their layout)");
    return;
  }
  const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
  // The vdpbf16ps kernel's packings (the AMX tiles read them too) are the ones Adam packs again; the processor's
  // own choice may be float32 multiply-adds on rounded inputs (Intel without AMX), which keep no packing.
  const Bf16KernelGuard kernel(tg::cpu::Bf16Kernel::dpbf16);
  Generator gen(43);
  const Tensor w = randn({1160, 905}, {}, gen).requires_grad_();
  const Tensor x = randn({40, 905}, {}, gen), dy = randn({40, 1160}, {}, gen), x_part = randn({40, 300}, {}, gen);
  auto products = [&](const Tensor& weight) {  // each kept form of B: Wᵀ, W, a column slice's transpose and itself
    const NoGrad no_grad;
    const Tensor part = slice(weight, 1, 600, 900);
    std::vector<std::vector<float>> out;
    for (const Tensor& y : {matmul(x, transpose(weight, 0, 1)), matmul(dy, weight), matmul(x_part, transpose(part, 0, 1)),
                            matmul(dy, part)})
      out.push_back(y.to_vector<float>());
    return out;
  };
  auto unkept = [&] { return products(w.detach().clone()); };
  tg::cpu::PackedOperandCache& cache = tg::cpu::packed_operand_cache();
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    set_num_threads(threads);
    Adam adam(std::vector<Tensor>{w}, AdamOptions{.lr = 0.01});
    CHECK(products(w) == unkept());  // packed and kept
    for (int step = 0; step < 2; ++step) {
      adam.zero_grad();
      sum(matmul(x, transpose(w, 0, 1))).backward();
      const int64_t remade = cache.stats().remade, misses = cache.stats().misses;
      adam.step();
      CHECK(cache.stats().remade == remade + 4);  // each kept form packed again by the step
      const std::vector<std::vector<float>> after = products(w);
      CHECK(cache.stats().misses == misses);  // found, not packed at the product
      CHECK(after == unkept());
    }
  }
  set_num_threads(2);
}
