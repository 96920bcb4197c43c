#include "apps/time_series/time_series.h"

#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include "train/train.h"

#include <charconv>
#include <cstring>
#include <optional>
#include <cmath>
#include <limits>
#include <fstream>
#include <memory>
#include <numbers>
#include <string_view>

namespace tg::time_series {

namespace {

// ẑ = Linear(GRU(x)'s last state);  x (W, B, 1) -> ẑ (B, 1)
struct SeriesModel : nn::Module {
  nn::GRU gru;
  nn::Linear out;
  SeriesModel(int64_t hidden, Generator& gen) : gru(1, hidden, {}, DType::f32, gen), out(hidden, 1, {.dtype = DType::f32}, gen) {
    register_module("gru", gru);
    register_module("out", out);
  }
  Tensor forward(const Tensor& x) const {
    const Tensor h_last = select(gru(x).h_n, 0, 0);  // h_n (1, B, H) -> (B, H)
    return out(h_last);
  }
};

// The windows and targets of a batch of target positions, normalised:
// x (W, B, 1) time-major with x[k, b] = z_{t_b - W + k}, y (B, 1) = z_{t_b}.
struct WindowBatch {
  Tensor x, y;
};

WindowBatch make_windows(const std::vector<double>& z, const std::vector<int64_t>& targets, size_t begin, size_t end,
                         int64_t window, Device device) {
  const int64_t batch = static_cast<int64_t>(end - begin);
  std::vector<float> x(static_cast<size_t>(window * batch)), y(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t t = targets[begin + static_cast<size_t>(b)];
    for (int64_t k = 0; k < window; ++k) x[static_cast<size_t>(k * batch + b)] = static_cast<float>(z[t - window + k]);
    y[static_cast<size_t>(b)] = static_cast<float>(z[t]);
  }
  return {from_vector(x, {window, batch, 1}, {DType::f32, device}), from_vector(y, {batch, 1}, {DType::f32, device})};
}

// The model's predictions, in x's units, for every target position.
std::vector<double> predict(const SeriesModel& model, const std::vector<double>& z, const std::vector<int64_t>& targets,
                            int64_t window, double mean, double std) {
  NoGrad no_grad;
  std::vector<double> out;
  out.reserve(targets.size());
  constexpr size_t chunk = 512;
  for (size_t begin = 0; begin < targets.size(); begin += chunk) {
    const size_t end = std::min(targets.size(), begin + chunk);
    const Tensor pred = model.forward(make_windows(z, targets, begin, end, window, model.device()).x);
    for (const float p : pred.to_vector<float>()) out.push_back(p * std + mean);
  }
  return out;
}

double mse(const std::vector<double>& series, const std::vector<int64_t>& targets, const std::vector<double>& predicted) {
  double sum = 0;
  for (size_t i = 0; i < targets.size(); ++i) sum += (predicted[i] - series[targets[i]]) * (predicted[i] - series[targets[i]]);
  return sum / static_cast<double>(targets.size());
}

void check_options(const TimeSeriesOptions& o) {
  if (o.window < 1) fail("time_series: window must be >= 1, got {}", o.window);
  if (o.hidden < 1) fail("time_series: hidden must be >= 1, got {}", o.hidden);
  if (o.epochs < 1) fail("time_series: epochs must be >= 1, got {}", o.epochs);
  if (o.batch_size < 1) fail("time_series: batch size must be >= 1, got {}", o.batch_size);
  if (!(o.lr > 0)) fail("time_series: lr must be > 0, got {}", o.lr);
  if (!(o.clip >= 0)) fail("time_series: clip must be >= 0, got {}", o.clip);
  if (!(o.heldout > 0 && o.heldout < 1)) fail("time_series: held-out share must be in (0, 1), got {}", o.heldout);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The number a whole field holds, or false.
bool parse_number(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() && std::isfinite(value);
}

}  // namespace

std::vector<double> make_signal(int64_t length, double noise, uint64_t seed) {
  if (length < 1) fail("time_series: signal length must be >= 1, got {}", length);
  if (!(noise >= 0)) fail("time_series: noise must be >= 0, got {}", noise);
  Generator gen(seed);
  constexpr double two_pi = 2 * std::numbers::pi;
  std::vector<double> x(static_cast<size_t>(length));
  for (int64_t t = 0; t < length; ++t) {
    const double td = static_cast<double>(t);
    x[static_cast<size_t>(t)] = std::sin(two_pi * td / 50) + 0.5 * std::sin(two_pi * td / 23 + 1) +
                                0.3 * std::sin(two_pi * td / 7.3 + 2) + noise * gen.normal();
  }
  return x;
}

std::vector<double> read_series_csv(const std::string& path) {
  const std::vector<std::string> lines = text::read_lines(path);
  std::vector<double> values;
  values.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view field = trim(lines[i]);
    if (field.empty()) continue;
    double value = 0;
    if (parse_number(field, value)) {
      // The model computes in float32: a larger value would become inf there.
      if (std::abs(value) > std::numeric_limits<float>::max())
        fail("{}:{}: {} is beyond float32's range (±{:.7g}), in which the model computes; rescale the series", path,
             i + 1, field, std::numeric_limits<float>::max());
      values.push_back(value);
    } else if (i > 0) {  // line 1 may be a header
      const bool columns = field.find_first_of(",;\t") != std::string_view::npos;
      fail("{}:{}: expected {}, got '{}'", path, i + 1, columns ? "one column holding a number" : "a finite number",
           field);
    }
  }
  if (values.empty()) fail("{}: expected one number per line, got no numbers", path);
  return values;
}

void write_predictions_csv(const std::string& path, const std::vector<TimeSeriesPrediction>& predictions) {
  std::ofstream out(path);
  if (!out) fail("time_series: cannot open '{}' for writing", path);
  out << "index,actual,predicted,baseline\n";
  for (const TimeSeriesPrediction& p : predictions)
    out << fmt::format("{},{:.9g},{:.9g},{:.9g}\n", p.index, p.actual, p.predicted, p.baseline);
  if (!out.flush()) fail("time_series: writing '{}' failed", path);
}

namespace {

// The first held-out target: split = N - ⌊heldout·N⌋; throws when the series
// leaves no training target (t >= window, before split) or no held-out one.
int64_t heldout_start(int64_t n, const TimeSeriesOptions& o) {
  const int64_t split = n - static_cast<int64_t>(std::floor(o.heldout * static_cast<double>(n)));
  if (split - o.window < 1 || n - split < 1)
    fail("time_series: {} values are too few for window {} and held-out share {}: need at least one training "
         "target (index >= window, before {}) and one held-out target",
         n, o.window, o.heldout, split);
  return split;
}

// A fingerprint of the series a run trains on: its length and an FNV-1a hash
// of its values' bits, so that resuming on another series is refused.
std::string series_fingerprint(const std::vector<double>& series) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const double v : series) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int k = 0; k < 8; ++k) hash = (hash ^ ((bits >> (8 * k)) & 0xff)) * 0x100000001b3ULL;
  }
  return fmt::format("{} values, fnv1a {:016x}", series.size(), hash);
}

