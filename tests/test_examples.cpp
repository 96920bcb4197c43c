// The example programs' training code, run for a few steps at tiny sizes:
// examples/language_model (on the first sentences of Multi30k English, or on
// a small generated corpus when the data is absent) and examples/time_series.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include "apps/language_model/language_model.h"
#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"
#include "apps/time_series/time_series.h"

using namespace tg;
using namespace tg::language_model;
using namespace tg::time_series;

namespace {

doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("tapegrad_test_examples_" + tag + "_" + std::to_string(::getpid()) + "_" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

double mean_of(const std::vector<double>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - begin);
}

// Sentences in the style of Multi30k's captions, from a fixed seed: the
// stand-in corpus when the real data is not there.
std::vector<std::string> made_up_captions(int64_t n, uint64_t seed) {
  const std::vector<std::string> who = {"a man", "a woman", "two dogs", "a little girl", "a group of people", "a boy"};
  const std::vector<std::string> what = {"is riding a bike", "are playing in the snow", "is sitting on a bench",
                                         "is running on the beach", "are walking down the street"};
  const std::vector<std::string> where = {"", " in the park", " near a building", " at night"};
  Generator gen(seed);
  std::vector<std::string> lines;
  for (int64_t i = 0; i < n; ++i)
    lines.push_back(who[gen.below(who.size())] + " " + what[gen.below(what.size())] + where[gen.below(where.size())] +
                    " .");
  return lines;
}

// The directory the language-model tests read: Multi30k when present, else
// `fallback` filled with made-up captions under Multi30k's file names.
std::string lm_data_dir(const TempDir& fallback) {
  const std::string dir = test_support::multi30k_dir();
  if (std::filesystem::exists(dir + "/train.lc.norm.tok.en.gz") && std::filesystem::exists(dir + "/val.lc.norm.tok.en.gz"))
    return dir;
  MESSAGE("Multi30k not found in '" << dir << "' (set MULTI30K_DIR): training on made-up captions instead");
  text::write_lines(fallback.file("train.lc.norm.tok.en.gz"), made_up_captions(400, 1));
  text::write_lines(fallback.file("val.lc.norm.tok.en.gz"), made_up_captions(100, 2));
  return fallback.path.string();
}

LanguageModelOptions tiny_lm_options(const std::string& dir) {
  LanguageModelOptions o;
  o.data_dir = dir;
  o.limit_train = 200;
  o.model.embed = 16;
  o.model.hidden = 32;
  o.model.dropout = 0.1;
  o.epochs = 2;
  o.batch_size = 16;
  o.lr = 1e-2;
  o.seed = 3;
  return o;
}

}  // namespace

