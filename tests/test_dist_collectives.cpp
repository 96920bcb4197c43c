// tg::distributed's collectives on 2 and 3 ranks (tests/meson.build starts this
// program under mpirun --oversubscribe): all-reduce sum and mean over odd
// sizes, empty tensors and tensors straddling bucket boundaries, results bit
// for bit equal on every rank; broadcast from any root; gradients; the
// fingerprint check; and the argument errors, which every rank raises before
// sending anything.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "distributed/agreement.h"
#include "distributed/all_reduce.h"
#include "distributed/broadcast.h"
#include "distributed/distributed.h"
#include "distributed/rank_device.h"
#include "tapegrad.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
namespace distributed = tg::distributed;

// Rank r's value at element i: small integers, so every sum is exact in float32.
double value_at(int rank, int64_t i) { return static_cast<double>((i * 7 + rank * 13) % 29) - 11.0; }

Tensor rank_tensor(int64_t n, DType dtype, int rank) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = value_at(rank, i);
  return tg::tensor(v, Shape{n}).to(dtype);
}

// The sum over ranks 0..world-1 of value_at, computed here without MPI.
double expected_sum(int64_t i) {
  double s = 0;
  for (int r = 0; r < distributed::world_size(); ++r) s += value_at(r, i);
  return s;
}

// Whether every rank holds exactly rank 0's bytes of `t`.
bool same_bytes_on_all_ranks(const Tensor& t) {
  const std::vector<double> mine = t.to_vector<double>();
  std::string bytes(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(double));
  const std::string root = distributed::broadcast_string(bytes, 0);
  const double differ = distributed::all_reduce_sum(root == bytes ? 0.0 : 1.0);
  return differ == 0;
}

}  // namespace

TEST_CASE("the world: ranks 0..N-1, as many as mpirun started") {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  REQUIRE(size != nullptr);
  CHECK(distributed::built_with_mpi());
  CHECK(distributed::world_size() == std::atoi(size));
  CHECK(distributed::world_size() >= 2);
  const int64_t n = distributed::world_size();
  CHECK(distributed::all_reduce_sum(static_cast<int64_t>(distributed::rank())) == n * (n - 1) / 2);  // each rank once
  CHECK(distributed::is_root() == (distributed::rank() == 0));
  distributed::barrier();
}

TEST_CASE("all_reduce sum: odd sizes, float32, float64 and int64, exact") {
  for (const DType dtype : {DType::f32, DType::f64, DType::i64})
    for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{7}, int64_t{1001}, int64_t{300007}}) {
      CAPTURE(n);
      const Tensor t = rank_tensor(n, dtype, distributed::rank());
      distributed::all_reduce({t}, distributed::ReduceOp::sum);
      const std::vector<double> got = t.to_vector<double>();
      int64_t wrong = 0;
      for (int64_t i = 0; i < n; ++i) wrong += got[static_cast<size_t>(i)] != expected_sum(i);
      CHECK(wrong == 0);
    }
}

TEST_CASE("all_reduce mean: the sum divided by the number of ranks, the same bits on every rank") {
  tg::Generator gen(1234 + static_cast<uint64_t>(distributed::rank()));  // different data on every rank
  for (const DType dtype : {DType::f32, DType::f64}) {
    const Tensor t = tg::randn({257, 3}, {dtype}, gen);
    const Tensor before = t.clone();
    // Everyone's inputs, gathered the slow way: rank r's tensor broadcast from r.
    std::vector<double> sum(static_cast<size_t>(t.numel()), 0.0);
    for (int r = 0; r < distributed::world_size(); ++r) {
      const Tensor theirs = before.clone();
      distributed::broadcast({theirs}, r);
      const std::vector<double> v = theirs.to_vector<double>();
      for (size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
    }
    distributed::all_reduce({t}, distributed::ReduceOp::mean, 1000);  // small buckets: several calls
    const std::vector<double> got = t.to_vector<double>();
    const double tolerance = dtype == DType::f32 ? 1e-5 : 1e-13;
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(got[i] - sum[i] / distributed::world_size()));
    CHECK(worst < tolerance);
    CHECK(same_bytes_on_all_ranks(t));
  }
}

TEST_CASE("all_reduce: empty tensors and an empty list change nothing and send nothing") {
  distributed::AllReducer reducer(64);
  reducer.reduce({}, distributed::ReduceOp::sum);
  CHECK(reducer.buckets_last_call() == 0);
  const Tensor empty = tg::zeros({0, 5});
  const Tensor a = rank_tensor(5, DType::f32, distributed::rank());
  const Tensor b = tg::zeros({3, 0});
  reducer.reduce({empty, a, b}, distributed::ReduceOp::sum);
  CHECK(empty.numel() == 0);
  CHECK(b.numel() == 0);
  for (int64_t i = 0; i < 5; ++i) CHECK(a.at_flat(i) == expected_sum(i));
  reducer.reduce({empty, b}, distributed::ReduceOp::mean);
  CHECK(reducer.buckets_last_call() == 0);
}