// One training run on the harness (train/harness.h): the normalised series and
// its targets, the model and its optimizer; each step a method named for what it does.
class SeriesJob : public train::TrainingJob {
 public:
  SeriesJob(const std::vector<double>& series, const TimeSeriesOptions& o)
      : series_(series),
        o_(o),
        split_(heldout_start(static_cast<int64_t>(series.size()), o)),
        z_(normalise()),
        gen_(o.seed),
        model_(make_model(o.hidden, gen_, o.device)),
        adam_(model_->named_parameters(), {.lr = o.lr}) {
    choose_targets();
    report_.baseline_mse = baseline_mse();
  }

  nn::Module& module() override { return *model_; }
  optim::Optimizer& optimizer() override { return adam_; }
  nn::Metadata model_metadata() const override {
    return {{"window", std::to_string(o_.window)}, {"hidden", std::to_string(o_.hidden)},
            {"mean", fmt::format("{}", report_.mean)}, {"std", fmt::format("{}", report_.std)}};
  }

  // The training targets in an order drawn from (seed, epoch): a resumed run replays it.
  int64_t plan_epoch(int64_t epoch) override {
    order_ = train_targets_;
    Generator shuffle(train::batch_seed(o_.seed, epoch, -1));
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[shuffle.below(i)]);  // Fisher-Yates
    return (static_cast<int64_t>(order_.size()) + o_.batch_size - 1) / o_.batch_size;
  }

  train::StepResult forward_backward(int64_t, int64_t batch) override {
    const size_t begin = static_cast<size_t>(batch * o_.batch_size);
    const size_t end = std::min(order_.size(), begin + static_cast<size_t>(o_.batch_size));
    const WindowBatch windows = make_windows(z_, order_, begin, end, o_.window, o_.device);
    const Tensor loss = mse_loss(model_->forward(windows.x), windows.y);
    loss.backward();
    std::optional<double> norm;
    if (o_.clip > 0) norm = optim::clip_grad_norm(adam_.parameters(), o_.clip);
    return {.loss = loss.item(), .weight = static_cast<double>(end - begin), .grad_norm = norm};
  }

  void update() override {
    adam_.step();
    adam_.zero_grad();
  }

  // The held-out MSE, in x's units, against the naive forecast's.
  train::EpochScore validate(int64_t) override {
    const double heldout = mse(series_, heldout_targets_, predictions(heldout_targets_));
    return {.score = heldout,
            .values = {{"heldout_mse", heldout}},
            .summary = fmt::format("held-out MSE {:.5f} (naive baseline {:.5f})", heldout, report_.baseline_mse)};
  }

  // The report of the model as training left it: MSEs, predictions, the losses.
  TimeSeriesReport finish(const train::HarnessResult& result) {
    report_.train_loss_per_step = result.losses;
    for (const train::EpochRecord& r : result.epochs) report_.train_loss_per_epoch.push_back(r.train_loss);
    evaluate();
    return std::move(report_);
  }

 private:
  // Built on the cpu, so the weights are the same on every device, then moved.
  static std::unique_ptr<SeriesModel> make_model(int64_t hidden, Generator& gen, Device device) {
    auto model = std::make_unique<SeriesModel>(hidden, gen);
    model->to(device);
    return model;
  }

  // z = (x - mean) / std with the training part's statistics (x_0 .. x_{split-1}).
  std::vector<double> normalise() {
    double sum = 0, sq = 0;
    for (int64_t t = 0; t < split_; ++t) sum += series_[t];
    report_.mean = sum / static_cast<double>(split_);
    for (int64_t t = 0; t < split_; ++t) sq += (series_[t] - report_.mean) * (series_[t] - report_.mean);
    report_.std = std::sqrt(sq / static_cast<double>(split_));
    if (report_.std < 1e-12) report_.std = 1;  // a constant series: nothing to scale
    std::vector<double> z(series_.size());
    for (size_t t = 0; t < series_.size(); ++t) z[t] = (series_[t] - report_.mean) / report_.std;
    return z;
  }

  // Training targets t = window .. split-1, held-out ones t = split .. N-1.
  void choose_targets() {
    const int64_t n = static_cast<int64_t>(series_.size());
    for (int64_t t = o_.window; t < split_; ++t) train_targets_.push_back(t);
    for (int64_t t = split_; t < n; ++t) heldout_targets_.push_back(t);
    report_.train_points = static_cast<int64_t>(train_targets_.size());
    report_.heldout_points = static_cast<int64_t>(heldout_targets_.size());
  }

  // The naive forecast x_t = x_{t-1} on the held-out targets.
  double baseline_mse() const {
    double sum = 0;
    for (const int64_t t : heldout_targets_) sum += (series_[t - 1] - series_[t]) * (series_[t - 1] - series_[t]);
    return sum / static_cast<double>(heldout_targets_.size());
  }

  std::vector<double> predictions(const std::vector<int64_t>& targets) const {
    return predict(*model_, z_, targets, o_.window, report_.mean, report_.std);
  }

  // The trained model's MSEs and its held-out predictions.
  void evaluate() {
    report_.train_mse = mse(series_, train_targets_, predictions(train_targets_));
    const std::vector<double> predicted = predictions(heldout_targets_);
    report_.heldout_mse = mse(series_, heldout_targets_, predicted);
    for (size_t i = 0; i < heldout_targets_.size(); ++i) {
      const int64_t t = heldout_targets_[i];
      report_.predictions.push_back(
          {.index = t, .actual = series_[t], .predicted = predicted[i], .baseline = series_[t - 1]});
    }
  }

  const std::vector<double>& series_;
  const TimeSeriesOptions& o_;
  TimeSeriesReport report_;  // first: normalise() fills its mean and std
  int64_t split_;            // the first held-out index
  std::vector<double> z_;    // the normalised series
  std::vector<int64_t> train_targets_, heldout_targets_;
  std::vector<int64_t> order_;  // the training targets in this epoch's order
  Generator gen_;               // the initial weights
  std::unique_ptr<SeriesModel> model_;
  optim::Adam adam_;
};

}  // namespace

