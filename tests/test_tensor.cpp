// Tensor creation, views, element access, dtype/device checks and printing.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

#include "backends/reference/reference_backend.h"
#include "tapegrad.h"

using namespace tg;

TEST_CASE("creation fills and reports shape and dtype") {
  const Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == DType::f32);
  CHECK(z.numel() == 6);
  CHECK(z.is_contiguous());
  CHECK(z.strides() == Strides{3, 1});
  for (int64_t i = 0; i < 6; ++i) CHECK(z.at_flat(i) == 0.0);

  const Tensor f = full({4}, 2.5, {DType::f64});
  CHECK(f.dtype() == DType::f64);
  CHECK(f.at({3}) == 2.5);
  CHECK(ones({2, 2}).at({1, 1}) == 1.0);

  const Tensor r = arange(5);
  CHECK(r.to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4});
  const Tensor stepped = arange(1.0, 2.0, 0.25, {DType::f64});
  CHECK(stepped.to_vector<double>() == std::vector<double>{1.0, 1.25, 1.5, 1.75});

  const Tensor t = tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  CHECK(t.at({1, 0}) == 4.0);
  CHECK(t.at({-1, -1}) == 6.0);
  CHECK(scalar(3.0).ndim() == 0);
  CHECK(scalar(3.0).item() == 3.0);
}

TEST_CASE("the default float type: float32, as PyTorch's, settable to float64") {
  CHECK(default_dtype() == DType::f32);
  CHECK(tensor({0.5, 1.5}).dtype() == DType::f32);  // torch.tensor([0.5, 1.5]) is float32
  CHECK(tensor({0.5, 1.5}, {2}, {.dtype = DType::f64}).dtype() == DType::f64);
  CHECK(tensor(std::vector<double>{0.5}).dtype() == DType::f64);  // a vector keeps its C++ type
  CHECK((tensor({1, 2}) / 2).dtype() == DType::f32);
  set_default_dtype(DType::f64);
  CHECK(tensor({0.5, 1.5}).dtype() == DType::f64);
  CHECK(zeros({2}).dtype() == DType::f64);
  CHECK(arange(0.0, 1.0, 0.5).dtype() == DType::f64);
  CHECK((tensor({1, 2}) * 0.5).dtype() == DType::f64);
  CHECK(tensor({1, 2}).dtype() == DType::i64);  // integers stay int64
  CHECK_THROWS_WITH_AS(set_default_dtype(DType::i64), doctest::Contains("must be float32 or float64, got int64"),
                       Error);
  set_default_dtype(DType::f32);
  CHECK(zeros({2}).dtype() == DType::f32);
}

TEST_CASE("random tensors are reproducible from a seed and have the right moments") {
  Generator a(42), b(42), c(43);
  const Tensor x = randn({10000}, {}, a), y = randn({10000}, {}, b), z = randn({10000}, {}, c);
  CHECK(x.to_vector<float>() == y.to_vector<float>());
  CHECK(x.to_vector<float>() != z.to_vector<float>());
  double sum = 0, sum_sq = 0;
  for (float v : x.to_vector<float>()) sum += v, sum_sq += double(v) * v;
  const double mean = sum / 10000, var = sum_sq / 10000 - mean * mean;
  CHECK(std::abs(mean) < 0.05);  // standard error 0.01
  CHECK(std::abs(var - 1.0) < 0.05);

  const Tensor u = uniform({10000}, -2, 3, {DType::f64}, a);
  double lo = 1e9, hi = -1e9, usum = 0;
  for (double v : u.to_vector<double>()) lo = std::min(lo, v), hi = std::max(hi, v), usum += v;
  CHECK(lo >= -2.0);
  CHECK(hi < 3.0);
  CHECK(std::abs(usum / 10000 - 0.5) < 0.05);  // mean of U(-2, 3) is 0.5
}

// After manual_seed(seed), eight normals drawn on a thread started for them.
std::vector<double> drawn_on_new_thread(uint64_t seed) {
  manual_seed(seed);
  std::vector<double> values;
  std::thread([&] { values = randn({8}, {DType::f64}).to_vector<double>(); }).join();
  return values;
}