TEST_CASE("all_reduce: tensors straddling bucket boundaries come back whole") {
  // float64, 5 elements a bucket: tensors of 3, 4, 5, 6 and 1 elements (19)
  // cut at 5, 10, 15: three tensors straddle a boundary.
  for (const size_t bucket_bytes : {size_t{40}, size_t{8}, size_t{19 * 8}, size_t{1} << 20}) {
    CAPTURE(bucket_bytes);
    distributed::AllReducer reducer(bucket_bytes);
    std::vector<Tensor> tensors;
    int64_t base = 0;
    std::vector<int64_t> bases;
    for (const int64_t n : {3, 4, 5, 6, 1}) {
      std::vector<double> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = value_at(distributed::rank(), base + i);
      tensors.push_back(tg::tensor(v, Shape{n}).to(DType::f64));
      bases.push_back(base);
      base += n;
    }
    reducer.reduce(tensors, distributed::ReduceOp::sum);
    const size_t per_bucket = bucket_bytes / 8;
    CHECK(reducer.buckets_last_call() == static_cast<int64_t>((19 + per_bucket - 1) / per_bucket));
    for (size_t k = 0; k < tensors.size(); ++k)
      for (int64_t i = 0; i < tensors[k].numel(); ++i) CHECK(tensors[k].at_flat(i) == expected_sum(bases[k] + i));
  }
}

TEST_CASE("all_reduce: random data and many buckets give the same bits on every rank") {
  tg::Generator gen(99 + static_cast<uint64_t>(distributed::rank()));
  std::vector<Tensor> tensors = {tg::randn({1000, 37}, {}, gen), tg::randn({13}, {}, gen), tg::randn({512, 3}, {}, gen)};
  distributed::AllReducer reducer(4096);
  reducer.reduce(tensors, distributed::ReduceOp::sum);
  CHECK(reducer.buckets_last_call() > 30);
  for (const Tensor& t : tensors) CHECK(same_bytes_on_all_ranks(t));
}

TEST_CASE("reduce_gradients: sums every parameter's gradient; a missing gradient counts as zeros") {
  Tensor w = tg::zeros({4, 3}).requires_grad_();
  Tensor unused = tg::zeros({2}).requires_grad_();
  // Every rank has w's gradient; only rank 1 has one for `unused`.
  w.set_grad(tg::full({4, 3}, static_cast<double>(distributed::rank() + 1)));
  if (distributed::rank() == 1) unused.set_grad(tg::full({2}, 5.0));
  distributed::AllReducer reducer;
  reducer.reduce_gradients({w, unused});
  const int64_t n = distributed::world_size();
  for (int64_t i = 0; i < 12; ++i) CHECK(w.grad().at_flat(i) == static_cast<double>(n * (n + 1) / 2));
  REQUIRE(unused.grad().defined());
  CHECK(unused.grad().at_flat(0) == 5.0);
  CHECK(unused.grad().at_flat(1) == 5.0);
}

TEST_CASE("broadcast: every rank ends with the root's tensors, from any root, any dtype") {
  for (int root = 0; root < distributed::world_size(); ++root) {
    CAPTURE(root);
    const Tensor f = rank_tensor(1003, DType::f32, distributed::rank());
    const Tensor d = rank_tensor(7, DType::f64, distributed::rank());
    const Tensor i = rank_tensor(5, DType::i64, distributed::rank());
    const Tensor b = tg::full({9}, distributed::rank() == root ? 1.0 : 0.0).to(DType::boolean);
    const Tensor empty = tg::zeros({0}, {DType::boolean});
    distributed::broadcast({f}, root, 400);  // 3 buckets
    distributed::broadcast({d}, root);
    distributed::broadcast({i}, root, 16);
    distributed::broadcast({b, empty}, root);
    // 16-bit floats travel as their bits.
    const Tensor h = rank_tensor(11, DType::f32, distributed::rank()).to(DType::bf16);
    distributed::broadcast({h}, root);
    for (int64_t k = 0; k < 11; ++k) CHECK(h.at_flat(k) == value_at(root, k));
    for (int64_t k = 0; k < 1003; ++k) REQUIRE(f.at_flat(k) == value_at(root, k));
    for (int64_t k = 0; k < 7; ++k) CHECK(d.at_flat(k) == value_at(root, k));
    for (int64_t k = 0; k < 5; ++k) CHECK(i.at_flat(k) == value_at(root, k));
    for (int64_t k = 0; k < 9; ++k) CHECK(b.at_flat(k) == 1.0);
  }
  CHECK(distributed::broadcast_value(distributed::rank() + 0.5, distributed::world_size() - 1) == distributed::world_size() - 0.5);
  const std::string text = distributed::broadcast_string(distributed::rank() == 0 ? "from the root" : "not this", 0);
  CHECK(text == "from the root");
  CHECK(distributed::broadcast_string(distributed::rank() == 0 ? "" : "x", 0).empty());
}

