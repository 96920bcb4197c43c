// The image ops and modules: conv2d, max_pool2d, avg_pool2d,
// adaptive_avg_pool2d, batch_norm and nn::Conv2d, MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d, BatchNorm1d/2d, Flatten. Values and gradients equal
// PyTorch's in float64 (tests/fixtures/make_conv_fixtures.py -> conv_ops.txt),
// also when the input is not contiguous (a permuted copy, a step-2 slice);
// float64 gradchecks; float32 close to float64; the cpu kernels equal the
// reference bodies (also over a sweep of sizes, kernels, strides, paddings
// and dilations); errors that name what was expected and what was got.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Shape;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("conv_ops.txt");
  return loaded;
}

Tensor input(const std::string& name, DType dtype = DType::f64) { return fixture_tensor(fixture(), name, dtype); }

// Runs `op` on the case's inputs (the first, x_name, in `layout`; the others "<name>.<input>", contiguous), checks
// its output and the gradient of Σ out ⊙ w for every input against the fixture.
void check_case(const std::string& name, const std::vector<std::string>& inputs,
                const std::function<Tensor(const std::vector<Tensor>&)>& op, Layout layout,
                const std::string& x_name) {
  CAPTURE(name);
  CAPTURE(layout_name(layout));
  std::vector<Laid> laid;
  std::vector<Tensor> args;
  for (const std::string& in : inputs) {  // the first in `layout`, the others contiguous
    const bool first = laid.empty();
    laid.push_back(lay_out_checked(input(first ? x_name : name + "." + in), first ? layout : Layout::contiguous));
    args.push_back(laid.back().input);
  }
  const Tensor out = op(args);
  check_fixture_close(fixture(), out, name + ".out");
  tg::sum(out * input(name + ".w")).backward();
  for (size_t i = 0; i < inputs.size(); ++i) check_fixture_close(fixture(), laid[i].grad(), name + ".grad_" + inputs[i]);
}

void check_all_layouts(const std::string& name, const std::vector<std::string>& inputs,
                       const std::function<Tensor(const std::vector<Tensor>&)>& op, const std::string& x_name) {
  for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::strided}) check_case(name, inputs, op, layout, x_name);
}

Tensor unbatched_x() { return tg::select(input("x"), 0, 1); }

}  // namespace

TEST_CASE("conv2d equals PyTorch's: stride, padding, dilation, groups, bias or not, 1x1, unbatched; any layout") {
  auto conv = [](tg::Size2 stride, tg::Size2 padding, tg::Size2 dilation, int64_t groups) {
    return [=](const std::vector<Tensor>& t) {
      return tg::conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), stride, padding, dilation, groups);
    };
  };
  check_all_layouts("conv_plain", {"x", "weight", "bias"}, conv(1, 0, 1, 1), "x");
  check_all_layouts("conv_stride_pad", {"x", "weight", "bias"}, conv({2, 1}, {1, 2}, 1, 1), "x");
  check_all_layouts("conv_dilation", {"x", "weight"}, conv({1, 2}, 1, {2, 1}, 1), "x");
  check_all_layouts("conv_groups", {"x", "weight", "bias"}, conv(1, 1, 1, 2), "x");
  check_all_layouts("conv_depthwise", {"x", "weight"}, conv(2, 1, 1, 4), "x");
  check_all_layouts("conv_1x1", {"x", "weight", "bias"}, conv(1, 0, 1, 1), "x");
  // unbatched: x[1], given as its own fixture tensor below
  for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::strided}) {
    CAPTURE(layout_name(layout));
    const Laid x = lay_out_checked(unbatched_x(), layout);
    const Tensor w = input("conv_unbatched.weight").requires_grad_(), b = input("conv_unbatched.bias").requires_grad_();
    const Tensor out = tg::conv2d(x.input, w, b, 2, 1);
    check_fixture_close(fixture(), out, "conv_unbatched.out");
    tg::sum(out * input("conv_unbatched.w")).backward();
    check_fixture_close(fixture(), x.grad(), "conv_unbatched.grad_x");
    check_fixture_close(fixture(), w.grad(), "conv_unbatched.grad_weight");
    check_fixture_close(fixture(), b.grad(), "conv_unbatched.grad_bias");
  }
  SUBCASE("a transposed weight gives the same") {
    const Laid w = lay_out_checked(input("conv_plain.weight"), Layout::transposed);
    const Tensor out = tg::conv2d(input("x"), w.input, input("conv_plain.bias"));
    check_fixture_close(fixture(), out, "conv_plain.out");
    tg::sum(out * input("conv_plain.w")).backward();
    check_fixture_close(fixture(), w.grad(), "conv_plain.grad_weight");
  }
}