TEST_CASE("manual_seed reaches every thread: one default generator for the process") {
  manual_seed(7);
  const std::vector<double> on_main = randn({8}, {DType::f64}).to_vector<double>();
  // A new thread used to start its own generator from a fixed seed, whatever manual_seed said.
  CHECK(drawn_on_new_thread(7) == on_main);
  CHECK(drawn_on_new_thread(7) == drawn_on_new_thread(7));  // the same seed twice, the same values twice
  CHECK(drawn_on_new_thread(8) != drawn_on_new_thread(7));
  const std::vector<double> on_thread = drawn_on_new_thread(8);  // before the next draw: == evaluates in any order
  manual_seed(8);
  CHECK(on_thread == randn({8}, {DType::f64}).to_vector<double>());

  // Draws on another thread continue the one stream where the main thread left it.
  manual_seed(7);
  std::vector<double> in_turn = randn({4}, {DType::f64}).to_vector<double>();
  std::thread([&] {
    for (double v : randn({4}, {DType::f64}).to_vector<double>()) in_turn.push_back(v);
  }).join();
  CHECK(in_turn == on_main);
}

TEST_CASE("threads filling tensors from the default generator at once share one stream, unbroken") {
  // Each uniform(0, 1) value is one 64-bit draw, so the fills, taken together,
  // must be the seeded stream's first threads * fills * size values, each
  // exactly once, and each fill one contiguous run of it (a fill holds the lock).
  const int threads = 8, fills = 50, size = 64;
  manual_seed(11);
  std::vector<std::vector<double>> drawn(threads * fills);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int f = 0; f < fills; ++f)
        drawn[t * fills + f] = uniform({size}, 0, 1, {DType::f64}).to_vector<double>();
    });
  for (std::thread& w : workers) w.join();

  Generator stream(11);
  std::map<double, int64_t> place;  // value -> its index in the stream
  for (int64_t i = 0; i < int64_t{threads} * fills * size; ++i) place[stream.uniform()] = i;
  REQUIRE(place.size() == size_t{threads} * fills * size);  // 53-bit values: a repeat would be a 1e-8 event

  auto index_of = [&](double v) {
    const auto it = place.find(v);
    return it == place.end() ? int64_t{-1} : it->second;
  };
  std::vector<int64_t> starts;
  for (const std::vector<double>& fill : drawn) {
    const int64_t start = index_of(fill[0]);
    REQUIRE(start >= 0);
    for (int i = 1; i < size; ++i) REQUIRE(index_of(fill[i]) == start + i);
    starts.push_back(start);
  }
  std::sort(starts.begin(), starts.end());
  for (size_t k = 0; k < starts.size(); ++k) CHECK(starts[k] == int64_t(k) * size);  // no run drawn twice, none lost
}

TEST_CASE("views share storage: reshape, transpose, slice through strides") {
  const Tensor t = tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  const Tensor tt = transpose(t, 0, 1);
  CHECK(tt.shape() == Shape{3, 2});
  CHECK_FALSE(tt.is_contiguous());
  CHECK(tt.at({2, 1}) == 6.0);
  CHECK(tt.at({0, 1}) == 4.0);
  // Writing through the source is visible in the view: no copy was made.
  t.data<float>()[1] = 20.f;
  CHECK(tt.at({1, 0}) == 20.0);
  const Tensor c = tt.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.to_vector<float>() == std::vector<float>{1, 4, 20, 5, 3, 6});
  const Tensor r = reshape(t, {3, 2});
  CHECK(r.data<float>() == t.data<float>());
}

TEST_CASE("dtype and device conversion") {
  const Tensor t = tensor({1.5f, -2.f});
  const Tensor d = t.to(DType::f64);
  CHECK(d.dtype() == DType::f64);
  CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.0});
  const Tensor i = t.to(DType::i64);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{1, -2});
  CHECK(t.to(Device::cpu()).is_same(t));
  CHECK_THROWS_WITH_AS(t.to(Device::cuda()), doctest::Contains("cuda:0"), Error);
}