TEST_CASE("rank_device: cuda spreads the ranks over the GPUs; cuda:N and cpu are the same on every rank") {
  CHECK(distributed::rank_device("cpu") == tg::Device::cpu());
  CHECK(distributed::rank_device("cuda:3") == tg::Device::cuda(3));
  const int gpus = tg::cuda::device_count();
  const tg::Device spread = distributed::rank_device("cuda");
  CHECK(spread.kind == tg::DeviceKind::cuda);
  if (gpus > 0 && std::getenv("OMPI_COMM_WORLD_LOCAL_RANK") != nullptr)
    CHECK(spread.index == std::atoi(std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) % gpus);
  else if (gpus > 0)
    CHECK(spread.index == distributed::rank() % gpus);
  else
    CHECK(spread.index == 0);  // no GPU: device_backend says why when it is used
  CHECK_THROWS_WITH_AS(distributed::rank_device("gpu"), "device: unknown device 'gpu' (expected cpu, cuda or cuda:N)",
                       tg::Error);
}

TEST_CASE("fingerprints: equal ones pass; a difference on one rank stops every rank, naming it") {
  auto fingerprint = [](int64_t batch_size) {
    distributed::Fingerprint f;
    f.add("model", "bahdanau");
    f.add("batch_size", batch_size);
    f.add("lr", 1e-3);
    f.add_hashed("source vocabulary", {"<pad>", "ein", "mann"});
    return f;
  };
  distributed::check_same_on_all_ranks(fingerprint(64));
  const int last = distributed::world_size() - 1;
  const distributed::Fingerprint mine = fingerprint(distributed::rank() == last ? 32 : 64);
  std::string message;
  try {
    distributed::check_same_on_all_ranks(mine, "the test setup");
  } catch (const distributed::CollectiveError& e) {
    message = e.what();
  }
  CHECK(message == "ranks disagree on the test setup: rank " + std::to_string(last) +
                       " has batch_size: 32, rank 0 has batch_size: 64; every rank must run the same program with "
                       "the same options and data");
}

TEST_CASE("bad arguments: a clear tg::Error on every rank before anything is sent") {
  const Tensor f = tg::zeros({2, 3});
  const Tensor d = tg::zeros({2}, {DType::f64});
  const Tensor i = tg::zeros({2}, {DType::i64});
  CHECK_THROWS_WITH_AS(distributed::all_reduce({f, d}, distributed::ReduceOp::sum),
                       "distributed::all_reduce: tensor 1 (2,) is float64 but tensor 0 is float32; pass tensors of one "
                       "dtype per call",
                       tg::Error);
  CHECK_THROWS_WITH_AS(distributed::all_reduce({i}, distributed::ReduceOp::mean),
                       "distributed::all_reduce: tensor 0 (2,) is int64; expected float32, float64", tg::Error);
  CHECK_THROWS_WITH_AS(distributed::all_reduce({tg::transpose(f, 0, 1)}, distributed::ReduceOp::sum),
                       "distributed::all_reduce: tensor 0 (3, 2) is not contiguous (pass .contiguous())", tg::Error);
  CHECK_THROWS_WITH_AS(distributed::all_reduce({f, Tensor()}, distributed::ReduceOp::sum),
                       "distributed::all_reduce: tensor 1 of 2 is undefined", tg::Error);
  CHECK_THROWS_WITH_AS(distributed::AllReducer(4), "distributed::AllReducer: bucket_bytes must be in [8, 2147483647], got 4",
                       tg::Error);
  CHECK_THROWS_WITH_AS(distributed::broadcast({f}, distributed::world_size()),
                       ("distributed::broadcast: root " + std::to_string(distributed::world_size()) + " is not a rank of 0.." +
                        std::to_string(distributed::world_size() - 1))
                           .c_str(),
                       tg::Error);
  distributed::barrier();  // every rank is still in step
}
