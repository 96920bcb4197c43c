#pragma once
// What several test programs share: reading tensor fixtures written by the
// scripts in tests/fixtures/, and finding the Multi30k data.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "data/text/multi30k_dir.h"
#include "tapegrad_kernels.h"

namespace test_support {

// A fixture file: per tensor, a line "<name> <rank> <sizes...>" then a line
// of its row-major values.
struct FixtureTensor {
  tg::Shape shape;
  std::vector<double> values;
};
using Fixture = std::map<std::string, FixtureTensor>;

inline Fixture load_fixture(const std::string& file) {
  const std::string path = std::string(TAPEGRAD_SOURCE_DIR) + "/tests/fixtures/" + file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  Fixture fixture;
  std::string header, values;
  while (std::getline(in, header) && std::getline(in, values)) {
    std::istringstream h(header), v(values);
    std::string name;
    int rank = 0;
    h >> name >> rank;
    std::vector<int64_t> sizes(rank);
    for (int64_t& s : sizes) h >> s;
    FixtureTensor t{tg::Shape(sizes), {}};
    for (std::string word; v >> word;) t.values.push_back(std::stod(word));  // stod reads "inf" and "nan" too
    REQUIRE_MESSAGE(static_cast<int64_t>(t.values.size()) == t.shape.numel(), name << " in " << file);
    fixture[name] = std::move(t);
  }
  REQUIRE_MESSAGE(!fixture.empty(), path << " holds no tensors");
  return fixture;
}

inline const FixtureTensor& entry(const Fixture& fixture, const std::string& name) {
  const auto it = fixture.find(name);
  REQUIRE_MESSAGE(it != fixture.end(), "fixture has no tensor " << name);
  return it->second;
}

inline tg::Tensor fixture_tensor(const Fixture& fixture, const std::string& name, tg::DType dtype,
                                 bool requires_grad = false) {
  const FixtureTensor& t = entry(fixture, name);
  return tg::from_vector(t.values, t.shape, {dtype, tg::Device::cpu(), requires_grad});
}

// An op against a PyTorch fixture's "<name>.out" and the gradient of Σ out ⊙ "<name>.w"
// with respect to its input "<first>" ("<name>.grad"), in float64 to 1e-12.
// got against the fixture's tensor `name`: the same shape, every value to `epsilon` (relative, scale 1).
inline void check_fixture_close(const Fixture& fixture, const tg::Tensor& got, const std::string& name,
                                double epsilon = 1e-12) {
  CAPTURE(name);
  const FixtureTensor& want = entry(fixture, name);
  REQUIRE(got.shape() == want.shape);
  const std::vector<double> g = got.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(want.values[i]).epsilon(epsilon).scale(1.0));
}

inline void check_fixture_case(const Fixture& fixture, const std::string& name,
                               const std::function<tg::Tensor(const tg::Tensor&)>& op, const std::string& first) {
  CAPTURE(name);
  const tg::Tensor x = fixture_tensor(fixture, first, tg::DType::f64, true);
  const tg::Tensor out = op(x);
  const FixtureTensor& want = entry(fixture, name + ".out");
  REQUIRE(out.shape() == want.shape);
  const std::vector<double> got = out.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want.values[i]).epsilon(1e-12));
  tg::sum(out * fixture_tensor(fixture, name + ".w", tg::DType::f64)).backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  const FixtureTensor& want_grad = entry(fixture, name + ".grad");
  REQUIRE(grad.size() == want_grad.values.size());
  for (size_t i = 0; i < grad.size(); ++i)
    CHECK(grad[i] == doctest::Approx(want_grad.values[i]).epsilon(1e-12).scale(1.0));
}


// The Multi30k directory as the programs find it (tg::text::find_multi30k_dir:
// $MULTI30K_DIR, else the download cache; scripts/test.sh sets $MULTI30K_DIR
// to the shared copy beside the checkout when there is one), "" after saying
// why when there is none. A program that calls it links tapegrad-text.
inline std::string multi30k_dir() {
  try {
    return tg::text::find_multi30k_dir();
  } catch (const tg::Error& e) {
    MESSAGE(std::string(e.what()));
    return "";
  }
}

// True when the data is there; otherwise says so, and data checks are skipped.
inline bool have_multi30k() {
  if (std::filesystem::exists(multi30k_dir() + "/val.de.gz")) return true;
  MESSAGE("Multi30k not found in '" << multi30k_dir() << "' (set MULTI30K_DIR): skipping its checks");
  return false;
}

// Largest |a - b| over all elements; sizes (and shapes, for two tensors) must match.
inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}
inline double max_abs_diff(const tg::Tensor& a, const std::vector<double>& b) {
  return max_abs_diff(a.to_vector<double>(), b);
}
inline double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  return max_abs_diff(a.to_vector<double>(), b.to_vector<double>());
}