TEST_CASE("language_model: a few updates at tiny sizes lower the loss; perplexity is finite and below |V|") {
  TempDir tmp("lm");
  LanguageModelOptions o = tiny_lm_options(lm_data_dir(tmp));
  o.save_path = tmp.file("lm.safetensors");
  const LanguageModelReport report = train_language_model(o);

  CHECK(report.train_sentences == 200);
  CHECK(report.val_sentences > 0);
  CHECK(report.val_tokens > report.val_sentences);  // every sentence has its words plus <eos>
  const int64_t vocab = report.trained.vocab.size();
  CHECK(vocab > 20);
  REQUIRE(report.epochs.size() == 2);
  const std::vector<double>& losses = report.train_loss_per_step;
  REQUIRE(losses.size() == static_cast<size_t>(report.epochs[0].steps + report.epochs[1].steps));
  REQUIRE(losses.size() >= 20);  // 200 sentences / 16 = 13 updates per epoch
  // Starts near ln |V| (the uniform guess) and goes down.
  CHECK(mean_of(losses, 0, 3) > std::log(static_cast<double>(vocab)) - 1);
  CHECK(mean_of(losses, losses.size() - 5, losses.size()) < mean_of(losses, 0, 3) - 0.5);
  CHECK(report.epochs[1].train_loss < report.epochs[0].train_loss);

  for (const EpochResult& e : report.epochs) {
    CHECK(std::isfinite(e.val_perplexity));
    CHECK(e.val_perplexity > 1);
    CHECK(e.val_perplexity < static_cast<double>(vocab));
  }
  CHECK(report.val_perplexity == std::min(report.epochs[0].val_perplexity, report.epochs[1].val_perplexity));
  CHECK(report.epochs[report.best_epoch - 1].val_perplexity == report.val_perplexity);

  {  // the returned model is the best epoch's: its perplexity on the validation set is the reported one
    const auto val = text::read_lines(o.data_dir + "/val.lc.norm.tok.en.gz");
    std::vector<std::vector<std::string>> sentences;
    for (const std::string& line : val)
      if (!text::split_tokens(line).empty()) sentences.push_back(text::split_tokens(line));
    CHECK(perplexity(report.trained, sentences) == doctest::Approx(report.val_perplexity).epsilon(1e-6));
  }

  {  // the checkpoint holds the best epoch with its vocabulary: same perplexity, same samples
    const LanguageModel loaded = load_language_model(o.save_path);
    CHECK(loaded.vocab == report.trained.vocab);
    CHECK(loaded.model->config().hidden == 32);
    CHECK(loaded.model->config().embed == 16);
    const std::vector<std::vector<std::string>> sentences = {{"a", "man", "is", "sitting", "."}, {"two", "dogs", "."}};
    CHECK(perplexity(loaded, sentences) == doctest::Approx(perplexity(report.trained, sentences)).epsilon(1e-9));
    const GenerateOptions g{.temperature = 1.0, .max_words = 8, .seed = 5};
    CHECK(generate(loaded, {"a", "man"}, g) == generate(report.trained, {"a", "man"}, g));
  }

  {  // a second run onto the saved checkpoint is refused before training unless told; the file stays
    auto bytes = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string saved = bytes(o.save_path);
    CHECK_THROWS_WITH_AS(train_language_model(o),
                         doctest::Contains(("language_model: --save '" + o.save_path +
                                            "' already exists; pass --overwrite to replace it")
                                               .c_str()),
                         tg::Error);
    CHECK(bytes(o.save_path) == saved);
    LanguageModelOptions again = o;
    again.overwrite = true;
    again.epochs = 1;
    again.max_steps = 2;
    CHECK(train_language_model(again).epochs.size() == 1);
    CHECK_THROWS_WITH_AS(train_language_model([&] {
                           LanguageModelOptions o2 = o;
                           o2.save_path = "/nonexistent/lm.safetensors";
                           return o2;
                         }()),
                         doctest::Contains("the folder '/nonexistent' does not exist"), tg::Error);
  }

  {  // generation: at most max_words, reproducible from the seed, no special tokens
    const LanguageModel& lm = report.trained;
    std::set<std::vector<std::string>> distinct;
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const GenerateOptions g{.temperature = 1.5, .max_words = 6, .seed = seed};
      const std::vector<std::string> words = generate(lm, {"a"}, g);
      CHECK(words.size() <= 6);
      CHECK(generate(lm, {"a"}, g) == words);  // the same seed draws the same words
      for (const std::string& w : words) {
        CHECK(lm.vocab.contains(w));
        CHECK(w != "<unk>");
        CHECK(w != "<pad>");
        CHECK(w != "<bos>");
        CHECK(w != "<eos>");
      }
      distinct.insert(words);
    }
    CHECK(distinct.size() > 1);  // different seeds, different samples
    const GenerateOptions greedy{.temperature = 0, .max_words = 6, .seed = 0};
    CHECK(generate(lm, {"a"}, greedy) == generate(lm, {"a"}, {.temperature = 0, .max_words = 6, .seed = 99}));
    CHECK(generate(lm, {"a"}, {.temperature = 1, .max_words = 0}).empty());
  }

  {  // generation stops at <eos> and otherwise gives exactly max_words words
    const LanguageModel& lm = report.trained;
    NoGrad no_grad;
    Tensor bias = lm.model->out.bias;
    const Tensor saved = bias.clone();
    // A huge bias on one word makes it the certain next word; on <eos>, the end.
    const int64_t word = lm.vocab.id("a") == text::Vocab::unk_id ? 4 : lm.vocab.id("a");
    bias.data<float>()[word] += 1000;
    const std::vector<std::string> words = generate(lm, {"a"}, {.temperature = 1, .max_words = 7, .seed = 1});
    CHECK(words == std::vector<std::string>(7, lm.vocab.token(word)));
    bias.data<float>()[text::Vocab::eos_id] += 3000;
    CHECK(generate(lm, {"a"}, {.temperature = 1, .max_words = 7, .seed = 1}).empty());
    CHECK(generate(lm, {"a"}, {.temperature = 0, .max_words = 7}).empty());
    bias.copy_(saved);
  }
}

