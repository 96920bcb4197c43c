// The training harness (train/harness.h) on a small regression job: the run
// folder's claim, stopping and resuming bit for bit, the non-finite guard,
// the run's settings, and what it says when there is nothing to do.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "io/safetensors.h"
#include "tapegrad.h"
#include "train/train.h"

using namespace tg;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / fmt::format("tapegrad_test_harness_{}_{}", ::getpid(), counter++);
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

// What a harness printed: a temporary file read back.
struct Captured {
  std::FILE* file = std::tmpfile();
  ~Captured() { std::fclose(file); }
  std::string text() const {
    std::fflush(file);
    std::rewind(file);
    std::string s;
    for (int c; (c = std::fgetc(file)) != EOF;) s += static_cast<char>(c);
    return s;
  }
};

// y = x·(1, -2, 0.5) + 0.3 over 32 points, fitted by Linear(3, 1) with Adam in
// batches of 4 whose order each epoch shuffles by (seed, epoch).
class RegressionJob : public train::TrainingJob {
 public:
  explicit RegressionJob(uint64_t seed = 3) : seed_(seed), gen_(seed), model_(3, 1, gen_), adam_(model_.named_parameters(), {}) {
    Generator data(11);
    std::vector<float> x, y;
    for (int i = 0; i < 32; ++i) {
      float a = float(data.normal()), b = float(data.normal()), c = float(data.normal());
      x.insert(x.end(), {a, b, c});
      y.push_back(a - 2 * b + 0.5f * c + 0.3f);
    }
    x_ = tensor(x, {32, 3});
    y_ = tensor(y, {32, 1});
  }

  nn::Module& module() override { return model_; }
  optim::Optimizer& optimizer() override { return adam_; }
  nn::Metadata model_metadata() const override { return {{"in", "3"}}; }

  int64_t plan_epoch(int64_t epoch) override {
    Generator order(seed_ * 100 + static_cast<uint64_t>(epoch));
    plan_.resize(32);
    for (int i = 0; i < 32; ++i) plan_[i] = i;
    for (int i = 31; i > 0; --i) std::swap(plan_[i], plan_[order.below(static_cast<uint64_t>(i + 1))]);
    return 8;
  }

  train::StepResult forward_backward(int64_t, int64_t batch) override {
    ++steps_;
    std::vector<int64_t> rows(plan_.begin() + batch * 4, plan_.begin() + batch * 4 + 4);
    const Tensor index = index_tensor(rows);
    const Tensor loss = mse_loss(model_(index_select(x_, 0, index)), index_select(y_, 0, index));
    loss.backward();
    const double norm = optim::clip_grad_norm(model_.parameters(), 100.0);
    train::StepResult result{.loss = loss.item(), .weight = 4, .grad_norm = norm};
    if (on_step) on_step(steps_, result);
    return result;
  }

  void update() override {
    adam_.step();
    adam_.zero_grad();
  }

  train::EpochScore validate(int64_t) override {
    const double loss = mse_loss(model_(x_), y_).item();
    if (higher_is_better)  // a score like BLEU: minus the loss, the higher the better
      return {.score = -loss, .higher_is_better = true, .values = {{"val_loss", loss}}, .summary = "val -loss"};
    return {.score = loss, .values = {{"val_loss", loss}}, .summary = fmt::format("val loss {:.4f}", loss)};
  }

  bool higher_is_better = false;

  std::vector<double> weights() const { return model_.weight.to_vector<double>(); }

  std::function<void(int64_t step, train::StepResult& result)> on_step;  // tests: after each forward_backward

 private:
  uint64_t seed_;
  Generator gen_;
  nn::Linear model_;
  optim::Adam adam_;
  Tensor x_, y_;
  std::vector<int64_t> plan_;
  int64_t steps_ = 0;
};

train::HarnessOptions options_for(const TempDir& dir, int64_t epochs, std::FILE* out) {
  return {.program = "toy train", .dir = dir.str(), .epochs = epochs, .resume_command = "toy train --resume", .out = out};
}

doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("harness: a run writes last, best and metrics.csv; a finished run is refused without --overwrite") {
  TempDir dir;
  Captured out;
  {
    train::Harness harness(options_for(dir, 3, out.file));
    RegressionJob job;
    const train::HarnessResult result = harness.run(job);
    CHECK_FALSE(result.stopped);
    CHECK(result.position.epoch == 3);
    CHECK(result.position.step == 24);
    CHECK(result.losses.size() == 24);
    REQUIRE(result.epochs.size() == 3);
    CHECK(result.epochs[2].score.score < result.epochs[0].score.score);
  }
  CHECK(fs::exists(dir.path / "last.safetensors"));
  CHECK(fs::exists(dir.path / "best.safetensors"));
  const std::string csv = read_file((dir.path / "metrics.csv").string());
  CHECK(csv.starts_with("epoch,step,train_loss,val_loss,lr,seconds\n1,8,"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(out.text().find("epoch 3: train loss") != std::string::npos);

  const std::string last = read_file((dir.path / "last.safetensors").string());
  CHECK_THROWS_WITH_AS(train::Harness(options_for(dir, 3, nullptr)),
                       doctest::Contains("holds a run already (last.safetensors, best.safetensors, metrics.csv); continue "
                                         "it with --resume, replace it with --overwrite"),
                       Error);
  CHECK(read_file((dir.path / "last.safetensors").string()) == last);  // nothing replaced

  train::HarnessOptions again = options_for(dir, 1, nullptr);
  again.overwrite = true;
  train::Harness harness(again);
  RegressionJob job;
  CHECK(harness.run(job).position.step == 8);
  CHECK(read_file((dir.path / "metrics.csv").string()).find("\n2,") == std::string::npos);  // the old run's rows went
}

TEST_CASE("harness: a higher-is-better score keeps the highest; a run saved the other way resumes with its best turned") {
  TempDir dir;
  double first_best = 0;
  {
    train::Harness harness(options_for(dir, 1, nullptr));
    RegressionJob job;  // lower is better: its score is the loss
    const train::HarnessResult result = harness.run(job);
    REQUIRE(result.position.best);
    CHECK_FALSE(result.position.best_is_higher);
    first_best = *result.position.best;
  }
  train::HarnessOptions resume = options_for(dir, 3, nullptr);
  resume.resume = true;
  train::Harness harness(resume);
  RegressionJob job;
  job.higher_is_better = true;  // the same run, its score now kept as minus the loss (as BLEU instead of -BLEU)
  const train::HarnessResult result = harness.run(job);
  REQUIRE(result.epochs.size() == 2);
  CHECK(result.position.best_is_higher);
  // The loss falls each epoch here, so each score (minus the loss) beats the saved best, turned to -first_best.
  CHECK(-result.epochs[0].score.score < first_best);
  CHECK(result.epochs[0].best);
  CHECK(result.epochs[1].best);
  CHECK(*result.position.best == result.epochs[1].score.score);  // the highest
  CHECK(result.epochs[1].score.score > result.epochs[0].score.score);
}

TEST_CASE("harness: two runs on one folder at once: the second is refused, naming the first's pid") {
  TempDir dir;
  train::Harness first(options_for(dir, 1, nullptr));
  CHECK_THROWS_WITH_AS(train::Harness(options_for(dir, 1, nullptr)),
                       contains(fmt::format("another run (pid {}) is writing to", ::getpid())), Error);
}

TEST_CASE("harness: a stop mid-epoch saves the exact position; the resumed run ends where an unstopped one does") {
  TempDir whole_dir, stopped_dir;
  RegressionJob whole;
  train::Harness(options_for(whole_dir, 3, nullptr)).run(whole);

  std::atomic<bool> stop{false};
  Captured out;
  {
    train::HarnessOptions o = options_for(stopped_dir, 3, out.file);
    o.stop = &stop;
    train::Harness harness(o);
    RegressionJob job;
    job.on_step = [&](int64_t step, train::StepResult&) { stop = step == 13; };  // epoch 2, batch 5
    const train::HarnessResult result = harness.run(job);
    CHECK(result.stopped);
    CHECK(result.position.epoch == 1);
    CHECK(result.position.batch == 5);
    CHECK(result.position.step == 13);
  }
  CHECK(out.text().find("stopped at epoch 2, batch 5/8 (step 13); saved") != std::string::npos);
  CHECK(out.text().find("resume with: toy train --resume") != std::string::npos);

  train::HarnessOptions o = options_for(stopped_dir, 3, out.file);
  o.resume = true;
  train::Harness harness(o);
  RegressionJob resumed;
  const train::HarnessResult result = harness.run(resumed);
  CHECK(result.losses.size() == 11);
  CHECK(resumed.weights() == whole.weights());  // bit for bit
  CHECK(out.text().find("resumed from") != std::string::npos);
}

TEST_CASE("harness: a non-finite loss or gradient norm stops before the update, and nothing is saved") {
  for (const bool in_norm : {false, true}) {
    CAPTURE(in_norm);
    TempDir dir;
    { RegressionJob job; train::Harness(options_for(dir, 1, nullptr)).run(job); }
    const std::string last = read_file((dir.path / "last.safetensors").string());
    train::HarnessOptions o = options_for(dir, 3, nullptr);
    o.resume = true;
    train::Harness harness(o);
    RegressionJob job;
    std::vector<double> before;
    job.on_step = [&](int64_t step, train::StepResult& r) {
      if (step != 3) return;
      before = job.weights();
      (in_norm ? *r.grad_norm : r.loss) = in_norm ? INFINITY : NAN;
    };
    CHECK_THROWS_WITH_AS(harness.run(job),
                         contains(fmt::format("toy train: training stopped at epoch 2, step 11: the {}; this step's "
                                                       "update was not applied and nothing was saved; the last good "
                                                       "checkpoint is '{}/last.safetensors' (step 8)",
                                                       in_norm ? "gradient norm is inf" : "loss is nan", dir.str())),
                         Error);
    CHECK(job.weights() == before);
    CHECK(read_file((dir.path / "last.safetensors").string()) == last);
  }
}

TEST_CASE("harness: parameters that became non-finite are never saved as last or best") {
  TempDir dir;
  train::Harness harness(options_for(dir, 2, nullptr));
  RegressionJob job;
  job.on_step = [&](int64_t step, train::StepResult&) {
    if (step == 8) {  // the epoch's last: its update follows, then the save
      const Tensor weight = job.module().parameters()[0];
      weight.copy_(tensor(std::vector<float>(3, INFINITY), weight.shape()));
    }
  };
  CHECK_THROWS_WITH_AS(harness.run(job),
                       doctest::Contains("the parameters are not finite (inf or nan) and were not saved; no checkpoint "
                                         "was written yet"),
                       Error);
  CHECK_FALSE(fs::exists(dir.path / "last.safetensors"));
  CHECK_FALSE(fs::exists(dir.path / "best.safetensors"));
}

TEST_CASE("harness: a saved state holding nan (a valid file, edited) is refused on resume, naming the tensor") {
  TempDir dir;
  { RegressionJob job; train::Harness(options_for(dir, 1, nullptr)).run(job); }
  const std::string last = (dir.path / "last.safetensors").string();
  SafetensorsContents contents = load_safetensors(last);
  for (auto& [name, t] : contents.tensors)
    if (name.ends_with("weight.exp_avg_sq")) {  // (1, 3): element 1 exists (the bias's has one element)
      std::vector<float> v = t.to_vector<float>();
      v[1] = NAN;
      t = tensor(v, t.shape());
    }
  save_safetensors(last, contents.tensors, contents.metadata);  // checksums written anew: only the value is wrong
  train::HarnessOptions o = options_for(dir, 2, nullptr);
  o.resume = true;
  train::Harness harness(o);
  RegressionJob job;
  const std::vector<double> fresh = job.weights();
  CHECK_THROWS_WITH_AS(harness.run(job),
                       doctest::Contains("holds a non-finite value (element 1 is nan); a training state with nan or inf "
                                         "cannot be resumed"),
                       Error);
  CHECK(job.weights() == fresh);  // nothing was loaded
}

TEST_CASE("harness: the run's settings come back on resume; a given value that differs is said") {
  TempDir dir;
  double lr = 1e-3;
  uint64_t seed = 3;
  std::string schedule = "cosine";
  {
    train::RunSettings settings;
    settings.bind("--lr", lr);
    settings.bind("--seed", seed);
    settings.bind("--schedule", schedule);
    train::Harness harness(options_for(dir, 1, nullptr));
    harness.restore_settings(settings);
    RegressionJob job;
    harness.run(job);
  }
  lr = 0.01, seed = 9, schedule = "constant";
  Captured out;
  train::HarnessOptions o = options_for(dir, 1, out.file);
  o.resume = true;
  train::Harness harness(o);
  train::RunSettings settings;
  settings.bind("--lr", lr, /*given=*/true);
  settings.bind("--seed", seed, /*given=*/false);  // a default, not typed: not compared
  settings.bind("--schedule", schedule, /*given=*/true);
  harness.restore_settings(settings);
  CHECK(lr == 1e-3);
  CHECK(seed == 3);
  CHECK(schedule == "cosine");
  CHECK(out.text().find("note: --lr 0.01 differs from the run's 0.001; the run's is used") != std::string::npos);
  CHECK(out.text().find("note: --schedule constant differs from the run's cosine") != std::string::npos);
  CHECK(out.text().find("--seed") == std::string::npos);

  RegressionJob job;  // epoch 1 of --epochs 1 is done
  CHECK(harness.run(job).losses.empty());
  CHECK(out.text().find("nothing to train: 1 epoch of --epochs 1 finished already (raise --epochs to go on)") !=
        std::string::npos);

  train::RunSettings more;
  int64_t batch = 4;
  more.bind("--batch-size", batch);
  CHECK_THROWS_WITH_AS(harness.restore_settings(more), doctest::Contains("does not record the run's --batch-size"), Error);

  // A flag newer than the run: absent_means gives the value the run had in effect; given, it is compared with it.
  train::RunSettings newer;
  double speed = 0.1, pitch = 3;
  newer.bind("--speed", speed, /*given=*/true);
  newer.bind("--pitch", pitch, /*given=*/false);
  newer.absent_means("--speed", "0");
  newer.absent_means("--pitch", "0");
  harness.restore_settings(newer);
  CHECK(speed == 0);
  CHECK(pitch == 0);
  CHECK(out.text().find("note: --speed 0.1 differs from the run's 0; the run's is used") != std::string::npos);
  CHECK_THROWS_WITH_AS(newer.absent_means("--noise", "0"), doctest::Contains("no setting --noise is bound"), Error);
}

TEST_CASE("harness: resuming a folder without a run, and metadata numbers that are not numbers, are named") {
  TempDir dir;
  train::HarnessOptions o = options_for(dir, 1, nullptr);
  o.resume = true;
  CHECK_THROWS_WITH_AS(train::Harness{o}, contains("cannot resume: '" + dir.str() + "/last.safetensors' does not exist"),
                       Error);
  const nn::Metadata meta{{"channels", "abc"}, {"layers", "2.5"}, {"hidden", "16"}};
  CHECK(train::metadata_integer(meta, "hidden", "m.safetensors") == 16);
  CHECK_THROWS_WITH_AS(train::metadata_integer(meta, "channels", "m.safetensors"),
                       doctest::Contains("m.safetensors: metadata 'channels' is 'abc', not a number"), Error);
  CHECK_THROWS_WITH_AS(train::metadata_integer(meta, "layers", "m.safetensors"),
                       doctest::Contains("metadata 'layers' is '2.5', not a whole number"), Error);
  CHECK_THROWS_WITH_AS(train::metadata_number(meta, "epoch", "m.safetensors"),
                       doctest::Contains("m.safetensors has no 'epoch' in its metadata"), Error);
}

TEST_CASE("harness: without a folder nothing is saved; a stop ends training early") {
  std::atomic<bool> stop{false};
  train::HarnessOptions o{.program = "toy", .epochs = 2, .out = nullptr, .stop = &stop};
  train::Harness harness(o);
  RegressionJob job;
  job.on_step = [&](int64_t step, train::StepResult&) { stop = step == 3; };
  const train::HarnessResult result = harness.run(job);
  CHECK(result.stopped);
  CHECK(result.position.step == 3);
}