// Largest |t| over all elements.
inline double max_abs(const tg::Tensor& t) {
  double m = 0;
  for (const double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// A gradcheck must pass; its message says where it did not.
inline void check_gradcheck(const tg::GradcheckResult& result) {
  INFO(result.message);
  CHECK(result.ok);
}
inline void check_gradcheck(const std::function<tg::Tensor(const std::vector<tg::Tensor>&)>& f,
                            const std::vector<tg::Tensor>& inputs) {
  check_gradcheck(tg::gradcheck(f, inputs));
}

// How a test lays an input's values out in memory; the values never change, so
// an op must give the same results in every layout:
//   contiguous;
//   transposed  stored with its dimensions reversed and viewed back (rank >= 2);
//   strided     every other element of a buffer twice as long in the last
//               dimension, the elements between holding 7 (rank >= 1, not empty).
// A tensor a layout does not apply to stays contiguous (Laid::layout says which).
enum class Layout { contiguous, transposed, strided };

inline const char* layout_name(Layout l) {
  return l == Layout::contiguous ? "contiguous" : l == Layout::transposed ? "transposed" : "strided";
}

inline std::vector<int> reversed_dims(int rank) {
  std::vector<int> dims;
  for (int d = rank - 1; d >= 0; --d) dims.push_back(d);
  return dims;
}

// The leaf a test differentiates, and the input made from it in `layout`.
struct Laid {
  tg::Tensor leaf, input;
  Layout layout = Layout::contiguous;

  // The leaf's gradient seen in the input's layout (undefined when none reached it).
  tg::Tensor grad() const {
    const tg::Tensor g = leaf.grad();
    if (!g.defined()) return g;
    if (layout == Layout::transposed) return tg::permute(g, reversed_dims(g.ndim()));
    if (layout == Layout::strided) return tg::slice(g, -1, 0, g.size(-1), 2);
    return g;
  }
};

inline Laid lay_out(const tg::Tensor& values, Layout wanted, bool requires_grad = true) {
  const int n = values.ndim();
  Laid laid;
  laid.layout = (wanted == Layout::transposed && n < 2) || (wanted == Layout::strided && (n < 1 || values.numel() == 0))
                    ? Layout::contiguous
                    : wanted;
  {
    const tg::NoGrad no_grad;
    if (laid.layout == Layout::transposed) {
      laid.leaf = tg::permute(values, reversed_dims(n)).contiguous();
    } else if (laid.layout == Layout::strided) {
      tg::Shape wide = values.shape();
      wide[static_cast<size_t>(n - 1)] *= 2;
      laid.leaf = tg::full(wide, 7.0, {values.dtype()});
      tg::slice(laid.leaf, n - 1, 0, wide[static_cast<size_t>(n - 1)], 2).copy_(values);
    } else {
      laid.leaf = values.clone();
    }
  }
  if (requires_grad) laid.leaf.requires_grad_();
  if (laid.layout == Layout::transposed) laid.input = tg::permute(laid.leaf, reversed_dims(n));
  else if (laid.layout == Layout::strided) laid.input = tg::slice(laid.leaf, n - 1, 0, laid.leaf.size(n - 1), 2);
  else laid.input = laid.leaf;
  return laid;
}

// lay_out, requiring the input to be non-contiguous wherever the layout applied.
inline Laid lay_out_checked(const tg::Tensor& values, Layout wanted) {
  Laid laid = lay_out(values, wanted);
  if (laid.layout != Layout::contiguous) REQUIRE_FALSE(laid.input.is_contiguous());
  return laid;
}

// Copies every parameter of `module` from the fixture tensor of the same name
// (PyTorch's names), converting to the parameter's dtype; returns how many.
inline int load_parameters(const tg::nn::Module& module, const Fixture& fixture) {
  int loaded = 0;
  for (const auto& [name_, p_] : module.named_parameters()) {
    const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& p = p_;
    const FixtureTensor& t = entry(fixture, name);
    REQUIRE_MESSAGE(p.shape() == t.shape, name << ": module " << p.shape().str() << ", fixture " << t.shape.str());
    tg::compute::copy_into(tg::from_vector(t.values, t.shape, {tg::DType::f64}), p);
    ++loaded;
  }
  return loaded;
}

// ---- the recurrent models' fixtures (tests/fixtures/make_{gru,lstm}_fixtures.py) ----

inline tg::Tensor fixture_lengths(const Fixture& fixture) {
  std::vector<int64_t> lengths;
  for (const double v : entry(fixture, "lengths").values) lengths.push_back(static_cast<int64_t>(v));
  return tg::index_tensor(lengths);
}

// Loads the module's parameters from a fixture that holds exactly them
// (every weight_* and bias_* tensor of the fixture is used).
inline void load_recurrent_parameters(const tg::nn::Module& module, const Fixture& fixture) {
  int in_fixture = 0;
  for (const auto& [name, t] : fixture)
    if (name.rfind("weight_", 0) == 0 || name.rfind("bias_", 0) == 0) ++in_fixture;
  CHECK(load_parameters(module, fixture) == in_fixture);
}

// `actual` has the fixture tensor's shape and lies within tol of it everywhere.
inline void check_close(const tg::Tensor& actual, const Fixture& fixture, const std::string& name, double tol) {
  INFO(name);
  REQUIRE(actual.defined());
  CHECK(actual.shape() == entry(fixture, name).shape);
  CHECK(max_abs_diff(actual, entry(fixture, name).values) < tol);
}

inline void check_same(const tg::Tensor& a, const tg::Tensor& b, double tol = 0) {
  CHECK(max_abs_diff(a, b) <= tol);
}

// Sets the padded steps t >= lengths[b] of a (T, B, ...) tensor to `value`.
inline void fill_padding(const tg::Tensor& x, const std::vector<int64_t>& lengths, double value) {
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = lengths[b]; t < x.size(0); ++t)
      tg::compute::fill(tg::select(tg::select(x, 0, t), 0, static_cast<int64_t>(b)), value);
}

inline tg::nn::RecurrentOptions two_layer_bidirectional() {
  tg::nn::RecurrentOptions options;
  options.num_layers = 2;
  options.bidirectional = true;
  return options;
}

// True in the sanitized and ThreadSanitizer runs (scripts/test.sh sets TAPEGRAD_SANITIZE): the long
// workloads then run the same code paths over fewer steps, and claims about where many steps lead are
// checked in the release run.
inline bool sanitized_run() { return std::getenv("TAPEGRAD_SANITIZE") != nullptr; }

}  // namespace test_support