TEST_CASE("max_pool2d, avg_pool2d and adaptive_avg_pool2d equal PyTorch's; any layout") {
  using Op = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<std::string, Op>> cases = {
      {"max_k3_s2_p1", [](const Tensor& t) { return tg::max_pool2d(t, 3, 2, 1); }},
      {"max_k2", [](const Tensor& t) { return tg::max_pool2d(t, 2); }},
      {"max_rect_dilated", [](const Tensor& t) { return tg::max_pool2d(t, {3, 2}, tg::Size2{2, 1}, {1, 1}, {1, 2}); }},
      {"max_ceil", [](const Tensor& t) { return tg::max_pool2d(t, 3, 2, 0, 1, true); }},
      {"max_unbatched", [](const Tensor& t) { return tg::max_pool2d(tg::select(t, 0, 0), 2, 1); }},
      {"avg_k3_s2_p1", [](const Tensor& t) { return tg::avg_pool2d(t, 3, 2, 1); }},
      {"avg_exclude_pad", [](const Tensor& t) { return tg::avg_pool2d(t, 3, 2, 1, false, false); }},
      {"avg_ceil", [](const Tensor& t) { return tg::avg_pool2d(t, 2, 2, 0, true); }},
      {"avg_ceil_pad", [](const Tensor& t) { return tg::avg_pool2d(t, 3, 2, 1, true); }},
      {"avg_rect", [](const Tensor& t) { return tg::avg_pool2d(t, {3, 2}, tg::Size2{2, 1}, {1, 1}); }},
      {"adaptive_3x5", [](const Tensor& t) { return tg::adaptive_avg_pool2d(t, {3, 5}); }},
      {"adaptive_unbatched_4x3", [](const Tensor& t) { return tg::adaptive_avg_pool2d(tg::select(t, 0, 1), {4, 3}); }},
      {"adaptive_1x1", [](const Tensor& t) { return tg::adaptive_avg_pool2d(t, 1); }},
  };
  for (const auto& [name, op] : cases)
    check_all_layouts(name, {"image"}, [op = op](const std::vector<Tensor>& t) { return op(t[0]); }, "image");
}

