#include "time_series.h"

#include <fmt/format.h>
#include <tapegrad.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <numbers>
#include <string_view>

namespace tg::examples {

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
  const std::vector<std::string> lines = data::read_lines(path);
  std::vector<double> values;
  values.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view field = trim(lines[i]);
    if (field.empty()) continue;
    double value = 0;
    if (parse_number(field, value)) {
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

TimeSeriesReport train_time_series(const std::vector<double>& series, const TimeSeriesOptions& o) {
  check_options(o);
  const int64_t n = static_cast<int64_t>(series.size());
  const int64_t split = n - static_cast<int64_t>(std::floor(o.heldout * static_cast<double>(n)));
  if (split - o.window < 1 || n - split < 1)
    fail("time_series: {} values are too few for window {} and held-out share {}: need at least one training "
         "target (index >= window, before {}) and one held-out target",
         n, o.window, o.heldout, split);

  TimeSeriesReport report;
  // z = (x - mean) / std with the training part's statistics.
  double sum = 0, sq = 0;
  for (int64_t t = 0; t < split; ++t) sum += series[t];
  report.mean = sum / static_cast<double>(split);
  for (int64_t t = 0; t < split; ++t) sq += (series[t] - report.mean) * (series[t] - report.mean);
  report.std = std::sqrt(sq / static_cast<double>(split));
  if (report.std < 1e-12) report.std = 1;  // a constant series: nothing to scale
  std::vector<double> z(series.size());
  for (size_t t = 0; t < series.size(); ++t) z[t] = (series[t] - report.mean) / report.std;

  std::vector<int64_t> train_targets, heldout_targets;
  for (int64_t t = o.window; t < split; ++t) train_targets.push_back(t);
  for (int64_t t = split; t < n; ++t) heldout_targets.push_back(t);
  report.train_points = static_cast<int64_t>(train_targets.size());
  report.heldout_points = static_cast<int64_t>(heldout_targets.size());

  Generator gen(o.seed);
  SeriesModel model(o.hidden, gen);  // built on the cpu, so the weights are the same on every device
  model.to(o.device);
  optim::Adam adam(model.named_parameters(), {.lr = o.lr});
  std::vector<int64_t> order = train_targets;
  double baseline_sum = 0;
  for (const int64_t t : heldout_targets) baseline_sum += (series[t - 1] - series[t]) * (series[t - 1] - series[t]);
  report.baseline_mse = baseline_sum / static_cast<double>(heldout_targets.size());

  int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs && !(o.max_steps > 0 && step >= o.max_steps); ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(i)]);  // Fisher-Yates
    double epoch_loss = 0;
    int64_t epoch_steps = 0;
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(o.batch_size)) {
      const size_t end = std::min(order.size(), begin + static_cast<size_t>(o.batch_size));
      const WindowBatch batch = make_windows(z, order, begin, end, o.window, o.device);
      const Tensor loss = mse_loss(model.forward(batch.x), batch.y);
      loss.backward();
      if (o.clip > 0) optim::clip_grad_norm(adam.parameters(), o.clip);
      adam.step();
      adam.zero_grad();
      report.train_loss_per_step.push_back(loss.item());
      epoch_loss += loss.item();
      ++epoch_steps;
      if (++step == o.max_steps) break;
    }
    report.train_loss_per_epoch.push_back(epoch_loss / static_cast<double>(epoch_steps));
    if (o.log) {
      const double heldout = mse(series, heldout_targets, predict(model, z, heldout_targets, o.window, report.mean, report.std));
      o.log(fmt::format("epoch {:3d}/{}  train loss {:.5f} (normalised)  held-out MSE {:.5f}  (naive baseline {:.5f})",
                        epoch, o.epochs, report.train_loss_per_epoch.back(), heldout, report.baseline_mse));
    }
  }

  report.train_mse = mse(series, train_targets, predict(model, z, train_targets, o.window, report.mean, report.std));
  const std::vector<double> predicted = predict(model, z, heldout_targets, o.window, report.mean, report.std);
  report.heldout_mse = mse(series, heldout_targets, predicted);
  for (size_t i = 0; i < heldout_targets.size(); ++i) {
    const int64_t t = heldout_targets[i];
    report.predictions.push_back({.index = t, .actual = series[t], .predicted = predicted[i], .baseline = series[t - 1]});
  }
  return report;
}

}  // namespace tg::examples