TEST_CASE("language_model: max_steps stops training early; the epoch in progress is still evaluated") {
  TempDir tmp("lm_steps");
  LanguageModelOptions o = tiny_lm_options(lm_data_dir(tmp));
  o.max_steps = 4;
  const LanguageModelReport report = train_language_model(o);
  CHECK(report.train_loss_per_step.size() == 4);
  REQUIRE(report.epochs.size() == 1);
  CHECK(report.epochs[0].steps == 4);
  CHECK(std::isfinite(report.val_perplexity));
}

TEST_CASE("language_model on the harness: a run folder, a stop resumed to the same weights, a finished run kept") {
  TempDir tmp("lm_harness");
  const std::string data = lm_data_dir(tmp);
  LanguageModelOptions whole = tiny_lm_options(data);
  whole.checkpoint_dir = tmp.file("whole");
  const LanguageModelReport uninterrupted = train_language_model(whole);
  REQUIRE(uninterrupted.epochs.size() == 2);
  CHECK(std::filesystem::exists(whole.checkpoint_dir + "/best.safetensors"));
  CHECK(load_language_model(whole.checkpoint_dir + "/best.safetensors").vocab == uninterrupted.trained.vocab);

  LanguageModelOptions stopped = tiny_lm_options(data);
  stopped.checkpoint_dir = tmp.file("stopped");
  stopped.max_steps = 17;  // in epoch 2: stopped and saved resumably
  const LanguageModelReport first = train_language_model(stopped);
  CHECK(first.train_loss_per_step.size() == 17);
  CHECK(first.epochs.size() == 1);
  LanguageModelOptions resumed = stopped;
  resumed.max_steps = 0;
  resumed.resume = true;
  resumed.lr = 0.5;  // given differently: the run's own is used
  const LanguageModelReport second =
      train_language_model(resumed, [](const std::string& flag) { return flag == "--lr"; });
  const std::vector<double>& all = uninterrupted.train_loss_per_step;
  REQUIRE(second.train_loss_per_step.size() == all.size() - 17);
  CHECK(std::equal(second.train_loss_per_step.begin(), second.train_loss_per_step.end(), all.begin() + 17));
  REQUIRE(second.epochs.size() == 1);
  CHECK(second.epochs[0].val_perplexity == uninterrupted.epochs[1].val_perplexity);  // bit for bit

  CHECK_THROWS_WITH_AS(train_language_model(whole), contains("holds a run already"), Error);
  LanguageModelOptions no_folder = resumed;
  no_folder.checkpoint_dir.clear();
  CHECK_THROWS_WITH_AS(train_language_model(no_folder), contains("--resume needs the run's folder"), Error);
}