TEST_CASE("batch_norm equals PyTorch's in training (with the running statistics it leaves) and eval; any layout") {
  for (const std::string shape : {"bn4d", "bn3d", "bn2d"}) {
    for (const bool training : {true, false}) {
      const std::string name = shape + (training ? "_train" : "_eval");
      for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::strided}) {
        const Tensor rm = input(shape + ".running_mean"), rv = input(shape + ".running_var");
        check_case(name, {"x", "weight", "bias"},
                   [&](const std::vector<Tensor>& t) {
                     return tg::batch_norm(t[0], rm, rv, t[1], t[2], training, 0.2, 1e-3);
                   },
                   layout, shape + ".x");
        check_fixture_close(fixture(), rm, name + ".running_mean_after");
        check_fixture_close(fixture(), rv, name + ".running_var_after");
      }
    }
    check_all_layouts(shape + "_bare", {"x"},
                      [](const std::vector<Tensor>& t) { return tg::batch_norm(t[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
                      shape + ".x");
  }
}

TEST_CASE("the image ops pass float64 gradchecks") {
  tg::Generator gen(5);
  const tg::TensorOptions f64{.dtype = DType::f64, .requires_grad = true};
  const Tensor x = tg::randn({2, 4, 5, 6}, f64, gen);
  const Tensor w = tg::randn({6, 2, 3, 2}, f64, gen), b = tg::randn({6}, f64, gen);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::conv2d(in[0], in[1], in[2], {2, 1}, 1, {1, 2}, 2); },
                  {x, w, b});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::conv2d(in[0], in[1]); },
                  {x, tg::randn({3, 4, 1, 1}, f64, gen)});
  // distinct values, so that no max pool window has a tie for finite differences to cross
  const Tensor distinct = tg::reshape(tg::arange(0, 2 * 3 * 5 * 6, 1, {.dtype = DType::f64}), {2, 3, 5, 6});
  const Tensor shuffled = tg::permute(distinct * 0.37 + tg::sin(distinct * 7.1) * 0.05, {0, 1, 3, 2}).contiguous();
  const Tensor xp = tg::reshape(shuffled, {2, 3, 5, 6}).clone().requires_grad_();
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::max_pool2d(in[0], 3, 2, 1); }, {xp});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::max_pool2d(in[0], {2, 3}, tg::Size2{1, 2}, 0, {2, 1}, true); },
                  {xp});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::avg_pool2d(in[0], 3, 2, 1, true, false); }, {xp});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::adaptive_avg_pool2d(in[0], {3, 4}); }, {xp});
  const Tensor bw = tg::randn({4}, f64, gen), bb = tg::randn({4}, f64, gen);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); },
                  {x, bw, bb});
  const Tensor rm = tg::randn({4}, {.dtype = DType::f64}, gen), rv = tg::uniform({4}, 0.5, 1.5, {.dtype = DType::f64}, gen);
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::batch_norm(in[0], rm, rv, in[1], in[2], false); },
                  {x, bw, bb});
  const Tensor x2 = tg::randn({5, 4}, f64, gen);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::batch_norm(in[0], Tensor(), Tensor(), in[1], Tensor(), true); },
                  {x2, bw});
}

namespace {

// out and every input's gradient of Σ out ⊙ seed, as vectors, for inputs of `dtype`.
std::vector<std::vector<double>> run_net(DType dtype, const std::vector<Tensor>& values,
                                         const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  std::vector<Tensor> in;
  for (const Tensor& v : values) in.push_back(v.to(dtype).clone().requires_grad_());
  const Tensor out = op(in);
  tg::Generator gen(3);
  tg::sum(out * tg::randn(out.shape(), {.dtype = dtype}, gen)).backward();
  std::vector<std::vector<double>> result = {out.to_vector<double>()};
  for (const Tensor& t : in) result.push_back(t.grad().to_vector<double>());
  return result;
}

// A small network of every image op: conv, batch_norm (training), relu, max pool, conv (groups), avg pool, adaptive.
Tensor small_net(const std::vector<Tensor>& t) {
  Tensor h = tg::conv2d(t[0], t[1], t[2], 1, 1);
  h = tg::relu(tg::batch_norm(h, Tensor(), Tensor(), t[3], t[4], true));
  h = tg::max_pool2d(h, 2);
  h = tg::conv2d(h, t[5], Tensor(), {2, 1}, 1, 1, 2);
  h = tg::avg_pool2d(h, 2, 1, 1);
  return tg::adaptive_avg_pool2d(h, {2, 3});
}

std::vector<Tensor> small_net_values(uint64_t seed) {
  tg::Generator gen(seed);
  const tg::TensorOptions f64{.dtype = DType::f64};
  return {tg::randn({3, 2, 9, 10}, f64, gen), tg::randn({6, 2, 3, 3}, f64, gen), tg::randn({6}, f64, gen),
          tg::randn({6}, f64, gen),           tg::randn({6}, f64, gen),           tg::randn({4, 3, 3, 3}, f64, gen)};
}

}  // namespace