TEST_CASE("float16 and bfloat16 tensors: casts round to nearest even, print, and pass gradients back") {
  const Tensor t = tensor({1.0f + 0x1p-11f, 65520.f, 0.1f});
  const Tensor h = t.to(DType::f16), b = t.to(DType::bf16);
  CHECK(h.dtype() == DType::f16);
  CHECK(h.to_vector<double>() == std::vector<double>{1.0, INFINITY, 0.0999755859375});
  CHECK(b.to_vector<double>() == std::vector<double>{1.0, 65536.0, 0.10009765625});
  CHECK(h.at({2}) == 0.0999755859375);
  CHECK(h.to_vector<float16>()[0].bits == 0x3c00);
  CHECK(b.to_vector<bfloat16>()[2].bits == 0x3dcd);
  CHECK(fmt::format("{}", tensor({1.5f, -2.f}).to(DType::bf16)) == "tensor([1.5000, -2.0000], shape=(2,), dtype=bfloat16)");
  CHECK(fmt::format("{}", full({2}, 3.0, {DType::f16})) == "tensor([3.0000, 3.0000], shape=(2,), dtype=float16)");
  // The cast is recorded: the gradient comes back rounded to 16 bits, then as float32.
  const Tensor x = tensor({0.1f, 3.f}, {2}, true);
  const Tensor y = x.to(DType::bf16).to(DType::f32);
  sum(mul(y, y)).backward();
  CHECK(x.grad().dtype() == DType::f32);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0.2001953125, 6.0});  // 2 · bf16(0.1), exact in bf16
  // They store; arithmetic asks for float32 or float64, naming the op the user called and the cause.
  CHECK_THROWS_WITH_AS(add(h, h),
                       doctest::Contains("add: float16 tensors are for storage and matrix products; this op computes in "
                                         "float32 or float64: convert with .to(DType::f32) first"),
                       Error);
  CHECK_THROWS_WITH_AS(mul(Tensor(b), Tensor(b)), doctest::Contains("mul: bfloat16 tensors are for storage"), Error);
  CHECK_THROWS_WITH_AS(mean(h), doctest::Contains("mean: float16 tensors are for storage"), Error);
  CHECK_THROWS_WITH_AS(sum(h), doctest::Contains("sum: float16 tensors are for storage"), Error);
  CHECK_THROWS_WITH_AS(Tensor(b).requires_grad_(), doctest::Contains("got bfloat16"), Error);
}

TEST_CASE("element access and data checks give clear errors") {
  const Tensor t = zeros({2, 3});
  CHECK_THROWS_WITH_AS(t.at({2, 0}), doctest::Contains("index 2 is out of range for dimension 0 of size 2"), Error);
  CHECK_THROWS_WITH_AS(t.at({0}), doctest::Contains("1 indices for a tensor of rank 2"), Error);
  CHECK_THROWS_WITH_AS(t.item(), doctest::Contains("has 6 elements, expected 1"), Error);
  CHECK_THROWS_WITH_AS(t.data<double>(), doctest::Contains("holds float32, asked for float64"), Error);
  CHECK_THROWS_WITH_AS(Tensor().shape(), doctest::Contains("undefined tensor"), Error);
  CHECK_THROWS_WITH_AS(tensor({1.f, 2.f, 3.f}, {2, 2}), doctest::Contains("3 values do not fill shape (2, 2)"), Error);
  CHECK_THROWS_WITH_AS(index_tensor({1, 2}).requires_grad_(), doctest::Contains("only floating tensors"), Error);
}

TEST_CASE("sizes whose product overflows are an error, not a wrapped count") {
  // 2^32 · 2^32 = 2^64 wrapped to 0: zeros() made an empty tensor and sum() then crashed.
  const int64_t big = int64_t{1} << 32;
  CHECK_THROWS_WITH_AS(zeros({big, big}),
                       doctest::Contains("shape (4294967296, 4294967296): the number of elements overflows int64"),
                       Error);
  CHECK_THROWS_WITH_AS(Shape({big, big, 2}).numel(), doctest::Contains("overflows int64"), Error);
  // elements fit in int64 but their bytes do not fit in size_t
  CHECK_THROWS_WITH_AS(zeros({int64_t{1} << 31, int64_t{1} << 31}, {DType::f64}),
                       doctest::Contains("needs more bytes than a size_t holds"), Error);
  // far more than any machine: a clear error from the allocator, not a crash
  CHECK_THROWS_WITH_AS(zeros({int64_t{1} << 31, int64_t{1} << 30}), doctest::Contains("out of host memory"), Error);
  // a zero dimension makes any product 0
  CHECK(Shape({0, big, big}).numel() == 0);
  CHECK(zeros({0, big, big}).numel() == 0);
  CHECK(sum(zeros({0, big}), {1}).shape() == Shape{0});
}