TEST_CASE("language_model --precision: rounded products move the losses a little; fp16 scales the loss") {
  TempDir tmp("lm_precision");
  LanguageModelOptions o = tiny_lm_options(lm_data_dir(tmp));
  o.max_steps = 5;
  const LanguageModelReport fp32 = train_language_model(o);
  CHECK(fp32.loss_scale == 0);
  for (const std::string precision : {"bf16", "fp16"}) {
    CAPTURE(precision);
    o.precision = precision;
    const LanguageModelReport rounded = train_language_model(o);
    REQUIRE(rounded.train_loss_per_step.size() == 5);
    // Rounded, unless this processor keeps float32 products for bf16 (not faster in bfloat16 here)
    const auto runs_at = tg::training_precision(tg::parse_matmul_precision(precision), tg::Device::cpu()).precision;
    CHECK((rounded.train_loss_per_step != fp32.train_loss_per_step) == (runs_at != tg::MatmulPrecision::fp32));
    for (size_t i = 0; i < 5; ++i)
      CHECK(std::abs(rounded.train_loss_per_step[i] - fp32.train_loss_per_step[i]) < 0.01 * fp32.train_loss_per_step[i]);
    CHECK(rounded.skipped_steps == 0);
    CHECK(rounded.loss_scale == (precision == "fp16" ? 65536.0 : 0.0));
  }
  CHECK(matmul_precision() == MatmulPrecision::fp32);
  o.precision = "fp64";
  CHECK_THROWS_WITH_AS(train_language_model(o),
                       contains("language_model: precision: expected fp32, tf32, bf16 or fp16, got 'fp64'"), Error);
}

TEST_CASE("WordModel: step-by-step decoding gives the same logits as the whole-sequence forward") {
  WordModelConfig c{.vocab = 11, .embed = 5, .hidden = 7, .layers = 2, .dropout = 0.2};
  WordModel model(c, 9);
  model.eval();
  NoGrad no_grad;
  const Tensor tokens = index_tensor({1, 1, 4, 5, 6, 7, 10, 2}, {4, 2});  // (T=4, B=2)
  const Tensor logits = model.forward(tokens);                           // (4, 2, 11)
  REQUIRE(logits.shape() == Shape{4, 2, 11});
  Tensor state, step_logits;
  for (int64_t t = 0; t < 4; ++t) {
    std::tie(step_logits, state) = model.step(select(tokens, 0, t).contiguous(), state);
    REQUIRE(step_logits.shape() == Shape{2, 11});
    CHECK(state.shape() == Shape{2, 2, 7});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t v = 0; v < 11; ++v) CHECK(step_logits.at({b, v}) == doctest::Approx(logits.at({t, b, v})).epsilon(1e-5));
  }
  CHECK_THROWS_WITH_AS(model.forward(index_tensor({1, 2, 3})), contains("tokens must be (T, B) int64, got (3,) int64"), Error);
  CHECK_THROWS_WITH_AS(WordModel(WordModelConfig{.vocab = 3}, 0), contains("at least one word, got size 3"), Error);
  CHECK_THROWS_WITH_AS(WordModel(WordModelConfig{.vocab = 9, .dropout = 1.0}, 0), contains("dropout must be in [0, 1), got 1"),
                       Error);
}

TEST_CASE("WordModel::forward_at: forward's logits at the rows asked for, dropout on; the gradients flow to them") {
  WordModelConfig c{.vocab = 11, .embed = 5, .hidden = 7, .layers = 2, .dropout = 0.2};
  WordModel model(c, 9);
  model.train();
  const Tensor tokens = index_tensor({1, 1, 4, 5, 6, 7, 10, 2, 3, 0}, {5, 2});  // (T=5, B=2), the last row padding
  const Tensor rows = index_tensor({0, 1, 2, 4, 5, 7, 8}, {7});
  model.reseed(3);
  const Tensor all = model.forward(tokens);  // (5, 2, 11)
  model.reseed(3);
  const Tensor at = model.forward_at(tokens, rows);  // (7, 11): the same dropout masks
  REQUIRE(at.shape() == Shape{7, 11});
  const std::vector<int64_t> picked = rows.to_vector<int64_t>();
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t v = 0; v < 11; ++v)
      CHECK(at.at({i, v}) == doctest::Approx(all.at({picked[i] / 2, picked[i] % 2, v})).epsilon(1e-6));
  // A row left out gets no gradient through the output layer: the weight's gradient is that of the rows kept.
  sum(at).backward();
  const std::vector<float> from_rows = model.out.bias.grad().to_vector<float>();
  for (const float g : from_rows) CHECK(g == 7.0f);
}