TEST_CASE("float32 runs give float32 results close to the float64 ones") {
  const std::vector<Tensor> values = small_net_values(8);
  std::vector<Tensor> f32_in;
  for (const Tensor& v : values) f32_in.push_back(v.to(DType::f32));
  CHECK(small_net(f32_in).dtype() == DType::f32);
  const auto f64 = run_net(DType::f64, values, small_net), f32 = run_net(DType::f32, values, small_net);
  REQUIRE(f64.size() == f32.size());
  for (size_t i = 0; i < f64.size(); ++i) {
    CAPTURE(i);
    double scale = 0;
    for (double v : f64[i]) scale = std::max(scale, std::abs(v));
    CHECK(max_abs_diff(f64[i], f32[i]) <= 1e-4 * std::max(scale, 1.0));
  }
}

TEST_CASE("the cpu bodies of im2col, col2im, pool2d and batch_norm equal the reference bodies, at 1 and 2 threads") {
  const std::vector<Tensor> values = small_net_values(9);
  auto on = [&](tg::Backend& backend) {
    tg::HostBackendScope scope(backend);
    return run_net(DType::f64, values, small_net);
  };
  const auto reference = on(tg::reference_backend());
  const int threads = tg::num_threads();
  for (int n : {1, 2}) {
    CAPTURE(n);
    tg::set_num_threads(n);
    const auto cpu = on(tg::cpu_backend());
    REQUIRE(cpu.size() == reference.size());
    for (size_t i = 0; i < cpu.size(); ++i) CHECK(max_abs_diff(cpu[i], reference[i]) <= 1e-12 * (1 + max_abs(tg::from_vector(reference[i], {static_cast<int64_t>(reference[i].size())}, {DType::f64}))));
  }
  tg::set_num_threads(threads);
}

TEST_CASE("the image ops' errors name what was expected and what was got") {
  const Tensor x = tg::zeros({2, 3, 8, 8}), w = tg::zeros({8, 4, 3, 3});
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w), "conv2d: x has 3 channels, weight expects 4 (weight (8, 4, 3, 3), groups 1)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(tg::zeros({3, 8}), tg::zeros({8, 3, 3, 3})),
                       "conv2d: x must be (B, C_in, H, W) or (C_in, H, W), got (3, 8)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({8, 3, 3})),
                       "conv2d: weight must be (C_out, C_in / groups, KH, KW), got (8, 3, 3)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(tg::zeros({2, 3, 4, 4}), tg::zeros({8, 3, 5, 3}), Tensor(), 1, {0, 1}),
                       "conv2d: x (2, 3, 4, 4) padded by (0, 1) is 4x6, smaller than the kernel's reach 5x3 "
                       "(weight (8, 3, 5, 3), dilation (1, 1))",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(tg::zeros({2, 6, 8, 8}), tg::zeros({8, 3, 3, 3}), Tensor(), 1, 0, 1, 4),
                       "conv2d: groups=4 must divide C_in=6 (x (2, 6, 8, 8))", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(tg::zeros({2, 6, 8, 8}), tg::zeros({9, 2, 3, 3}), Tensor(), 1, 0, 1, 2),
                       "conv2d: groups=2 must divide C_out=9 (weight (9, 2, 3, 3))", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({8, 3, 3, 3}, {DType::f64})),
                       "conv2d: x is float32 but weight is float64 (convert with .to(dtype))", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({8, 3, 3, 3}), tg::zeros({4})),
                       "conv2d: bias must be (8,) (one per output channel of weight (8, 3, 3, 3)), got (4,)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({8, 3, 3, 3}), Tensor(), 0),
                       "conv2d: stride, dilation and groups must be >= 1 and padding >= 0, got stride=(0, 0) "
                       "padding=(0, 0) dilation=(1, 1) groups=1",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x, 3, 1, 2),
                       "max_pool2d: padding must be at most half the kernel size; along H got padding 2 for "
                       "kernel_size 3",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(tg::zeros({8, 8}), 2), "max_pool2d: x must be (B, C, H, W) or (C, H, W), got (8, 8)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::avg_pool2d(tg::zeros({1, 1, 2, 8}), 3),
                       "avg_pool2d: along H the input of 2 padded by 0 is smaller than the kernel's reach 3 "
                       "(kernel_size 3, dilation 1)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::adaptive_avg_pool2d(x, {0, 2}), "adaptive_avg_pool2d: output_size must be >= 1, got (0, 2)",
                       tg::Error);
  const Tensor c3 = tg::zeros({3}), c4 = tg::ones({4});
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, c3, c4, Tensor(), Tensor(), false),
                       "batch_norm: running_var must be (3,), one per channel of x (2, 3, 8, 8), got (4,)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                       "batch_norm: evaluation (training=false) normalises with running_mean and running_var; both "
                       "must be given",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::batch_norm(tg::zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       "batch_norm: training needs more than one value per channel, got x (1, 3)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, Tensor(), Tensor(), tg::zeros({3}, {DType::f64}), Tensor(), true),
                       "batch_norm: weight is float64 but x is float32 (convert with .to(dtype))", tg::Error);
  tg::nn::BatchNorm2d bn(3);
  CHECK_THROWS_WITH_AS(bn(tg::zeros({2, 3})), "BatchNorm2d: x must be (N, C, H, W), got (2, 3)", tg::Error);
  CHECK_THROWS_WITH_AS(bn(tg::zeros({2, 4, 5, 5})),
                       "BatchNorm2d: x (2, 4, 5, 5) has 4 channels (dim 1), the module was built for 3", tg::Error);
}