TimeSeriesReport train_time_series(const std::vector<double>& series, const TimeSeriesOptions& options,
                                   const std::function<bool(const std::string&)>& given) {
  TimeSeriesOptions o = options;
  check_options(o);
  train::install_stop_signals();
  train::Harness harness({.program = "time_series",
                          .dir = o.checkpoint_dir,
                          .resume = o.resume,
                          .overwrite = o.overwrite,
                          .epochs = o.epochs,
                          .max_steps = o.max_steps,
                          .max_steps_ends_epoch = o.checkpoint_dir.empty(),
                          .resume_command = o.resume_command,
                          .unit = "windows",
                          .log_every = 1000,
                          .out = o.log ? stdout : nullptr});
  train::RunSettings settings;
  auto is_given = [&](const std::string& flag) { return given && given(flag); };
  for (auto [flag, value] : {std::pair{"--window", &o.window}, {"--hidden", &o.hidden}, {"--batch-size", &o.batch_size}})
    settings.bind(flag, *value, is_given(flag));
  for (auto [flag, value] : {std::pair{"--lr", &o.lr}, {"--clip", &o.clip}, {"--heldout", &o.heldout}})
    settings.bind(flag, *value, is_given(flag));
  settings.bind("--seed", o.seed, is_given("--seed"));
  const std::string fingerprint = series_fingerprint(series);
  std::string run_series = fingerprint;
  settings.bind("series", run_series);
  harness.restore_settings(settings);
  if (run_series != fingerprint)
    fail("time_series: the run in '{}' trained on another series ({}), not this one ({}); give the run's series, or "
         "start a new run",
         o.checkpoint_dir, run_series, fingerprint);
  SeriesJob job(series, o);
  return job.finish(harness.run(job));
}

}  // namespace tg::time_series