TEST_CASE("language_model: errors name the missing file, the bad checkpoint and the bad option") {
  TempDir tmp("lm_errors");
  LanguageModelOptions o;
  o.data_dir = tmp.path.string();
  CHECK_THROWS_WITH_AS(train_language_model(o), contains(fmt::format("cannot find '{}'", tmp.file("train.lc.norm.tok.en.gz"))), Error);
  o.epochs = 0;
  CHECK_THROWS_WITH_AS(train_language_model(o), contains("epochs must be >= 1, got 0"), Error);

  // A checkpoint of another model: no vocabulary in its metadata.
  nn::Linear linear(2, 3);
  nn::save(linear, tmp.file("linear.safetensors"));
  CHECK_THROWS_WITH_AS(load_language_model(tmp.file("linear.safetensors")),
                       contains(fmt::format("'{}' is not a language-model checkpoint: its metadata has no \"lm.vocab\"",
                                                tmp.file("linear.safetensors"))),
                       Error);
  CHECK_THROWS_WITH_AS(load_language_model(tmp.file("nope.safetensors")), contains("does not exist"), Error);
}

TEST_CASE("time_series: CSV reading takes an optional header and names file and line of a bad value") {
  TempDir tmp("csv");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp.file(name)) << text;
    return tmp.file(name);
  };
  CHECK(read_series_csv(write("plain.csv", "1\n2.5\n-3e2\n")) == std::vector<double>{1, 2.5, -300});
  CHECK(read_series_csv(write("header.csv", "price\r\n 4 \r\n\r\n+5\r\n")) == std::vector<double>{4, 5});

  const std::string bad = write("bad.csv", "value\n1\n2\nabc\n4\n");
  CHECK_THROWS_WITH_AS(read_series_csv(bad), contains(bad + ":4: expected a finite number, got 'abc'"), Error);
  const std::string two = write("two.csv", "1,2\n3,4\n");  // line 1 is taken for a header
  CHECK_THROWS_WITH_AS(read_series_csv(two), contains(two + ":2: expected one column holding a number, got '3,4'"), Error);
  const std::string inf = write("inf.csv", "1\ninf\n");
  CHECK_THROWS_WITH_AS(read_series_csv(inf), contains(inf + ":2: expected a finite number, got 'inf'"), Error);
  // Finite in double but beyond float32, where the model computes (else a held-out MSE of inf, exit 0).
  const std::string huge = write("huge.csv", "1\n2\n-5e38\n");
  CHECK_THROWS_WITH_AS(read_series_csv(huge), contains(huge + ":3: -5e38 is beyond float32's range (±3.402823e+38)"),
                       Error);
  CHECK(read_series_csv(write("edge.csv", "3.4e38\n-3.4e38\n")).size() == 2);
  const std::string empty = write("empty.csv", "value\n\n");
  CHECK_THROWS_WITH_AS(read_series_csv(empty), contains(empty + ": expected one number per line, got no numbers"), Error);
}