TEST_CASE("the modules equal the functional forms; Conv2d's init is PyTorch's; BatchNorm keeps its running statistics") {
  tg::Generator gen(17);
  const Tensor x = input("x");
  SUBCASE("Conv2d") {
    tg::nn::Conv2d conv(4, 6, {3, 2}, {.stride = {2, 1}, .padding = 1, .groups = 2, .dtype = DType::f64}, gen);
    CHECK(conv.weight.shape() == Shape{6, 2, 3, 2});
    const double bound = 1 / std::sqrt(2.0 * 3 * 2);
    CHECK(max_abs(conv.weight) <= bound);
    CHECK(max_abs(conv.bias) <= bound);
    CHECK(max_abs(conv.weight) > 0.8 * bound);
    check_same(conv(x), tg::conv2d(x, conv.weight, conv.bias, {2, 1}, 1, 1, 2));
    std::vector<std::string> names;
    for (const auto& [name, p] : conv.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"weight", "bias"});
    tg::nn::Conv2d no_bias(4, 2, 1, {.bias = false});
    CHECK_FALSE(no_bias.bias.defined());
    CHECK(no_bias.parameter_count() == 8);
  }
  SUBCASE("the pools and Flatten") {
    const Tensor image = input("image");
    check_same(tg::nn::MaxPool2d(3, {.stride = 2, .padding = 1})(image), tg::max_pool2d(image, 3, 2, 1));
    check_same(tg::nn::AvgPool2d(3, {.stride = 2, .padding = 1, .count_include_pad = false})(image),
               tg::avg_pool2d(image, 3, 2, 1, false, false));
    check_same(tg::nn::AdaptiveAvgPool2d({3, 5})(image), tg::adaptive_avg_pool2d(image, {3, 5}));
    CHECK(tg::nn::Flatten()(image).shape() == Shape{2, 3 * 7 * 8});
    CHECK(tg::nn::Flatten(0, 2)(image).shape() == Shape{2 * 3 * 7, 8});
  }
  SUBCASE("BatchNorm2d and BatchNorm1d: training, eval, state_dict, checkpoints") {
    for (const std::string shape : {"bn4d", "bn3d", "bn2d"}) {
      CAPTURE(shape);
      std::unique_ptr<tg::nn::BatchNorm> bn;
      if (shape == "bn4d")
        bn = std::make_unique<tg::nn::BatchNorm2d>(3, tg::nn::BatchNormOptions{.eps = 1e-3, .momentum = 0.2, .dtype = DType::f64});
      else
        bn = std::make_unique<tg::nn::BatchNorm1d>(3, tg::nn::BatchNormOptions{.eps = 1e-3, .momentum = 0.2, .dtype = DType::f64});
      std::vector<std::string> names;
      for (const auto& [name, t] : bn->state_dict()) names.push_back(name);
      CHECK(names == std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
      auto load = [&] {
        for (const char* what : {"weight", "bias", "running_mean", "running_var"}) {
          const Tensor& target = std::string(what) == "weight" ? bn->weight : std::string(what) == "bias" ? bn->bias
                                 : std::string(what) == "running_mean"                              ? bn->running_mean
                                                                                                    : bn->running_var;
          tg::compute::copy_into(input(shape + "." + what), target);
        }
      };
      load();
      const Tensor bx = input(shape + ".x");
      check_fixture_close(fixture(), (*bn)(bx), shape + "_train.out");
      check_fixture_close(fixture(), bn->running_mean, shape + "_train.running_mean_after");
      check_fixture_close(fixture(), bn->running_var, shape + "_train.running_var_after");
      CHECK(bn->num_batches_tracked.item() == 1);
      load();
      bn->eval();
      check_fixture_close(fixture(), (*bn)(bx), shape + "_eval.out");
      check_fixture_close(fixture(), bn->running_mean, shape + ".running_mean");  // eval leaves them
      CHECK(bn->num_batches_tracked.item() == 1);
    }
    // The running statistics go through a checkpoint.
    tg::nn::BatchNorm2d a(3), b(3);
    a(tg::randn({4, 3, 2, 2}, {}, gen) * 3.0 + 1.0);
    const std::string path = (std::filesystem::temp_directory_path() / "tapegrad_test_conv_bn.safetensors").string();
    tg::nn::save(a, path);
    tg::nn::load(b, path);
    std::filesystem::remove(path);
    check_same(b.running_mean, a.running_mean);
    check_same(b.running_var, a.running_var);
    CHECK(b.num_batches_tracked.item() == 1);
    CHECK(max_abs(b.running_mean) > 0);
    // Without running statistics: no buffers, the batch's statistics in eval too.
    tg::nn::BatchNorm2d bare(3, {.affine = false, .track_running_stats = false, .dtype = DType::f64});
    bare.eval();
    CHECK(bare.state_dict().empty());
    check_fixture_close(fixture(), bare(input("bn4d.x")), "bn4d_bare.out");
  }
}