TEST_CASE("mixing dtypes promotes as PyTorch does (ops/result_type.h); devices still must match") {
  const Tensor a = zeros({2}), b = zeros({2}, {DType::f64});
  CHECK((a + b).dtype() == DType::f64);
  CHECK_THROWS_WITH_AS(check_same_kind(a, b, "op"), doctest::Contains("dtypes differ: float32 and float64"), Error);
}

TEST_CASE("printing shows values, shape and dtype, eliding long dimensions") {
  const Tensor t = tensor({1.f, 2.f, 3.f, 4.f}, {2, 2});
  CHECK(fmt::format("{}", t) == "tensor([[1.0000, 2.0000], [3.0000, 4.0000]], shape=(2, 2), dtype=float32)");
  const std::string long_text = fmt::format("{}", arange(2000, {DType::i64}));
  CHECK(long_text == "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=(2000,), dtype=int64)");
  CHECK(fmt::format("{}", scalar(2.0)) == "tensor(2.0000, shape=(), dtype=float32)");
  CHECK(fmt::format("{}", tensor({1.f}, {}, true)).find("requires_grad") != std::string::npos);
  // Up to 1000 elements nothing is hidden: a (1, 8) row shows its 8 values.
  CHECK(fmt::format("{}", reshape(arange(8, {DType::i64}), Shape{1, 8})) ==
        "tensor([[0, 1, 2, 3, 4, 5, 6, 7]], shape=(1, 8), dtype=int64)");
  // Values that 4 decimals would lose switch to scientific notation, as in PyTorch.
  CHECK(format_values(tensor({1e-7f, 1.f})) == "[1.0000e-07, 1.0000e+00]");
  CHECK(format_values(tensor({0.5f, 0.25f})) == "[0.5000, 0.2500]");
  CHECK(format_values(tensor({0.f, -2.f})) == "[0.0000, -2.0000]");
  CHECK(format_values(tensor({1.f, NAN, INFINITY})) == "[1.0000, nan, inf]");
  // std::cout << t, and print options for the whole program.
  std::ostringstream out;
  out << tensor({1.5f}, {1});
  CHECK(out.str() == "tensor([1.5000], shape=(1,), dtype=float32)");
  const PrintOptions saved = print_options();
  set_print_options({.precision = 8});
  CHECK(format_values(tensor({1.f / 3}, {1}).to(DType::f64)) == "[0.33333334]");  // the float32 value, 8 decimals
  set_print_options({.threshold = 4, .edge_items = 1});
  CHECK(format_values(arange(6, {DType::i64})) == "[0, ..., 5]");
  set_print_options(saved);
  CHECK_THROWS_WITH_AS(set_print_options({.precision = -1}), doctest::Contains("precision must be in 0..17, got -1"),
                       Error);
}

TEST_CASE("host memory is recycled by the caching allocator") {
  const size_t before = host_memory_stats().in_use_bytes;
  { const Tensor big = zeros({1 << 16}); CHECK(host_memory_stats().in_use_bytes >= before + (1 << 18)); }
  CHECK(host_memory_stats().in_use_bytes == before);
  const void* first;
  { const Tensor a = zeros({12345}); first = a.data<float>(); }
  { const Tensor b = zeros({12345}); CHECK(b.data<float>() == first); }
}

TEST_CASE("backend selection by name, with a clear error for unknown names") {
  CHECK(host_backend().name() == "cpu");
  set_host_backend("reference");
  CHECK(host_backend().name() == "reference");
  set_host_backend("cpu");
  CHECK_THROWS_WITH_AS(set_host_backend("tpu"), doctest::Contains("unknown backend 'tpu'"), Error);
  {
    HostBackendScope scope(reference_backend());
    CHECK(host_backend().name() == "reference");
  }
  CHECK(host_backend().name() == "cpu");
}