TEST_CASE("time_series: the GRU beats the naive last-value forecast on the built-in signal") {
  const std::vector<double> signal = make_signal(600, 0.1, 7);
  CHECK(make_signal(600, 0.1, 7) == signal);   // seeded
  CHECK(make_signal(600, 0.1, 8) != signal);

  TimeSeriesOptions o;
  o.window = 16;
  o.hidden = 16;
  o.epochs = 12;
  o.lr = 1e-2;
  o.seed = 2;
  const TimeSeriesReport r = train_time_series(signal, o);

  CHECK(r.heldout_points == 120);  // the last 20% of 600
  CHECK(r.train_points == 600 - 120 - 16);
  const std::vector<double>& losses = r.train_loss_per_step;
  REQUIRE(losses.size() == 12 * 15);  // 464 windows in batches of 32: 15 per epoch
  CHECK(mean_of(losses, losses.size() - 15, losses.size()) < 0.5 * mean_of(losses, 0, 15));
  CHECK(r.train_loss_per_epoch.back() < r.train_loss_per_epoch.front());

  // The baseline, recomputed here, and the model beating it.
  double baseline = 0;
  for (int64_t t = 480; t < 600; ++t) baseline += (signal[t] - signal[t - 1]) * (signal[t] - signal[t - 1]);
  CHECK(r.baseline_mse == doctest::Approx(baseline / 120));
  MESSAGE("held-out MSE " << r.heldout_mse << " vs naive " << r.baseline_mse);
  CHECK(r.heldout_mse < 0.8 * r.baseline_mse);
  CHECK(r.train_mse < r.baseline_mse);
  CHECK(r.heldout_mse > 0.005);  // not below the noise floor (σ² = 0.01): no leak of the targets

  REQUIRE(r.predictions.size() == 120);
  double model_sq = 0;
  for (size_t i = 0; i < r.predictions.size(); ++i) {
    const TimeSeriesPrediction& p = r.predictions[i];
    CHECK(p.index == 480 + static_cast<int64_t>(i));
    CHECK(p.actual == signal[p.index]);
    CHECK(p.baseline == signal[p.index - 1]);
    model_sq += (p.predicted - p.actual) * (p.predicted - p.actual);
  }
  CHECK(model_sq / 120 == doctest::Approx(r.heldout_mse));

  TempDir tmp("ts_out");
  write_predictions_csv(tmp.file("pred.csv"), r.predictions);
  const std::vector<std::string> lines = text::read_lines(tmp.file("pred.csv"));
  REQUIRE(lines.size() == 121);
  CHECK(lines[0] == "index,actual,predicted,baseline");
  CHECK(lines[1].rfind("480,", 0) == 0);
}

TEST_CASE("time_series on the harness: a stop resumed to the same losses; another series refused on resume") {
  TempDir tmp("ts_harness");
  const std::vector<double> signal = make_signal(300, 0.1, 7);
  TimeSeriesOptions o;
  o.window = 8;
  o.hidden = 8;
  o.epochs = 3;
  const TimeSeriesReport whole = train_time_series(signal, o);  // no folder: nothing saved
  o.checkpoint_dir = tmp.file("run");
  o.max_steps = 11;  // 7 batches an epoch: stopped in epoch 2
  CHECK(train_time_series(signal, o).train_loss_per_step.size() == 11);
  CHECK(std::filesystem::exists(o.checkpoint_dir + "/last.safetensors"));
  o.max_steps = 0;
  o.resume = true;
  const TimeSeriesReport rest = train_time_series(signal, o);
  REQUIRE(rest.train_loss_per_step.size() == whole.train_loss_per_step.size() - 11);
  CHECK(std::equal(rest.train_loss_per_step.begin(), rest.train_loss_per_step.end(), whole.train_loss_per_step.begin() + 11));
  CHECK(rest.heldout_mse == whole.heldout_mse);  // the same model, bit for bit
  o.epochs = 4;
  CHECK_THROWS_WITH_AS(train_time_series(make_signal(300, 0.1, 8), o),
                       contains("time_series: the run in '" + o.checkpoint_dir + "' trained on another series (300 values"),
                       Error);
}

TEST_CASE("time_series: max_steps, a series too short for its window, and bad options") {
  TimeSeriesOptions o;
  o.max_steps = 3;
  o.window = 8;
  o.hidden = 4;
  const TimeSeriesReport r = train_time_series(make_signal(200, 0.1, 1), o);
  CHECK(r.train_loss_per_step.size() == 3);

  auto with = [](auto set) {
    TimeSeriesOptions options;
    set(options);
    return options;
  };
  CHECK_THROWS_WITH_AS(train_time_series(make_signal(30, 0.1, 1), with([](auto& x) { x.window = 24; })),
                       contains("30 values are too few for window 24"), Error);
  CHECK_THROWS_WITH_AS(train_time_series(make_signal(100, 0.1, 1), with([](auto& x) { x.window = 0; })),
                       contains("window must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(train_time_series(make_signal(100, 0.1, 1), with([](auto& x) { x.heldout = 1.5; })),
                       contains("held-out share must be in (0, 1), got 1.5"), Error);
}