TEST_CASE("conv2d and the pools: the cpu bodies equal the reference bodies over many geometries") {
  // Kernel, stride, padding and dilation along each axis, against sizes from 1 up: every edge of the
  // cpu bodies' inside/outside arithmetic (windows starting in the padding, ending past it, strides
  // that skip the last columns).
  tg::Generator gen(21);
  const tg::TensorOptions f64{.dtype = DType::f64, .requires_grad = true};
  int cases = 0;
  for (int64_t H : {1, 4, 7})
    for (int64_t W : {2, 5, 9})
      for (int64_t k : {1, 2, 3})
        for (int64_t s : {1, 2, 3})
          for (int64_t p : {0, 1})
            for (int64_t d : {1, 2}) {
              const int64_t reach = d * (k - 1) + 1;
              const Tensor x = tg::randn({2, 3, H, W}, f64, gen);
              std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> ops;
              if (H + 2 * p >= reach && W + 2 * p >= reach) {
                const Tensor w = tg::randn({4, 3, k, k}, f64, gen);
                ops.emplace_back("conv2d", [w, s, p, d](const Tensor& t) { return tg::conv2d(t, w, Tensor(), s, p, d); });
              }
              if (H + 2 * p >= k && W >= reach) {  // stride (s, 1), padding (p, 0), dilation (1, d), groups 3
                const Tensor w = tg::randn({3, 1, k, k}, f64, gen);
                ops.emplace_back("conv2d_rect", [w, s, p, d](const Tensor& t) {
                  return tg::conv2d(t, w, Tensor(), {s, 1}, {p, 0}, {1, d}, 3);
                });
              }
              if (p <= k / 2 && H + 2 * p >= reach && W + 2 * p >= reach) {
                for (bool ceil : {false, true}) {
                  ops.emplace_back("max_pool2d", [=](const Tensor& t) { return tg::max_pool2d(t, k, s, p, d, ceil); });
                  if (H + 2 * p >= k && W + 2 * p >= k)
                    ops.emplace_back("avg_pool2d", [=](const Tensor& t) { return tg::avg_pool2d(t, k, s, p, ceil, ceil); });
                }
              }
              ops.emplace_back("adaptive_avg_pool2d", [=](const Tensor& t) { return tg::adaptive_avg_pool2d(t, {k + s, 1 + d}); });
              for (const auto& named_op : ops) {
                const std::string& name = named_op.first;
                const auto& op = named_op.second;
                CAPTURE(name);
                const std::string geometry = fmt::format("H={} W={} k={} s={} p={} d={}", H, W, k, s, p, d);
                CAPTURE(geometry);
                std::vector<std::vector<double>> got;
                for (tg::Backend* backend : {&tg::reference_backend(), &tg::cpu_backend()}) {
                  tg::HostBackendScope scope(*backend);
                  x.set_grad(Tensor());
                  const Tensor y = op(x);
                  tg::sum(y * tg::sin(tg::arange(0, y.numel(), 1, {.dtype = DType::f64}).reshape(y.shape()))).backward();
                  got.push_back(y.to_vector<double>());
                  got.push_back(x.grad().to_vector<double>());
                }
                CHECK(max_abs_diff(got[0], got[2]) <= 1e-12);
                CHECK(max_abs_diff(got[1], got[3]) <= 1e-12);
                ++cases;
              }
            }
  CHECK(cases > 300);
  // Ties (integer values, many equal): every body sends the gradient to the first maximum, as PyTorch.
  {
    std::vector<double> values(2 * 3 * 8 * 10);
    for (double& v : values) v = static_cast<double>(gen.below(3)) - 1;  // -1, 0 or 1
    const Tensor ties = tg::from_vector(values, {2, 3, 8, 10}, {DType::f64});
    std::vector<std::vector<double>> got;
    for (tg::Backend* backend : {&tg::reference_backend(), &tg::cpu_backend()}) {
      tg::HostBackendScope scope(*backend);
      const Tensor x = ties.clone().requires_grad_();
      const Tensor y = tg::max_pool2d(x, 2);
      tg::sum(y * tg::arange(1, y.numel() + 1, 1, {.dtype = DType::f64}).reshape(y.shape())).backward();
      got.push_back(y.to_vector<double>());
      got.push_back(x.grad().to_vector<double>());
    }
    CHECK(got[0] == got[2]);
    CHECK(got[1] == got[3]);
    // the first maximum of the first window, (0, 0)..(1, 1), row-major, holds the gradient 1
    const std::vector<double> v = ties.to_vector<double>();
    const double m = std::max({v[0], v[1], v[10], v[11]});
    const int64_t first = v[0] == m ? 0 : v[1] == m ? 1 : v[10] == m ? 10 : 11;
    CHECK(got[3][static_cast<size_t>(first)] == 1);
  }
  // A window that dilation steps wholly over the input (PyTorch: −∞, and indices outside the input): −∞, no gradient.
  for (tg::Backend* backend : {&tg::reference_backend(), &tg::cpu_backend()}) {
    tg::HostBackendScope scope(*backend);
    const Tensor x = tg::randn({1, 1, 1, 2}, f64, gen);
    const Tensor y = tg::max_pool2d(x, 2, 1, 1, 2);
    CHECK(y.to_vector<double>() == std::vector<double>(2, -std::numeric_limits<double>::infinity()));
    tg::sum(y * 0.0).backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 0});
  }
}
