// The `translate` program's pieces (apps/translate): exact checkpoint
// resumption, checkpoint and input errors, the progress line, the SVG writers,
// metrics.csv, eval on any parallel files, standard input, non-finite
// training (the last three also through the program itself), the language
// identifier train saves and `translate langid` makes. Training runs
// use tiny models on the first pairs of Multi30k ($MULTI30K_DIR, else the
// download cache), or on a small synthetic corpus in the same file
// layout when the data is not there.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "apps/translate/average.h"
#include "apps/translate/evaluate.h"
#include "apps/translate/serve/language_id.h"
#include "train/progress.h"
#include "train/run_directory.h"
#include "io/text_file.h"
#include "plot/svg.h"
#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"
#include "tiny_translation.h"
#include "apps/translate/train.h"
#include "apps/translate/translate_text.h"
#include "apps/translate/translation_checkpoint.h"

namespace {

namespace fs = std::filesystem;
namespace tr = tg::translate;
using tiny_translation::data_dir;
using tiny_translation::read_file;
using tiny_translation::silent;
using tiny_translation::temp_dir;
using tiny_translation::tiny_options;
using tiny_translation::trained_checkpoint;
using tiny_translation::translate_program;

// Every tensor of two safetensors files (parameters and optimizer state) is bit-identical.
void check_same_tensors(const std::string& a_path, const std::string& b_path) {
  const tg::SafetensorsContents a = tg::load_safetensors(a_path), b = tg::load_safetensors(b_path);
  REQUIRE(a.tensors.size() == b.tensors.size());
  int compared = 0;
  for (const auto& [name_, ta_] : a.tensors) {
    const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& ta = ta_;
    const tg::Tensor* tb = b.find(name);
    REQUIRE_MESSAGE(tb != nullptr, name);
    REQUIRE(ta.shape() == tb->shape());
    CHECK_MESSAGE(ta.to_vector<double>() == tb->to_vector<double>(), name);
    ++compared;
  }
  CHECK(compared > 10);
  CHECK(a.metadata.at("run.step") == b.metadata.at("run.step"));
  CHECK(a.metadata.at("optimizer.lr") == b.metadata.at("optimizer.lr"));
}

// Minimal well-formedness check: tags balance and nest, '&' starts an entity,
// no raw '<' inside text.
bool well_formed_xml(const std::string& s) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      const size_t end = s.find('>', i);
      if (end == std::string::npos) return false;
      std::string tag = s.substr(i + 1, end - i - 1);
      if (tag.find('<') != std::string::npos) return false;
      i = end + 1;
      if (tag.empty()) return false;
      if (tag.back() == '/') continue;  // <x/>
      if (tag[0] == '/') {
        if (open.empty() || open.back() != tag.substr(1)) return false;
        open.pop_back();
        continue;
      }
      open.push_back(tag.substr(0, tag.find(' ')));
    } else if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      if (semi == std::string::npos) return false;
      const std::string entity = s.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;")
        return false;
      i = semi + 1;
    } else {
      ++i;
    }
  }
  return open.empty();
}

// doctest::Contains of a std::string (it takes C strings).
doctest::Contains contains(const std::string& text) { return doctest::Contains(doctest::String(text.c_str())); }

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// Exact resumption

TEST_CASE("translate train: stopping and resuming gives the uninterrupted run's losses and parameters exactly") {
  for (const std::string kind : {"bahdanau", "cho", "transformer"}) {
    CAPTURE(kind);
    const int64_t total = 13;  // 8 batches per epoch: crosses an epoch boundary (validation, checkpoints)

    // Uninterrupted.
    const std::string dir_a = temp_dir("resume_a_" + kind);
    tr::TrainOptions a = tiny_options(kind, dir_a);
    a.max_steps = total;
    const tr::TrainResult full = tr::train(a, silent());
    REQUIRE(full.losses.size() == static_cast<size_t>(total));
    CHECK(full.stopped);
    CHECK(full.metrics.size() == 1);

    // Stopped by max-steps in the middle of epoch 1, then resumed.
    const std::string dir_b = temp_dir("resume_b_" + kind);
    tr::TrainOptions b = tiny_options(kind, dir_b);
    b.max_steps = 5;
    const tr::TrainResult first = tr::train(b, silent());
    CHECK(first.stopped);
    REQUIRE(first.losses.size() == 5);
    b.max_steps = total;
    b.resume = true;
    b.model.hidden = 99;  // ignored on resume: the checkpoint's configuration is used
    b.settings.seed = 12345;
    const tr::TrainResult second = tr::train(b, silent());
    std::vector<double> joined = first.losses;
    joined.insert(joined.end(), second.losses.begin(), second.losses.end());
    CHECK(joined == full.losses);  // exact equality, step by step
    CHECK(second.steps == total);
    check_same_tensors(dir_a + "/last.safetensors", dir_b + "/last.safetensors");
    CHECK(second.metrics.size() == 1);
    CHECK(tr::read_metrics_csv(dir_b + "/metrics.csv").size() == 1);

    // Stopped by the Ctrl-C flag after the epoch's last batch (before its validation), then resumed.
    const std::string dir_c = temp_dir("resume_c_" + kind);
    tr::TrainOptions c = tiny_options(kind, dir_c);
    std::atomic<bool> stop{false};
    tr::TrainHooks hooks = silent();
    hooks.stop = &stop;
    hooks.on_step = [&](int64_t step, double) {
      if (step == 8) stop = true;
    };
    const tr::TrainResult interrupted = tr::train(c, hooks);
    CHECK(interrupted.stopped);
    REQUIRE(interrupted.losses.size() == 8);
    CHECK(interrupted.metrics.empty());
    const tr::CheckpointInfo at_stop = tr::read_checkpoint_info(dir_c + "/last.safetensors");
    CHECK(at_stop.position.epoch == 0);
    CHECK(at_stop.position.batch == 8);
    CHECK(at_stop.position.step == 8);
    c.resume = true;
    c.max_steps = total;
    const tr::TrainResult rest = tr::train(c, silent());
    joined = interrupted.losses;
    joined.insert(joined.end(), rest.losses.begin(), rest.losses.end());
    CHECK(joined == full.losses);
    check_same_tensors(dir_a + "/last.safetensors", dir_c + "/last.safetensors");
    REQUIRE(rest.metrics.size() == 1);
    CHECK(rest.metrics[0].val_loss == doctest::Approx(full.metrics[0].val_loss).epsilon(1e-12));
    CHECK(rest.metrics[0].train_loss == doctest::Approx(full.metrics[0].train_loss).epsilon(1e-12));
  }
}

namespace {

// The metadata of a checkpoint as translate wrote it before it kept the run's position in the harness's run.*
// keys: the same position under its own train.* keys, the best BLEU `best_bleu` (-1: none yet).
tg::nn::Metadata with_old_position_keys(tg::nn::Metadata metadata, double best_bleu) {
  const tg::train::Position p = tg::train::read_run_position(metadata, "the new file");
  std::erase_if(metadata, [](const auto& entry) { return entry.first.starts_with("run."); });
  metadata["train.epoch"] = std::to_string(p.epoch);
  metadata["train.batch"] = std::to_string(p.batch);
  metadata["train.step"] = std::to_string(p.step);
  metadata["train.best_bleu"] = fmt::format("{}", best_bleu);
  metadata["train.epoch_loss_sum"] = fmt::format("{}", p.loss_sum);
  metadata["train.epoch_tokens"] = std::to_string(static_cast<int64_t>(p.loss_weight));
  metadata["train.epoch_seconds"] = fmt::format("{}", p.seconds);
  return metadata;
}

}  // namespace

TEST_CASE("translate train: a run saved with the older train.* position keys reads and resumes exactly, its best "
          "kept") {
  const std::string dir_a = temp_dir("old_keys_a");
  const tr::TrainResult full = tr::train(tiny_options("cho", dir_a), silent());  // 3 epochs of 8 batches
  REQUIRE(full.losses.size() == 24);

  // Stopped at step 10 (epoch 1 validated, its best saved); last.safetensors rewritten in the older keys, with a
  // best BLEU no epoch reaches: resuming must keep it, and so leave best.safetensors alone.
  const std::string dir_b = temp_dir("old_keys_b");
  tr::TrainOptions b = tiny_options("cho", dir_b);
  b.max_steps = 10;
  const tr::TrainResult first = tr::train(b, silent());
  REQUIRE(first.losses.size() == 10);
  const std::string last = dir_b + "/last.safetensors", best = dir_b + "/best.safetensors";
  const tg::train::Position saved = tr::read_checkpoint_info(last).position;
  CHECK(saved.best_is_higher);
  tg::SafetensorsContents file = tg::load_safetensors(last);
  tg::save_safetensors(last, file.tensors, with_old_position_keys(file.metadata, 99.0));
  REQUIRE(tg::load_safetensors(last).metadata.count("run.epoch") == 0);
  const tg::train::Position old = tr::read_checkpoint_info(last).position;
  CHECK(old.epoch == 1);
  CHECK(old.batch == 2);
  CHECK(old.step == 10);
  CHECK(old.loss_sum == saved.loss_sum);
  CHECK(old.loss_weight == saved.loss_weight);
  CHECK(old.seconds == saved.seconds);
  CHECK(old.best == 99.0);
  CHECK(old.best_is_higher);
  CHECK_FALSE(tr::parse_checkpoint_metadata(with_old_position_keys(file.metadata, -1), "old").position.best);

  const std::string best_before = read_file(best);
  b.resume = true;
  b.max_steps = 0;
  const tr::TrainResult rest = tr::train(b, silent());
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), rest.losses.begin(), rest.losses.end());
  CHECK(joined == full.losses);
  check_same_tensors(dir_a + "/last.safetensors", last);
  REQUIRE(rest.metrics.size() == 3);
  for (size_t e = 0; e < 3; ++e) CHECK(rest.metrics[e].val_bleu == full.metrics[e].val_bleu);
  CHECK(read_file(best) == best_before);  // no epoch beat the kept best
  const tg::nn::Metadata resumed = tg::load_safetensors(last).metadata;  // written in the harness's keys now
  CHECK(resumed.at("run.best") == "99");
  CHECK(resumed.at("run.best_is_higher") == "1");
  CHECK(resumed.count("train.epoch") == 0);
}

TEST_CASE("translate train: a different seed gives different losses (the resume check can fail)") {
  const tr::TrainOptions base = tiny_options("bahdanau", temp_dir("seed_1"));
  tr::TrainOptions a = base, b = base;
  a.max_steps = b.max_steps = 3;
  b.checkpoint_dir = temp_dir("seed_2");
  b.settings.seed = 8;
  CHECK(tr::train(a, silent()).losses != tr::train(b, silent()).losses);
}

TEST_CASE("translate train --lr-schedule cosine: per-step lr with warm-up, its length fixed at the start, exact resume") {
  const double base_lr = 0.01, min_lr = 1e-4;
  const int64_t warmup = 3, steps = 16;  // 2 epochs of 8 batches
  auto cosine_options = [&](const std::string& dir) {
    tr::TrainOptions o = tiny_options("bahdanau", dir);
    o.epochs = 2;
    o.lr = base_lr;
    o.settings.lr_schedule = "cosine";
    o.settings.warmup_steps = warmup;
    o.settings.min_lr = min_lr;
    return o;
  };
  auto expected_lr = [&](int64_t t) {  // after t updates
    if (t < warmup) return base_lr * static_cast<double>(t + 1) / warmup;
    const double progress = static_cast<double>(t - warmup) / static_cast<double>(steps - warmup);
    return min_lr + (base_lr - min_lr) * (1 + std::cos(std::numbers::pi * progress)) / 2;
  };
  const std::string dir_a = temp_dir("cosine_a");
  const tr::TrainResult full = tr::train(cosine_options(dir_a), silent());
  REQUIRE(full.metrics.size() == 2);
  CHECK(full.metrics[0].lr == doctest::Approx(expected_lr(8)).epsilon(1e-12));
  CHECK(full.metrics[1].lr == doctest::Approx(min_lr).epsilon(1e-12));  // the end of the cosine
  const tr::CheckpointInfo last = tr::read_checkpoint_info(dir_a + "/last.safetensors");
  CHECK(last.settings.lr_schedule == "cosine");
  CHECK(last.settings.schedule_steps == steps);
  CHECK(last.settings.warmup_steps == warmup);
  CHECK(last.settings.min_lr == min_lr);

  // Stopped in the warm-up, resumed with more --epochs: the cosine keeps its 16 steps.
  const std::string dir_b = temp_dir("cosine_b");
  tr::TrainOptions b = cosine_options(dir_b);
  b.max_steps = 2;
  const tr::TrainResult first = tr::train(b, silent());
  REQUIRE(first.losses.size() == 2);
  b.max_steps = steps;
  b.epochs = 3;
  b.resume = true;
  const tr::TrainResult second = tr::train(b, silent());
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  CHECK(joined == full.losses);
  check_same_tensors(dir_a + "/last.safetensors", dir_b + "/last.safetensors");
  CHECK(tr::read_checkpoint_info(dir_b + "/last.safetensors").settings.schedule_steps == steps);

  // The schedule changes the run; inverse-sqrt needs a warm-up; a warm-up as long as the run is refused.
  tr::TrainOptions flat = cosine_options(temp_dir("cosine_flat"));
  flat.settings.lr_schedule = "none";
  flat.max_steps = 4;
  const tr::TrainResult flat_run = tr::train(flat, silent());
  CHECK(std::vector<double>(full.losses.begin(), full.losses.begin() + 4) != flat_run.losses);
  tr::TrainOptions no_warmup = cosine_options(temp_dir("inverse_sqrt"));
  no_warmup.settings.lr_schedule = "inverse-sqrt";
  no_warmup.settings.warmup_steps = 0;
  CHECK_THROWS_WITH(tr::train(no_warmup, silent()), doctest::Contains("needs --warmup-steps >= 1"));
  tr::TrainOptions too_long = cosine_options(temp_dir("cosine_long_warmup"));
  too_long.settings.warmup_steps = 16;
  CHECK_THROWS_WITH(tr::train(too_long, silent()), doctest::Contains("leaves no steps for the cosine"));
}

TEST_CASE("translate train: epoch outputs beside the checkpoint") {
  const std::string dir = temp_dir("outputs");
  tr::TrainOptions o = tiny_options("bahdanau", dir);
  o.epochs = 2;
  o.settings.lr_schedule = "plateau";
  const tr::TrainResult r = tr::train(o, silent());
  CHECK_FALSE(r.stopped);
  CHECK(r.steps == 16);
  for (const char* f : {"best.safetensors", "last.safetensors", "metrics.csv", "curve.svg", "language_id.json"})
    CHECK_MESSAGE(fs::exists(dir + "/" + f), f);
  // The language identifier for translate serve, learned from the training sides the model saw (--limit-train).
  const tr::LanguageIdentifier identifier = tr::LanguageIdentifier::load(dir + "/language_id.json");
  CHECK(identifier.languages() == std::vector<std::string>{"de", "en"});
  CHECK(identifier.sentences("de") == o.settings.limit_train);
  CHECK(identifier.sentences("en") == o.settings.limit_train);
  CHECK(identifier.detect("Zwei Hunde spielen im Schnee.").front().language == "de");
  const std::vector<tg::plot::EpochMetrics> m = tr::read_metrics_csv(dir + "/metrics.csv");
  REQUIRE(m.size() == 2);
  CHECK(m[1].epoch == 2);
  CHECK(m[1].step == 16);
  CHECK(m[1].val_ppl == doctest::Approx(std::exp(m[1].val_loss)).epsilon(1e-3));
  CHECK(m[1].train_loss < m[0].train_loss);
  const tr::CheckpointInfo last = tr::read_checkpoint_info(dir + "/last.safetensors");
  CHECK(last.position.epoch == 2);
  CHECK(last.position.batch == 0);
  CHECK(last.settings.lr_schedule == "plateau");
  std::ifstream svg(dir + "/curve.svg");
  const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  CHECK(well_formed_xml(text));
}

TEST_CASE("translate train --profile: the steps after the warm-up, without validation, in a printed table") {
  const std::string dir = temp_dir("profile");
  tr::TrainOptions o = tiny_options("bahdanau", dir);
  o.epochs = 2;  // 8 steps an epoch; the validation between the epochs must stay out
  o.profile = true;
  o.profile_warmup = 3;
  tr::TrainHooks hooks = silent();
  hooks.out = std::tmpfile();
  REQUIRE(hooks.out != nullptr);
  const tr::TrainResult r = tr::train(o, hooks);
  std::rewind(hooks.out);
  std::string printed;
  for (int c; (c = std::fgetc(hooks.out)) != EOF;) printed += static_cast<char>(c);
  std::fclose(hooks.out);

  CHECK(r.profiled_steps == 13);
  std::map<std::string, tg::ProfileRow> rows;
  for (const tg::ProfileRow& row : r.profile) rows[row.op] = row;
  REQUIRE(rows.count("cross_entropy") == 1);
  CHECK(rows.at("cross_entropy").forward_calls == 13);  // one loss a step; validation's are not counted
  CHECK(rows.at("log_softmax_nll").backward_calls == 13);
  CHECK(rows.at("matmul").backward_calls > 0);
  CHECK(printed.find("op profile: 13 training steps after 3 warm-up steps") != std::string::npos);
  CHECK(printed.find("cross_entropy") != std::string::npos);
  CHECK(printed.find("peak RSS") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Checkpoints: metadata and errors

TEST_CASE("translation checkpoint metadata round-trips exactly") {
  tr::CheckpointInfo info;
  info.config.kind = "cho";
  info.config.embed = 7;
  info.config.hidden = 9;
  info.config.dropout = 0.1 + 0.2;  // not a short decimal
  info.src_vocab = tg::text::Vocab::build({{"a", "b", "a", "b"}}, 1);
  info.tgt_vocab = tg::text::Vocab::build({{"x", "x"}}, 1);
  info.config.src_vocab = info.src_vocab.size();
  info.config.tgt_vocab = info.tgt_vocab.size();
  info.settings.seed = 18446744073709551557ULL;
  info.settings.precision = "bf16";
  info.position = {.epoch = 3, .batch = 17, .step = 1234, .loss_sum = 1.0 / 3.0, .loss_weight = 999, .seconds = 12.5,
                   .best = 27.123456789012345, .best_is_higher = true};
  info.loss_scale = {.scale = 4096.0, .good_steps = 77};
  const tr::CheckpointInfo back = tr::parse_checkpoint_metadata(tr::checkpoint_metadata(info), "mem");
  CHECK(back.settings.precision == "bf16");
  CHECK(back.loss_scale.scale == 4096.0);
  CHECK(back.loss_scale.good_steps == 77);
  // A checkpoint from before mixed precision: float32 products, no scaler state.
  tg::nn::Metadata older = tr::checkpoint_metadata(info);
  for (const char* key : {"train.precision", "train.loss_scale", "train.loss_scale_good_steps"}) older.erase(key);
  const tr::CheckpointInfo old_back = tr::parse_checkpoint_metadata(older, "old");
  CHECK(old_back.settings.precision == "fp32");
  CHECK(old_back.loss_scale.scale == 0);
  tg::nn::Metadata bad = tr::checkpoint_metadata(info);
  bad["train.precision"] = "fp8";
  CHECK_THROWS_WITH_AS(tr::parse_checkpoint_metadata(bad, "bad.safetensors"),
                       "checkpoint 'bad.safetensors': train.precision: expected fp32, tf32, bf16 or fp16, got 'fp8'",
                       tg::Error);
  CHECK(back.config.kind == "cho");
  CHECK(back.config.dropout == info.config.dropout);
  CHECK(back.src_vocab == info.src_vocab);
  CHECK(back.tgt_vocab == info.tgt_vocab);
  CHECK(back.settings.seed == info.settings.seed);
  CHECK(back.position.best == info.position.best);
  CHECK(back.position.best_is_higher);
  CHECK(back.position.loss_sum == info.position.loss_sum);
  CHECK(back.position.loss_weight == 999);
  CHECK(back.position.seconds == 12.5);
  CHECK(back.position.batch == 17);
  CHECK(back.position.step == 1234);

  // A Transformer's layers, heads and norm placement travel with it.
  info.config.kind = "transformer";
  info.config.layers = 5;
  info.config.heads = 7;
  info.config.norm_first = false;
  const tr::CheckpointInfo transformer = tr::parse_checkpoint_metadata(tr::checkpoint_metadata(info), "mem");
  CHECK(transformer.config.kind == "transformer");
  CHECK(transformer.config.layers == 5);
  CHECK(transformer.config.heads == 7);
  CHECK_FALSE(transformer.config.norm_first);
  tg::nn::Metadata no_heads = tr::checkpoint_metadata(info);
  no_heads.erase("model.heads");
  CHECK_THROWS_WITH_AS(tr::parse_checkpoint_metadata(no_heads, "t.safetensors"), doctest::Contains("model.heads"),
                       tg::Error);

  // A joint vocabulary is written once; read back it is both sides'.
  CHECK(tr::checkpoint_metadata(info).count("vocab.tgt") == 1);
  info.tgt_vocab = info.src_vocab;
  info.config.tgt_vocab = info.src_vocab.size();
  const tg::nn::Metadata joint = tr::checkpoint_metadata(info);
  CHECK(joint.count("vocab.tgt") == 0);
  CHECK(joint.at("vocab.shared") == "true");
  CHECK(tr::parse_checkpoint_metadata(joint, "joint").tgt_vocab == info.src_vocab);
  tg::nn::Metadata both = joint;
  both["vocab.tgt"] = joint.at("vocab.src");
  CHECK_THROWS_WITH_AS(tr::parse_checkpoint_metadata(both, "j.safetensors"),
                       doctest::Contains("vocab.shared is true but the metadata also holds a target vocabulary"),
                       tg::Error);
}

TEST_CASE("translation checkpoint errors name the file and the problem") {
  const std::string dir = temp_dir("errors");
  const std::string missing = dir + "/no_such.safetensors";
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(missing),
                       contains("checkpoint file '" + missing + "' does not exist"), tg::Error);
  CHECK_THROWS_WITH_AS(tr::load_translator(missing), contains(missing), tg::Error);

  const std::string garbage = dir + "/garbage.safetensors";
  tg::write_text_file(garbage, "this is not a safetensors file at all");
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(garbage),
                       contains("'" + garbage + "' is not a readable safetensors file"), tg::Error);

  // A safetensors checkpoint of something else: no translate.format tag.
  const std::string plain = dir + "/plain.safetensors";
  tg::nn::Linear linear(3, 2);
  tg::nn::save(linear, plain);
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(plain),
                       contains("is not a tapegrad translation checkpoint: metadata 'translate.format' is "
                                         "missing (expected 'tapegrad.translate.v1')"),
                       tg::Error);
  // An unknown format tag.
  const std::string future = dir + "/future.safetensors";
  tg::save_safetensors(future, {{"w", tg::zeros({2})}}, {{"translate.format", "tapegrad.translate.v9"}});
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(future),
                       contains("unknown format 'tapegrad.translate.v9' (this program reads "
                                         "'tapegrad.translate.v1')"),
                       tg::Error);

  // A real checkpoint whose target vocabulary lost a token: it no longer fits the parameters.
  tg::SafetensorsContents contents = tg::load_safetensors(trained_checkpoint());
  const tr::CheckpointInfo good = tr::read_checkpoint_info(trained_checkpoint());
  std::vector<std::vector<std::string>> fewer = {good.tgt_vocab.tokens()};
  fewer[0].pop_back();
  std::string text;
  for (const std::string& t : fewer[0]) text += t + "\n";
  const tg::text::Vocab smaller = tg::text::Vocab::from_string(text);
  std::map<std::string, std::string> meta = contents.metadata;
  meta["vocab.tgt"] = smaller.to_string();
  meta["model.tgt_vocab"] = std::to_string(smaller.size());
  const std::string mismatched = dir + "/mismatched.safetensors";
  tg::save_safetensors(mismatched, contents.tensors, meta);
  CHECK_THROWS_WITH_AS(
      tr::read_checkpoint_info(mismatched),
      contains(fmt::format("the target vocabulary has {} tokens but parameter 'decoder.embed.weight' has "
                                    "shape ({}, 12)",
                                    smaller.size(), good.tgt_vocab.size())),
      tg::Error);
  CHECK_THROWS_WITH_AS(tr::load_translator(mismatched), contains(mismatched), tg::Error);
  // The vocabulary disagreeing with the size the metadata states.
  meta = contents.metadata;
  meta["model.src_vocab"] = "5";
  const std::string wrong_size = dir + "/wrong_size.safetensors";
  tg::save_safetensors(wrong_size, contents.tensors, meta);
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(wrong_size),
                       contains(fmt::format("the source vocabulary has {} tokens but model.src_vocab says 5",
                                                     good.src_vocab.size())),
                       tg::Error);
  // A metadata number that is not one.
  meta = contents.metadata;
  meta["model.hidden"] = "sixteen";
  const std::string bad_number = dir + "/bad_number.safetensors";
  tg::save_safetensors(bad_number, contents.tensors, meta);
  CHECK_THROWS_WITH_AS(tr::read_checkpoint_info(bad_number),
                       contains("metadata 'model.hidden' is 'sixteen', expected an integer"), tg::Error);

  // Resuming where there is nothing to resume.
  tr::TrainOptions o = tiny_options("bahdanau", dir + "/empty_run");
  o.resume = true;
  CHECK_THROWS_WITH_AS(tr::train(o, silent()),
                       contains("cannot resume: '" + dir + "/empty_run/last.safetensors' does not exist"),
                       tg::Error);
  // Data that is not there.
  o.resume = false;
  o.data_dir = dir + "/no_data";
  CHECK_THROWS_WITH_AS(tr::train(o, silent()), contains("train.lc.norm.tok.de.gz"), tg::Error);
}

// ---------------------------------------------------------------------------
// Input sentences

TEST_CASE("translate: input lines are tokenized, and empty or over-long ones refused") {
  const auto sources = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Mann fährt Fahrrad.", "Zwei Hunde!"}, "line", 100);
  REQUIRE(sources.size() == 2);
  CHECK(sources[0] == std::vector<std::string>{"ein", "mann", "fährt", "fahrrad", "."});
  CHECK_THROWS_WITH_AS(tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Hund.", "", "Eine Katze."}, "line", 100),
                       contains("line 2 is empty"), tg::Error);
  CHECK_THROWS_WITH_AS(tr::prepare_sources(tg::text::TextCodec::words(), {"  \t "}, "line", 100), contains("line 1 is empty"), tg::Error);
  CHECK_THROWS_WITH_AS(tr::prepare_sources(tg::text::TextCodec::words(), {"a b c d e f"}, "sentence", 4),
                       contains("sentence 1 has 6 tokens; the limit is 4"), tg::Error);
}

TEST_CASE("translate: a trained checkpoint translates and draws its attention") {
  tr::Translator translator = tr::load_translator(trained_checkpoint());
  CHECK_FALSE(translator.model->is_training());
  const auto sources = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Mann läuft auf der Straße."}, "line", 100);
  const tr::Translation greedy = tr::translate_tokens(translator, sources[0], 1, 1.0);
  CHECK_FALSE(greedy.target_tokens.empty());
  CHECK_FALSE(greedy.text.empty());
  REQUIRE(greedy.attention.defined());
  CHECK(greedy.attention.size(1) == static_cast<int64_t>(sources[0].size()));
  const std::string svg = tr::translation_attention_svg(greedy, translator);
  CHECK(well_formed_xml(svg));
  CHECK(svg.find(">straße<") != std::string::npos);
  CHECK(svg.find(">Where each English word looked in the German sentence<") != std::string::npos);
  // A word outside the vocabulary is drawn as what the model read.
  const auto unknown = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Mann läuft nach Quxlingen."}, "line", 100);
  REQUIRE_FALSE(translator.info.src_vocab.contains("quxlingen"));
  const std::string unknown_svg = tr::translation_attention_svg(tr::translate_tokens(translator, unknown[0], 1, 1.0), translator);
  CHECK(unknown_svg.find(">&lt;unk&gt; (quxlingen)<") != std::string::npos);
  CHECK(unknown_svg.find(">mann<") != std::string::npos);
  CHECK(svg.find(std::string(">").append(tg::text::unescape_moses(greedy.target_tokens[0])).append("<")) != std::string::npos);
  // Beam 1 is greedy; a wider beam also gives a translation.
  CHECK(tr::translate_tokens(translator, sources[0], 3, 1.0).text.size() > 0);

  // Sentences searched in batches of like length come back in input order, each
  // as if alone; an empty one gets an empty translation.
  const auto several = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Hund.", "", "Zwei Männer spielen Fußball auf einer Wiese.",
                                            "Eine Frau liest.", "Kinder."},
                                           "line", 100, tr::EmptyInput::keep);
  for (int64_t beam : {1, 3}) {
    CAPTURE(beam);
    const std::vector<tr::Translation> batched = tr::translate_sentences(translator, several, beam, 1.0, true, 2);
    REQUIRE(batched.size() == several.size());
    for (size_t i = 0; i < several.size(); ++i) {
      CAPTURE(i);
      CHECK(batched[i].source_tokens == several[i]);
      if (several[i].empty()) {
        CHECK(batched[i].text.empty());
        CHECK(!batched[i].attention.defined());
        continue;
      }
      const tr::Translation alone = tr::translate_tokens(translator, several[i], beam, 1.0);
      CHECK(batched[i].target_tokens == alone.target_tokens);
      CHECK(batched[i].text == alone.text);
      CHECK(batched[i].finished == alone.finished);
      REQUIRE(batched[i].attention.defined());
      CHECK(batched[i].attention.shape() == alone.attention.shape());
    }
  }
}

// ---------------------------------------------------------------------------
// Progress line

TEST_CASE("progress line: in place on a terminal, plain periodic lines otherwise") {
  tg::train::ProgressLine plain(2, 120, false, 50);
  CHECK(plain.update(1, 5.0, 1000, 60) == "");
  CHECK(plain.update(49, 5.0, 1000, 60) == "");
  const std::string at_50 = plain.update(50, 4.25, 1234, 125);
  CHECK(at_50.find('\r') == std::string::npos);
  CHECK(at_50.back() == '\n');
  CHECK(at_50.find("epoch 2") != std::string::npos);
  CHECK(at_50.find(" 50/120") != std::string::npos);
  CHECK(at_50.find("loss 4.2500") != std::string::npos);
  CHECK(at_50.find("1234 tok/s") != std::string::npos);
  CHECK(at_50.find("ETA 2:05") != std::string::npos);
  CHECK(plain.update(51, 4.0, 1000, 60) == "");
  CHECK(plain.update(120, 4.0, 1000, 0).back() == '\n');  // the end always prints
  CHECK(plain.finish() == "");

  tg::train::ProgressLine tty(2, 120, true, 50);
  const std::string first = tty.update(1, 5.0, 100000, 3700);
  CHECK(first.front() == '\r');
  CHECK(first.find('\n') == std::string::npos);
  CHECK(first.find("ETA 1:01:40") != std::string::npos);
  const std::string second = tty.update(2, 5.0, 1, 1);  // shorter text: padded to wipe the old one
  CHECK(second.front() == '\r');
  CHECK(second.size() == first.size());
  CHECK(tty.finish() == "\n");
  CHECK(tty.finish() == "");
  CHECK(tg::train::format_duration(-1) == "?");
}

// ---------------------------------------------------------------------------
// SVG and metrics files

TEST_CASE("attention SVG: words escaped, one cell per pair, grey levels") {
  const std::vector<std::string> src = {"ein", "<b>&", "hund"};
  const std::vector<std::string> tgt = {"a", "dog's", "<eos>"};
  const tg::Tensor w = tg::from_vector(std::vector<float>{1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 1}, tg::Shape{3, 3}, {});
  const std::string svg = tg::plot::attention_svg(src, tgt, w);
  CHECK(well_formed_xml(svg));
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("&lt;b&gt;&amp;") != std::string::npos);
  CHECK(svg.find("<b>&") == std::string::npos);
  CHECK(svg.find("dog&apos;s") != std::string::npos);
  CHECK(svg.find("&lt;eos&gt;") != std::string::npos);
  CHECK(svg.find(">hund<") != std::string::npos);
  CHECK(count_of(svg, "<rect") == 1 + 9 + 1);  // background + cells + colour scale
  CHECK(svg.find(">Attention weights<") != std::string::npos);  // the default title
  CHECK(svg.find("url(#weight-scale)") != std::string::npos);
  CHECK(svg.find(">weight<") != std::string::npos);
  CHECK(tg::plot::attention_svg(src, tgt, w, "Mine & yours").find(">Mine &amp; yours<") != std::string::npos);
  CHECK(svg.find("rgb(255,255,255)\"><title>1.000") != std::string::npos);
  CHECK(svg.find("rgb(128,128,128)") != std::string::npos);
  CHECK_THROWS_WITH_AS(tg::plot::attention_svg(src, {"a"}, w),
                       contains("weights must be (targets, sources) = (1, 3), got (3, 3)"), tg::Error);
}

TEST_CASE("matrix SVG: any labels, the scale named; filter grid: signs in colour, each filter its own scale") {
  const std::vector<std::string> classes = {"Coat", "Shirt"};
  const tg::Tensor shares = tg::from_vector(std::vector<double>{0.75, 0.25, 0.5, 0.5}, tg::Shape{2, 2}, {tg::DType::f64});
  const std::string matrix = tg::plot::matrix_svg(classes, classes, shares, "Confusion", "share");
  CHECK(well_formed_xml(matrix));
  CHECK(count_of(matrix, "<rect") == 1 + 4 + 1);
  CHECK(matrix.find(">share<") != std::string::npos);
  CHECK(matrix.find(">weight<") == std::string::npos);
  CHECK(matrix.find("rgb(191,191,191)\"><title>0.750") != std::string::npos);
  CHECK_THROWS_WITH_AS(tg::plot::matrix_svg(classes, {"Coat"}, shares, "t", "s"),
                       contains("values must be (rows, columns) = (1, 2), got (2, 2)"), tg::Error);

  // Two 1x2 filters: (2, -1) scaled by 2 -> full red, half blue; (0, 0.5) -> white, full red.
  const tg::Tensor filters = tg::from_vector(std::vector<float>{2, -1, 0, 0.5f}, tg::Shape{2, 1, 2}, {});
  const std::string grid = tg::plot::filter_grid_svg(filters, 8, "Filters <1>");
  CHECK(well_formed_xml(grid));
  CHECK(count_of(grid, "<rect") == 1 + 4);
  CHECK(grid.find(">Filters &lt;1&gt;<") != std::string::npos);
  CHECK(count_of(grid, "fill=\"rgb(255,0,0)\"") == 2);
  CHECK(count_of(grid, "fill=\"rgb(128,128,255)\"") == 1);
  CHECK(count_of(grid, "fill=\"rgb(255,255,255)\"") == 1);  // the 0 weight
  CHECK_THROWS_WITH_AS(tg::plot::filter_grid_svg(shares, 8, "t"), contains("filters must be (N, KH, KW), got (2, 2)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::plot::filter_grid_svg(filters, 0, "t"), contains("columns must be >= 1, got 0"), tg::Error);
}

TEST_CASE("bar chart and roofline SVG: one bar or point each, the limits drawn, bad values named") {
  const std::string bars = tg::plot::bar_chart_svg({{"naive", 2.5}, {"tiled <6x16>", 100}}, "Steps", "GFLOP/s", 200,
                                                   "limit");
  CHECK(well_formed_xml(bars));
  CHECK(count_of(bars, "class=\"bar\"") == 2);
  CHECK(bars.find("tiled &lt;6x16&gt;") != std::string::npos);
  CHECK(bars.find(">limit: 200 GFLOP/s<") != std::string::npos);
  CHECK(tg::plot::bar_chart_svg({{"a", 1}}, "t", "u").find("stroke-dasharray") == std::string::npos);  // no reference
  CHECK_THROWS_WITH_AS(tg::plot::bar_chart_svg({{"a", -1}}, "t", "u"),
                       contains("bar 'a' has value -1, expected a finite value >= 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::plot::bar_chart_svg({}, "t", "u"), contains("no bars"), tg::Error);

  const std::string roof = tg::plot::roofline_svg(200, 40, {{"add", 1.0 / 12, 3}, {"matmul", 170, 190}}, "Roofline");
  CHECK(well_formed_xml(roof));
  CHECK(count_of(roof, "class=\"point\"") == 2);
  CHECK(count_of(roof, "class=\"roof\"") == 1);
  CHECK(roof.find(">peak 200 GFLOP/s<") != std::string::npos);
  CHECK(roof.find(">memory 40 GB/s<") != std::string::npos);
  CHECK(roof.find(">1/64<") != std::string::npos);  // intensities below 1 ticked as fractions
  CHECK_THROWS_WITH_AS(tg::plot::roofline_svg(0, 40, {}, "t"), contains("peak and bandwidth must be > 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::plot::roofline_svg(200, 40, {{"x", 0, 1}}, "t"),
                       contains("point 'x' must have intensity and GFLOP/s > 0, got 0 and 1"), tg::Error);
}

TEST_CASE("curve SVG: both panels, labels, legend, escaped") {
  std::vector<tg::plot::EpochMetrics> m = {{1, 100, 5.1, 4.8, 121.5, 3.2, 1e-3, 60},
                                     {2, 200, 4.2, 4.1, 60.3, 9.8, 1e-3, 61},
                                     {3, 300, 3.6, 3.9, 49.4, 14.1, 5e-4, 59}};
  const std::string svg = tg::plot::curve_svg(m);
  CHECK(well_formed_xml(svg));
  for (const char* word : {"train loss", "validation loss", "validation BLEU", "epoch", "BLEU", "Training curve"})
    CHECK_MESSAGE(svg.find(word) != std::string::npos, word);
  CHECK(count_of(svg, "<polyline") == 3);
  CHECK(count_of(svg, "<circle") == 9 + 1);  // the points and the ring on the best BLEU
  CHECK(svg.find(">best: 14.10 at epoch 3<") != std::string::npos);
  // Legends above their panels (the frames' tops: the 2nd and 3rd rects), not on the lines.
  auto y_of_text = [&](const std::string& label) {
    const size_t at = svg.find(">" + label + "<");
    const size_t y = svg.rfind(" y=\"", at);
    return std::stod(svg.substr(y + 4));
  };
  auto frame_top = [&](int n) {  // n-th <rect ... fill="none"
    size_t at = 0;
    for (int i = 0; i < n; ++i) at = svg.find("fill=\"none\" stroke=\"#333\"", at + 1);
    const size_t y = svg.rfind(" y=\"", at);
    return std::stod(svg.substr(y + 4));
  };
  CHECK(y_of_text("train loss") < frame_top(1));
  CHECK(y_of_text("validation loss") < frame_top(1));
  CHECK(y_of_text("validation BLEU") < frame_top(2));
  CHECK(svg.find(">0</text>") == std::string::npos);  // the BLEU axis spans 3.2–14.1, not from 0
  CHECK(well_formed_xml(tg::plot::curve_svg({})));  // no epochs yet: still a document
  CHECK(tg::plot::xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
  CHECK_FALSE(well_formed_xml("<svg><text>a & b</text></svg>"));  // the checker itself rejects raw '&'
  CHECK_FALSE(well_formed_xml("<svg><text>a</svg>"));
  const std::vector<double> ticks = tg::plot::nice_ticks(0.3, 4.7, 5);
  CHECK(ticks == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("metrics.csv is read by column name; indexed attention paths") {
  const std::string dir = temp_dir("metrics");
  // The harness's layout (train/harness.cpp: epoch, step, train_loss, the validation's values, lr, seconds),
  // here with the values in another order and one more: found by name.
  tg::write_text_file(dir + "/metrics.csv", "epoch,step,train_loss,val_bleu,val_loss,val_ppl,val_extra,lr,seconds\n"
                                            "1,454,4.5,12.25,3.9,49.4,7,0.001,600.5\n"
                                            "2,908,3.25,20.5,3.5,33.1,7,0.0005,610\n");
  const std::vector<tg::plot::EpochMetrics> back = tr::read_metrics_csv(dir + "/metrics.csv");
  REQUIRE(back.size() == 2);
  CHECK(back[1].step == 908);
  CHECK(back[1].val_bleu == 20.5);
  CHECK(back[1].val_loss == 3.5);
  CHECK(back[1].lr == 0.0005);
  CHECK(back[0].seconds == 600.5);
  tg::write_text_file(dir + "/bad.csv", "epoch,step\n1,2\n");
  CHECK_THROWS_WITH_AS(tr::read_metrics_csv(dir + "/bad.csv"), contains("no column \"train_loss\" in its header 'epoch,step'"),
                       tg::Error);
  tg::write_text_file(dir + "/short.csv", "epoch,step,train_loss,val_loss,val_ppl,val_bleu,lr,seconds\n1,2,3\n");
  CHECK_THROWS_WITH_AS(tr::read_metrics_csv(dir + "/short.csv"), contains("line 2: expected 8 columns (as the header), got 3"),
                       tg::Error);
  CHECK(tr::indexed_path("out/align.svg", 2, 3) == "out/align-2.svg");
  CHECK(tr::indexed_path("align.svg", 1, 1) == "align.svg");
  CHECK_THROWS_WITH_AS(tg::write_text_file(dir + "/no/such/dir/x.svg", "x"),
                       contains("cannot open '" + dir + "/no/such/dir/x.svg' for writing"), tg::Error);
}

// ---------------------------------------------------------------------------
// Evaluating any parallel files, standard input, non-finite training: the
// functions, then the program itself (run from the build directory beside
// this test)

namespace {

struct ProgramRun {
  int status = -1;
  std::string out, err;
};

// Runs `program arguments` (arguments already quoted for the shell), with `input` on standard input.
ProgramRun run_program(const std::string& program, const std::string& arguments, const std::string& input = "") {
  const std::string dir = temp_dir("program_run");
  const std::string in = dir + "/in", out = dir + "/out", err = dir + "/err";
  tg::write_text_file(in, input);
  const int raw = std::system(
      ("'" + program + "' " + arguments + " < '" + in + "' > '" + out + "' 2> '" + err + "'").c_str());
  ProgramRun run;
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  run.out = read_file(out);
  run.err = read_file(err);
  return run;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("translate eval --src --ref: raw parallel files are tokenized as Multi30k's and scored as a split") {
  const std::string dir = temp_dir("eval_files");
  const std::string data = data_dir();
  const size_t n = 6;
  // Raw files: the data set's own val.de / val.en when they are there (their lc.norm.tok lines are then
  // what the tokenizer must reproduce), else raw sentences made up here.
  std::vector<std::string> de, en;
  if (fs::exists(data + "/val.de.gz") && fs::exists(data + "/val.en.gz")) {
    de = tg::text::read_lines(data + "/val.de.gz");
    en = tg::text::read_lines(data + "/val.en.gz");
  } else {
    de = {"Ein Mann läuft.", "Ein roter Hund!", "Die Frau, der Hund.",
          "Zwei Männer", "Ein Hund läuft auf der Straße.", "„Rot“ (sehr)"};
    en = {"A man runs.", "A red dog!", "The woman, the dog.", "Two men", "A dog runs on the street.", "\"Red\" (very)"};
  }
  de.resize(n);
  en.resize(n);
  tg::text::write_lines(dir + "/news.de.gz", de);
  tg::text::write_lines(dir + "/news.en", en);

  const tr::SplitText text = tr::read_parallel_text(dir + "/news.de.gz", dir + "/news.en", 0);
  REQUIRE(text.src_tok.size() == n);
  CHECK(text.tgt_raw == en);
  for (size_t i = 0; i < n; ++i) {
    CHECK(text.src_tok[i] == tg::text::tokenize_line(de[i], "de"));
    CHECK(text.tgt_tok[i] == tg::text::tokenize_line(en[i], "en"));
  }
  if (fs::exists(data + "/val.de.gz")) {  // the same text as the split's preprocessed files
    const tr::SplitText split = tr::read_split(data, "val", static_cast<int64_t>(n), true);
    CHECK(text.src_tok == split.src_tok);
    CHECK(text.tgt_tok == split.tgt_tok);
    CHECK(text.tgt_raw == split.tgt_raw);
  }
  CHECK(tr::read_parallel_text(dir + "/news.de.gz", dir + "/news.en", 2).src_tok.size() == 2);

  // Both figures, as for a split: the same as scoring the hypotheses by hand.
  tr::Translator translator = tr::load_translator(trained_checkpoint());
  const tr::CorpusEvaluation result =
      tr::evaluate_text(*translator.model, translator.info.codec, translator.info.src_vocab, translator.info.tgt_vocab,
                        text, 1, 1.0);
  REQUIRE(result.detokenized.size() == n);
  CHECK(result.multi.str() == tg::text::multi_bleu(result.tokenized, text.tgt_tok, true).str());
  CHECK(result.sacre.str() == tg::text::sacre_bleu(result.detokenized, en).str());
  CHECK(result.multi.ref_len > 0);

  // Errors name the file and line.
  tg::text::write_lines(dir + "/short.en", {"A man."});
  CHECK_THROWS_WITH_AS(tr::read_parallel_text(dir + "/news.de.gz", dir + "/short.en", 0),
                       contains("'" + dir + "/news.de.gz' has 6 lines, '" + dir + "/short.en' has 1 lines"),
                       tg::Error);
  tg::write_text_file(dir + "/bad.de", "Ein Hund.\nab\xff\xfe\n");
  tg::text::write_lines(dir + "/two.en", {"A dog.", "ab"});
  CHECK_THROWS_WITH_AS(tr::read_parallel_text(dir + "/bad.de", dir + "/two.en", 0),
                       contains(dir + "/bad.de:2: invalid UTF-8 at byte 2 of the line (byte 0xFF)"), tg::Error);
  tg::text::write_lines(dir + "/empty.de", {"Ein Hund.", " "});
  CHECK_THROWS_WITH_AS(tr::read_parallel_text(dir + "/empty.de", dir + "/two.en", 0),
                       contains(dir + "/empty.de:2: the source line is empty"), tg::Error);

  // The command: the two figures, the hypotheses beside the checkpoint, and its option errors.
  const std::string program = translate_program();
  if (program.empty()) return;
  const std::string checkpoint = "--checkpoint '" + trained_checkpoint() + "'";
  const std::string files = " --src '" + dir + "/news.de.gz' --ref '" + dir + "/news.en'";
  const ProgramRun run = run_program(program, "eval " + checkpoint + files);
  CHECK_MESSAGE(run.status == 0, run.err);
  CHECK(run.out.find("multi-bleu.perl -lc (tokenized, lowercased, against '" + dir + "/news.en' tokenized as "
                     "Multi30k's lc.norm.tok):\n  " + result.multi.str() + "\n") != std::string::npos);
  CHECK(run.out.find("  " + result.sacre.str() + "\n  signature: nrefs:1|case:mixed|eff:no|tok:13a") !=
        std::string::npos);
  // named for the checkpoint, the input and the search
  const std::string hyps = (fs::path(trained_checkpoint()).parent_path() / "best.news.greedy.hyps.en").string();
  CHECK(tg::text::read_lines(hyps) == result.detokenized);
  const ProgramRun out = run_program(program, "eval " + checkpoint + files + " --out '" + dir + "/h.en.gz'");
  CHECK(out.status == 0);
  CHECK(tg::text::read_lines(dir + "/h.en.gz") == result.detokenized);

  const ProgramRun only_src = run_program(program, "eval " + checkpoint + " --src '" + dir + "/news.de.gz'");
  CHECK(only_src.status != 0);
  CHECK(only_src.err.find("--src requires --ref") != std::string::npos);
  const ProgramRun only_ref = run_program(program, "eval " + checkpoint + " --ref '" + dir + "/news.en'");
  CHECK(only_ref.status != 0);
  CHECK(only_ref.err.find("--ref requires --src") != std::string::npos);
  const ProgramRun both = run_program(program, "eval " + checkpoint + files + " --split val");
  CHECK(both.status != 0);
  CHECK(both.err.find("excludes") != std::string::npos);
  const ProgramRun uneven = run_program(program, "eval " + checkpoint + " --src '" + dir + "/news.de.gz' --ref '" +
                                                     dir + "/short.en'");
  CHECK(uneven.status == 1);
  CHECK(uneven.err.find("has 6 lines") != std::string::npos);
}

TEST_CASE("translate translate on standard input: invalid UTF-8 refused, empty lines answered with empty lines") {
  std::stringstream good("Ein Hund.\r\n\nZwei\n");
  CHECK(tr::read_input_lines(good, "standard input") == std::vector<std::string>{"Ein Hund.", "", "Zwei"});
  std::stringstream bad("Ein Hund.\n\xff\xfe\n");
  CHECK_THROWS_WITH_AS(tr::read_input_lines(bad, "standard input"),
                       contains("standard input:2: invalid UTF-8 at byte 0 of the line (byte 0xFF); expected UTF-8 "
                                "text"),
                       tg::Error);
  const auto kept = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Hund.", "", " \t", "Zwei."}, "line", 100, tr::EmptyInput::keep);
  REQUIRE(kept.size() == 4);
  CHECK(kept[1].empty());
  CHECK(kept[2].empty());
  CHECK(kept[3] == std::vector<std::string>{"zwei", "."});
  CHECK_THROWS_WITH_AS(tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Hund.", "x\xc3"}, "sentence", 100),
                       contains("sentence 2: invalid UTF-8 at byte 1 (byte 0xC3)"), tg::Error);

  const std::string program = translate_program();
  if (program.empty()) return;
  const std::string args = "translate --checkpoint '" + trained_checkpoint() + "'";
  const ProgramRun each = run_program(program, args + " 'Ein Hund.'");
  const ProgramRun stream = run_program(program, args, "Ein Hund.\n\nEin Hund.\n  \n");
  CHECK_MESSAGE(stream.status == 0, stream.err);
  const std::vector<std::string> lines = lines_of(stream.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] + "\n" == each.out);
  CHECK(lines[1].empty());
  CHECK(lines[2] == lines[0]);
  CHECK(lines[3].empty());

  const ProgramRun invalid = run_program(program, args, "Ein Hund.\nEin \xff\xfe Hund.\n");
  CHECK(invalid.status == 1);
  CHECK(invalid.out.empty());  // checked before anything is translated
  CHECK(invalid.err ==
        "error: standard input:2: invalid UTF-8 at byte 4 of the line (byte 0xFF); expected UTF-8 text\n");
  const ProgramRun empty_argument = run_program(program, args + " ''");  // arguments keep refusing empty sentences
  CHECK(empty_argument.status == 1);
  CHECK(empty_argument.err.find("sentence 1 is empty") != std::string::npos);
}

TEST_CASE("translate train: a non-finite loss or gradient norm stops before the update, naming the step") {
  // A NaN gradient injected at step 10 (epoch 2): clipping's norm catches it; epoch 1's checkpoint stays.
  const std::string dir = temp_dir("non_finite");
  tr::TrainOptions o = tiny_options("bahdanau", dir);
  o.epochs = 2;
  tr::TrainHooks hooks = silent();
  hooks.after_backward = [](int64_t step, const std::vector<tg::Tensor>& params) {
    if (step == 10) params[0].set_grad(tg::full(params[0].shape(), NAN, {params[0].dtype()}));
  };
  CHECK_THROWS_WITH_AS(tr::train(o, hooks),
                       contains("training stopped at epoch 2, step 10: the gradient norm is nan; this step's update "
                                "was not applied and nothing was saved; the last good checkpoint is '" +
                                dir + "/last.safetensors' (step 8)"),
                       tg::Error);
  const tr::CheckpointInfo last = tr::read_checkpoint_info(dir + "/last.safetensors");
  CHECK(last.position.step == 8);
  const tg::SafetensorsContents contents = tg::load_safetensors(dir + "/last.safetensors");
  int64_t non_finite = 0;
  for (const auto& [name, tensor] : contents.tensors)
    for (const double v : tensor.to_vector<double>()) non_finite += std::isfinite(v) ? 0 : 1;
  CHECK(contents.tensors.size() > 10);
  CHECK(non_finite == 0);
  CHECK(tr::load_translator(dir + "/last.safetensors").model != nullptr);

  // With --clip 0 there is no norm: the NaN update is caught before the checkpoint would hold it.
  const std::string dir0 = temp_dir("non_finite_noclip");
  tr::TrainOptions o0 = tiny_options("cho", dir0);
  o0.epochs = 1;
  o0.settings.clip = 0;
  hooks.after_backward = [](int64_t step, const std::vector<tg::Tensor>& params) {
    if (step == 8) params[0].set_grad(tg::full(params[0].shape(), NAN, {params[0].dtype()}));
  };
  CHECK_THROWS_WITH_AS(tr::train(o0, hooks),
                       contains("training stopped at epoch 1, step 8: the parameters are not finite (inf or nan) and "
                                "were not saved; no checkpoint was written yet"),
                       tg::Error);
  CHECK_FALSE(fs::exists(dir0 + "/last.safetensors"));
  CHECK_FALSE(fs::exists(dir0 + "/best.safetensors"));

  // The program, with an lr so large that the first update overflows: the loss of step 2 is nan.
  const std::string program = translate_program();
  if (program.empty()) return;
  const ProgramRun run = run_program(
      program, "train --model cho --embed 8 --hidden 8 --batch-size 16 --limit-train 64 --limit-val 4 --lr 1e30 "
               "--data-dir '" + o.data_dir + "' --checkpoint-dir '" + dir + "/huge_lr'");
  CHECK(run.status == 1);
  CHECK(run.err == "error: translate train: training stopped at epoch 1, step 2: the loss is nan; this step's update "
                   "was not applied and nothing was saved; no checkpoint was written yet\n");
  CHECK_FALSE(fs::exists(dir + "/huge_lr/last.safetensors"));
}

TEST_CASE("translate train --precision: rounded products move the losses a little; fp16 skips overflowing steps and "
          "resumes with its loss scale") {
  // The losses of 6 steps, checking that the checkpoint names the precision.
  auto losses_at = [](const std::string& precision) {
    const std::string dir = temp_dir("precision_" + precision);
    tr::TrainOptions o = tiny_options("bahdanau", dir);
    o.settings.precision = precision;
    o.max_steps = 6;
    const std::vector<double> losses = tr::train(o, silent()).losses;
    CHECK(tr::read_checkpoint_info(dir + "/last.safetensors").settings.precision == precision);
    return losses;
  };
  const std::vector<double> fp32 = losses_at("fp32");
  for (const std::string precision : {"tf32", "bf16", "fp16"}) {
    CAPTURE(precision);
    const std::vector<double> rounded = losses_at(precision);
    REQUIRE(rounded.size() == fp32.size());
    // The products did round (bf16: where this processor's bfloat16 products are faster; else float32's)
    const auto runs_at = tg::training_precision(tg::parse_matmul_precision(precision), tg::Device::cpu()).precision;
    CHECK((rounded != fp32) == (runs_at != tg::MatmulPrecision::fp32));
    for (size_t i = 0; i < fp32.size(); ++i) CHECK(std::abs(rounded[i] - fp32[i]) < 0.01 * fp32[i]);
  }
  CHECK(tg::matmul_precision() == tg::MatmulPrecision::fp32);  // training restored the setting

  // fp16: an inf gradient at step 3 skips that update (the parameters stay), halves the scale, and training goes on.
  const std::string dir_a = temp_dir("fp16_overflow_a");
  tr::TrainOptions a = tiny_options("cho", dir_a);
  a.settings.precision = "fp16";
  a.max_steps = 6;
  std::vector<std::vector<double>> seen;  // parameters 0 as backward left them, steps 3 and 4
  tr::TrainHooks hooks = silent();
  hooks.after_backward = [&](int64_t step, const std::vector<tg::Tensor>& params) {
    if (step == 3 || step == 4) seen.push_back(params[0].to_vector<double>());
    if (step == 3) params[0].set_grad(tg::full(params[0].shape(), INFINITY, {params[0].dtype()}));
  };
  const tr::TrainResult full = tr::train(a, hooks);
  REQUIRE(full.losses.size() == 6);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == seen[1]);  // step 3 changed nothing
  const tr::CheckpointInfo info = tr::read_checkpoint_info(dir_a + "/last.safetensors");
  CHECK(info.loss_scale.scale == 32768.0);  // 2¹⁶, halved once
  CHECK(info.loss_scale.good_steps == 3);

  // Stopped after step 4 and resumed: the same losses, and the halved scale carried over.
  const std::string dir_b = temp_dir("fp16_overflow_b");
  tr::TrainOptions b = tiny_options("cho", dir_b);
  b.settings.precision = "fp16";
  b.max_steps = 4;
  hooks.after_backward = [](int64_t step, const std::vector<tg::Tensor>& params) {
    if (step == 3) params[0].set_grad(tg::full(params[0].shape(), INFINITY, {params[0].dtype()}));
  };
  std::vector<double> joined = tr::train(b, hooks).losses;
  CHECK(tr::read_checkpoint_info(dir_b + "/last.safetensors").loss_scale.scale == 32768.0);
  b.resume = true;
  b.max_steps = 6;
  b.settings.precision = "fp32";  // ignored on resume: the checkpoint's precision is used
  const std::vector<double> rest = tr::train(b, silent()).losses;
  joined.insert(joined.end(), rest.begin(), rest.end());
  CHECK(joined == full.losses);
  const tr::CheckpointInfo resumed = tr::read_checkpoint_info(dir_b + "/last.safetensors");
  CHECK(resumed.settings.precision == "fp16");
  CHECK(resumed.loss_scale.scale == 32768.0);
  CHECK(resumed.loss_scale.good_steps == 3);
  check_same_tensors(dir_a + "/last.safetensors", dir_b + "/last.safetensors");
}

TEST_CASE("translate train --precision bf16: 200 steps (48 sanitized) within 0.5% of float32's losses; stop and resume are exact") {
  const int64_t steps = test_support::sanitized_run() ? 48 : 200, stop_at = steps * 3 / 5;
  auto train_steps = [](const std::string& precision, const std::string& dir, int64_t steps, bool resume) {
    tr::TrainOptions o = tiny_options("bahdanau", dir);
    o.settings.precision = precision;
    o.epochs = 25;  // 8 steps an epoch
    o.max_steps = steps;
    o.resume = resume;
    return tr::train(o, silent()).losses;
  };
  const std::vector<double> fp32 = train_steps("fp32", temp_dir("bf16_200_fp32"), steps, false);
  const std::string dir = temp_dir("bf16_200");
  const std::vector<double> bf16 = train_steps("bf16", dir, steps, false);
  REQUIRE(int64_t(fp32.size()) == steps);
  REQUIRE(int64_t(bf16.size()) == steps);
  double worst = 0;  // the largest relative difference of a step's loss
  for (size_t i = 0; i < fp32.size(); ++i) worst = std::max(worst, std::abs(bf16[i] - fp32[i]) / fp32[i]);
  MESSAGE("bf16 against float32 over " << steps << " steps: largest relative loss difference " << worst << ", last losses "
                                                                                   << bf16.back() << " / " << fp32.back());
  // The products did run in bfloat16, where this processor's are faster than float32 (else float32's, exactly).
  const bool rounds = tg::training_precision(tg::MatmulPrecision::bf16, tg::Device::cpu()).precision ==
                      tg::MatmulPrecision::bf16;
  CHECK((worst > 0) == rounds);
  CHECK(worst < 0.005);  // and stayed within 0.5% of float32 at every step (1.5e-4 seen on an AMD Zen 4)
  // and trained (the synthetic corpus, without Multi30k, reaches 0.8 in 200 steps)
  if (steps == 200) CHECK(bf16.back() < 0.85 * bf16.front());
  // Stopped after 3/5 of the steps and resumed to the end: the same losses and tensors as straight through.
  const std::string split = temp_dir("bf16_200_split");
  std::vector<double> joined = train_steps("bf16", split, stop_at, false);
  const std::vector<double> rest = train_steps("bf16", split, steps, true);
  joined.insert(joined.end(), rest.begin(), rest.end());
  CHECK(joined == bf16);
  check_same_tensors(dir + "/last.safetensors", split + "/last.safetensors");
}

// ---------------------------------------------------------------------------
// Nothing the user saved is overwritten, nothing runs away.

TEST_CASE("translate train: a run folder is claimed: a finished run is kept, a second run is refused, SIGTERM saves") {
  const std::string program = translate_program();
  if (program.empty()) return;
  const std::string dir = temp_dir("run_folder");
  const auto tiny_in = [&](const std::string& folder) {
    return "train --model cho --embed 8 --hidden 8 --batch-size 16 --limit-train 64 --limit-val 4 --data-dir '" +
           data_dir() + "' --checkpoint-dir '" + folder + "'";
  };
  const std::string tiny = tiny_in(dir + "/run") + " --epochs 1";
  const ProgramRun first = run_program(program, tiny);
  REQUIRE_MESSAGE(first.status == 0, first.err);
  const std::string last_before = read_file(dir + "/run/last.safetensors");
  const std::string metrics_before = read_file(dir + "/run/metrics.csv");

  // A new run on the folder of a finished one: refused, nothing touched.
  const ProgramRun again = run_program(program, tiny + " --seed 3");
  CHECK(again.status == 1);
  CHECK(again.err.find("holds a run already (last.safetensors, best.safetensors, metrics.csv, curve.svg, "
                       "language_id.json); continue it with --resume, replace it with --overwrite") != std::string::npos);
  CHECK(read_file(dir + "/run/last.safetensors") == last_before);
  CHECK(read_file(dir + "/run/metrics.csv") == metrics_before);
  // --overwrite replaces it, eval's hypotheses beside the old checkpoints included;
  // with --resume it is a usage error.
  tg::write_text_file(dir + "/run/best.test_2016_flickr.greedy.hyps.en", "the old run's\n");
  const ProgramRun overwrite = run_program(program, tiny + " --seed 3 --overwrite");
  CHECK_MESSAGE(overwrite.status == 0, overwrite.err);
  CHECK(read_file(dir + "/run/last.safetensors") != last_before);
  CHECK_FALSE(std::filesystem::exists(dir + "/run/best.test_2016_flickr.greedy.hyps.en"));
  CHECK(run_program(program, tiny + " --overwrite --resume").status != 0);

  // While one run holds the folder, a second is refused at once, naming the first's pid.
  {
    tg::train::RunDirectory held(dir + "/run", {.resume = true});
    const ProgramRun second = run_program(program, tiny_in(dir + "/run") + " --resume --epochs 2");
    CHECK(second.status == 1);
    CHECK(second.err.find("another run (pid " + std::to_string(::getpid()) + ") is writing to '" + dir + "/run'") !=
          std::string::npos);
  }
  // A resumed run keeps the language identifier it has (here one of fewer lines, to tell them apart).
  tr::learn_language_identifier(data_dir(), 10).save(dir + "/run/language_id.json");
  const std::string identifier_before = read_file(dir + "/run/language_id.json");
  CHECK(run_program(program, tiny_in(dir + "/run") + " --resume --epochs 2").status == 0);  // released with the holder
  CHECK(read_file(dir + "/run/language_id.json") == identifier_before);

  // A folder that cannot be made is reported before any data is read.
  tg::write_text_file(dir + "/a_file", "x");
  const ProgramRun unwritable = run_program(program, tiny_in(dir + "/a_file/run"));
  CHECK(unwritable.status == 1);
  CHECK(unwritable.err.find("cannot create the run folder '" + dir + "/a_file/run'") != std::string::npos);
  CHECK(unwritable.out.find("data:") == std::string::npos);
  if (::geteuid() != 0) {  // root writes anywhere: the permission check only means something for a user
    fs::create_directories(dir + "/read_only");
    fs::permissions(dir + "/read_only", fs::perms::owner_read | fs::perms::owner_exec);
    const ProgramRun denied = run_program(program, tiny_in(dir + "/read_only"));
    CHECK(denied.status == 1);
    CHECK(denied.err.find("cannot write in the run folder") != std::string::npos);
    fs::permissions(dir + "/read_only", fs::perms::owner_all);
  }

  // SIGTERM, as a scheduler sends before it kills a job: the run saves and stops, as for Ctrl-C.
  const std::string term_dir = dir + "/term";
  const std::string script =
      "'" + program + "' train --model cho --embed 8 --hidden 8 --batch-size 4 --limit-train 2000 --limit-val 4 "
      "--epochs 2000 --data-dir '" + data_dir() + "' --checkpoint-dir '" + term_dir + "' > '" + dir + "/term.out' 2> '" +
      dir + "/term.err' & pid=$!; i=0; while [ ! -s '" + term_dir + "/.lock' ] && [ $i -lt 600 ]; do sleep 0.05; "
      "i=$((i+1)); done; sleep 0.5; kill -TERM $pid; wait $pid; echo $? > '" + dir + "/term.status'";
  REQUIRE(std::system(script.c_str()) == 0);
  CHECK(read_file(dir + "/term.status") == "0\n");
  CHECK(read_file(dir + "/term.err").find("terminated (SIGTERM): stopping after this batch and saving") !=
        std::string::npos);
  // Mid-epoch ("stopped at epoch E, batch B/N") or, when the signal lands during validation, after the epoch
  // ("stopped after epoch E"): where it lands is the scheduler's timing, and both save.
  const std::string term_out = read_file(dir + "/term.out");
  CHECK_MESSAGE((term_out.find("stopped at epoch ") != std::string::npos ||
                 term_out.find("stopped after epoch ") != std::string::npos),
                term_out.substr(term_out.size() > 400 ? term_out.size() - 400 : 0));
  CHECK(fs::exists(term_dir + "/last.safetensors"));
  CHECK(tg::load_safetensors(term_dir + "/last.safetensors").metadata.count("run.step") == 1);
  CHECK(tr::LanguageIdentifier::load(term_dir + "/language_id.json").sentences("de") > 0);  // saved with last, too
}

TEST_CASE("translate langid: for a checkpoint without one, the file train saves; nothing replaced unasked") {
  const std::string program = translate_program();
  if (program.empty()) return;
  const std::string saved_by_train = tr::language_identifier_path(trained_checkpoint());
  REQUIRE(fs::exists(saved_by_train));
  const std::string dir = temp_dir("langid_command");
  const std::string checkpoint = dir + "/model.safetensors";
  fs::copy_file(trained_checkpoint(), checkpoint);
  const std::string beside = "langid --checkpoint '" + checkpoint + "' --data-dir '" + data_dir() + "'";
  const ProgramRun made = run_program(program, beside);
  REQUIRE_MESSAGE(made.status == 0, made.err);
  CHECK(made.out.find("wrote " + dir + "/language_id.json (de from 128 and en from 128 training sentences") == 0);
  // The checkpoint's --limit-train, read from it: byte for byte what training wrote.
  CHECK(read_file(dir + "/language_id.json") == read_file(saved_by_train));
  // Again: refused, the file untouched; --overwrite replaces it.
  tg::write_text_file(dir + "/language_id.json", "kept");
  const ProgramRun again = run_program(program, beside);
  CHECK(again.status == 1);
  CHECK(again.err.find("--out '" + dir + "/language_id.json' already exists; pass --overwrite") != std::string::npos);
  CHECK(read_file(dir + "/language_id.json") == "kept");
  CHECK(run_program(program, beside + " --overwrite").status == 0);
  CHECK(read_file(dir + "/language_id.json") == read_file(saved_by_train));
  // --out anywhere, --limit of the lines; the checkpoint itself is never the output.
  const ProgramRun limited = run_program(program, "langid --out '" + dir + "/ten.json' --limit 10 --data-dir '" + data_dir() + "'");
  REQUIRE_MESSAGE(limited.status == 0, limited.err);
  CHECK(tr::LanguageIdentifier::load(dir + "/ten.json").sentences("en") == 10);
  const ProgramRun onto = run_program(program, beside + " --out '" + checkpoint + "' --overwrite");
  CHECK(onto.status == 1);
  CHECK(onto.err.find("--out '" + checkpoint + "' is the --checkpoint file") != std::string::npos);
  const ProgramRun neither = run_program(program, "langid --data-dir '" + data_dir() + "'");
  CHECK(neither.status == 1);
  CHECK(neither.err.find("langid: give --checkpoint (the identifier is written beside it) or --out") != std::string::npos);
}

TEST_CASE("translate eval and the option parser: inputs are never overwritten, runaway work is refused") {
  const std::string program = translate_program();
  if (program.empty()) return;
  const std::string dir = temp_dir("eval_guards");
  tg::text::write_lines(dir + "/news.de", {"Ein Hund läuft.", "Eine Frau."});
  tg::text::write_lines(dir + "/news.en", {"A dog runs.", "A woman."});
  const std::string checkpoint = "--checkpoint '" + trained_checkpoint() + "'";
  const std::string files = " --src '" + dir + "/news.de' --ref '" + dir + "/news.en'";
  for (const std::string target : {"news.de", "news.en"}) {
    const ProgramRun onto = run_program(program, "eval " + checkpoint + files + " --out '" + dir + "/" + target + "'");
    CHECK(onto.status == 1);
    CHECK(onto.err.find("the hypotheses would overwrite it") != std::string::npos);
  }
  CHECK(tg::text::read_lines(dir + "/news.de") == std::vector<std::string>{"Ein Hund läuft.", "Eine Frau."});
  // An --out no file can be written to is refused before decoding, naming the folder.
  const ProgramRun nowhere = run_program(program, "eval " + checkpoint + files + " --out /nonexistent/x");
  CHECK(nowhere.status == 1);
  CHECK(nowhere.err.find("--out '/nonexistent/x': the folder '/nonexistent' does not exist") != std::string::npos);
  CHECK(nowhere.out.find("translating") == std::string::npos);
  // average --out onto a checkpoint that exists (here a run's best) is refused without --overwrite.
  const std::string kept = dir + "/best.safetensors";
  fs::copy_file(trained_checkpoint(), kept);
  const std::string before = read_file(kept);
  const std::string average = "average '" + trained_checkpoint() + "' '" + trained_checkpoint() + "' --out '" + kept + "'";
  const ProgramRun refused = run_program(program, average);
  CHECK(refused.status == 1);
  CHECK(refused.err.find("--out '" + kept + "' already exists; pass --overwrite to replace it") != std::string::npos);
  CHECK(read_file(kept) == before);
  const ProgramRun replaced = run_program(program, average + " --overwrite");
  CHECK(replaced.status == 0);
  CHECK(replaced.out.find("wrote the average of 2 checkpoints to") != std::string::npos);
  // Default names say what made them: a beam search does not replace the greedy file.
  const std::string folder = fs::path(trained_checkpoint()).parent_path().string();
  REQUIRE(run_program(program, "eval " + checkpoint + files).status == 0);
  REQUIRE(run_program(program, "eval " + checkpoint + files + " --beam 3").status == 0);
  CHECK(fs::exists(folder + "/best.news.greedy.hyps.en"));
  CHECK(fs::exists(folder + "/best.news.beam3.hyps.en"));

  // A source line far longer than a sentence, and a beam far larger than useful: refused before decoding.
  std::string long_line;
  for (int i = 0; i < 5000; ++i) long_line += "hund ";
  tg::text::write_lines(dir + "/long.de", {"Ein Hund.", long_line});
  tg::text::write_lines(dir + "/long.en", {"A dog.", "dogs"});
  const std::string long_files = " --src '" + dir + "/long.de' --ref '" + dir + "/long.en'";
  const ProgramRun too_long = run_program(program, "eval " + checkpoint + long_files);
  CHECK(too_long.status == 1);
  CHECK(too_long.err.find("line 2 of '" + dir + "/long.de' has 5000 tokens; the limit is 100 (--max-tokens)") !=
        std::string::npos);
  CHECK(run_program(program, "eval " + checkpoint + long_files + " --max-tokens 5000 --limit 1").status == 0);
  const ProgramRun huge_beam = run_program(program, "eval " + checkpoint + files + " --beam 100000");
  CHECK(huge_beam.status == 1);
  CHECK(huge_beam.err.find("--beam 100000 is more than --max-beam 100") != std::string::npos);
  const ProgramRun just_over = run_program(program, "translate " + checkpoint + " --beam 101 'Ein Hund.'");
  CHECK(just_over.status == 1);
  CHECK(just_over.err.find("(with a 10,000-word vocabulary, 4.0 MB of float32 for this beam)") != std::string::npos);

  // A checkpoint whose output layer holds a nan (written with valid checksums) is refused, not translated to "".
  tg::SafetensorsContents nan_file = tg::load_safetensors(trained_checkpoint());
  bool planted = false;
  for (auto& [name, t] : nan_file.tensors)
    if (name == "decoder.out.weight") {
      t.data<float>()[5] = NAN;
      planted = true;
    }
  REQUIRE(planted);
  tg::save_safetensors(dir + "/nan.safetensors", nan_file.tensors, nan_file.metadata);
  const ProgramRun nan_run = run_program(program, "translate --checkpoint '" + dir + "/nan.safetensors' 'Ein Hund.'");
  CHECK(nan_run.status == 1);
  CHECK(nan_run.err.find("decoder.out.weight holds 1 non-finite value") != std::string::npos);
  CHECK(nan_run.out.empty());

  // The option parser's messages: a readable bound, the unknown command named, too many threads noted.
  const ProgramRun zero_epochs = run_program(program, "train --epochs 0");
  CHECK(zero_epochs.status != 0);
  CHECK(zero_epochs.err.find("--epochs: must be positive, got 0") != std::string::npos);
  CHECK(zero_epochs.err.size() < 200);  // no 309-digit bound
  const ProgramRun fly = run_program(program, "fly");
  CHECK(fly.status == 2);
  CHECK(fly.err.find("unknown command 'fly': expected one of train, eval, translate") != std::string::npos);
  const ProgramRun threads = run_program(program, "translate " + checkpoint + " --threads 1000 'Ein Hund.'");
  CHECK(threads.status == 0);
  CHECK(threads.err.find("warning: --threads 1000 is more than the") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Subword vocabularies.

TEST_CASE("translate train --vocab subword: models in the checkpoint, exact resume, cased detokenized output") {
  if (data_dir() != test_support::multi30k_dir() || !fs::exists(data_dir() + "/train.de.gz")) {
    MESSAGE("no raw Multi30k files in '" << test_support::multi30k_dir() << "': the subword checks need them");
    return;
  }
  const int64_t total = 13;
  const auto subword_options = [](const std::string& dir) {
    tr::TrainOptions o = tiny_options("bahdanau", dir);
    o.vocab = "subword";
    o.subword.vocab_size = 300;
    o.settings.label_smoothing = 0.1;
    return o;
  };
  const std::string dir_a = temp_dir("subword_a");
  tr::TrainOptions a = subword_options(dir_a);
  a.max_steps = total;
  const tr::TrainResult full = tr::train(a, silent());
  REQUIRE(full.losses.size() == static_cast<size_t>(total));

  const std::string dir_b = temp_dir("subword_b");
  tr::TrainOptions b = subword_options(dir_b);
  b.max_steps = 5;
  const tr::TrainResult first = tr::train(b, silent());
  b.max_steps = total;
  b.resume = true;
  b.subword.vocab_size = 999;  // ignored on resume: the checkpoint's models are used
  const tr::TrainResult second = tr::train(b, silent());
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  CHECK(joined == full.losses);
  check_same_tensors(dir_a + "/last.safetensors", dir_b + "/last.safetensors");

  // The checkpoint is self-contained: the models, their pieces as vocabularies, the smoothing.
  const tr::CheckpointInfo info = tr::read_checkpoint_info(dir_b + "/last.safetensors");
  REQUIRE(info.codec.is_subword());
  CHECK(info.src_vocab.size() == 300);
  CHECK(info.codec.target_model().pieces() == info.tgt_vocab.tokens());
  CHECK(info.settings.label_smoothing == 0.1);
  // A checkpoint written back from what was read is the same file's content.
  const tg::SafetensorsContents file = tg::load_safetensors(dir_b + "/last.safetensors");
  CHECK(tr::checkpoint_metadata(info).at("subword.src") == file.metadata.at("subword.src"));

  // Output: cased and detokenized by the target model; the tokenized form for multi-bleu is lowercase.
  tr::Translator translator = tr::load_translator(dir_b + "/last.safetensors");
  const std::vector<std::string> pieces = info.codec.target_tokens("A man rides a bike, fast.");
  CHECK(info.codec.target_text(pieces) == "A man rides a bike, fast.");
  CHECK(info.codec.target_tokenized(pieces) == "a man rides a bike , fast .");
  CHECK(info.codec.display("\xE2\x96\x81Mann") == "Mann");
  CHECK(info.codec.display("t") == "\xC2\xB7t");
  const tr::Translation t = tr::translate_sentences(
      translator, tr::prepare_sources(info.codec, {"Ein Mann fährt Fahrrad."}, "sentence", 100), 1, 1.0, true)[0];
  CHECK(t.text == info.codec.target_text(t.target_tokens));
  const std::string svg = tr::translation_attention_svg(t, translator);
  CHECK(svg.find("\xE2\x96\x81") == std::string::npos);  // pieces shown without SentencePiece's marks

  // eval on a split scores the decoded sentences; a corrupted model in the checkpoint is refused by name.
  const tr::SplitText val = tr::read_split(data_dir(), "val", 8, true);
  const tr::CorpusEvaluation result =
      tr::evaluate_text(*translator.model, info.codec, info.src_vocab, info.tgt_vocab, val, 1, 1.0);
  REQUIRE(result.detokenized.size() == 8);
  for (size_t i = 0; i < 8; ++i) CHECK(result.tokenized[i] == tg::text::tokenize_line(result.detokenized[i], "en"));
  tg::nn::Metadata broken = tr::checkpoint_metadata(info);
  broken["subword.tgt"] = broken["subword.src"];  // German pieces are not the English vocabulary
  CHECK_THROWS_WITH_AS(tr::parse_checkpoint_metadata(broken, "x.safetensors"),
                       contains("checkpoint 'x.safetensors' (subword.tgt): its 300 pieces are not the 300 tokens"),
                       tg::Error);
}

TEST_CASE("translate average: N copies give the checkpoint back; two give their mean; other models are refused") {
  const std::string dir = temp_dir("average");
  const std::string one = trained_checkpoint();
  tr::average_checkpoints({one, one, one}, dir + "/three.safetensors");
  const tg::SafetensorsContents original = tg::load_safetensors(one), averaged = tg::load_safetensors(dir + "/three.safetensors");
  int compared = 0;
  for (const auto& entry : averaged.tensors) {  // no structured binding: clang 14 cannot capture one in CHECK
    const std::string& name = entry.first;
    const tg::Tensor& t = entry.second;
    const tg::Tensor* o = original.find(name);
    REQUIRE_MESSAGE(o != nullptr, name);
    CHECK_MESSAGE(o->to_vector<float>() == t.to_vector<float>(), name);  // bit for bit
    ++compared;
  }
  CHECK(compared > 10);
  CHECK(tr::read_checkpoint_info(dir + "/three.safetensors").src_vocab == tr::read_checkpoint_info(one).src_vocab);

  // Two checkpoints of one run: the mean, element by element.
  const std::string run = temp_dir("average_run");
  tr::TrainOptions o = tiny_options("cho", run);
  o.epochs = 2;
  o.keep_epochs = true;
  tr::train(o, silent());
  tr::average_checkpoints({run + "/epoch-1.safetensors", run + "/epoch-2.safetensors"}, dir + "/mean.safetensors");
  const tg::SafetensorsContents e1 = tg::load_safetensors(run + "/epoch-1.safetensors"),
                                e2 = tg::load_safetensors(run + "/epoch-2.safetensors"),
                                mean = tg::load_safetensors(dir + "/mean.safetensors");
  const std::vector<float> a = e1.find("decoder.out.weight")->to_vector<float>(),
                           b = e2.find("decoder.out.weight")->to_vector<float>(),
                           m = mean.find("decoder.out.weight")->to_vector<float>();
  REQUIRE(a.size() == m.size());
  for (size_t i = 0; i < a.size(); i += 97)
    CHECK(m[i] == static_cast<float>((static_cast<double>(a[i]) + static_cast<double>(b[i])) / 2));
  CHECK(a != b);

  CHECK_THROWS_WITH_AS(tr::average_checkpoints({one, run + "/epoch-1.safetensors"}, dir + "/x.safetensors"),
                       contains("is not a checkpoint of the model of"), tg::Error);
  CHECK_THROWS_WITH_AS(tr::average_checkpoints({one}, one), contains("is one of the checkpoints being averaged"),
                       tg::Error);

  // A tied and an untied model: the difference is named, not a failed broadcast.
  tr::CheckpointInfo tied = tr::read_checkpoint_info(one);
  REQUIRE_FALSE(tied.config.tie_embeddings);
  tied.config.tie_embeddings = true;
  const std::unique_ptr<tr::Seq2Seq> tied_model = tr::make_model(tied.config, 1);
  tr::save_model_checkpoint(dir + "/tied.safetensors", *tied_model, tied);
  CHECK_THROWS_WITH_AS(tr::average_checkpoints({one, dir + "/tied.safetensors"}, dir + "/x.safetensors"),
                       contains("the first does not tie its target embedding to the output layer (--tie-embeddings), "
                                "this one does"),
                       tg::Error);
}

TEST_CASE("ensembles: of one model or of copies it translates as the model; of two it averages log-probabilities") {
  const std::string one = trained_checkpoint();
  tr::Translator single = tr::load_translator(one);
  const std::vector<std::string> sentences = {"Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee.",
                                              "Eine Frau mit einem roten Hut."};
  const auto sources = tr::prepare_sources(single.info.codec, sentences, "sentence", 100);
  for (const int64_t beam : {1, 3}) {
    CAPTURE(beam);
    const auto expected = tr::translate_sentences(single, sources, beam, 1.0, false);
    for (const size_t copies : {1, 2}) {
      tr::Translator ensemble = tr::load_translators(std::vector<std::string>(copies, one));
      const auto got = tr::translate_sentences(ensemble, sources, beam, 1.0, false);
      for (size_t i = 0; i < sentences.size(); ++i) CHECK(got[i].target_tokens == expected[i].target_tokens);
    }
  }
  // Two different models: one step's scores are the mean of theirs.
  const std::string dir = temp_dir("ensemble");
  tr::TrainOptions o = tiny_options("bahdanau", dir);
  o.epochs = 1;
  o.settings.seed = 99;
  tr::train(o, silent());
  tr::Translator other = tr::load_translator(dir + "/best.safetensors");
  tr::Translator pair = tr::load_translators({one, dir + "/best.safetensors"});
  const std::vector<tg::text::Example> examples = {{single.info.src_vocab.encode(sources[0]), {}}};
  const tg::text::Batch batch = tg::text::make_batch(examples, {0});
  tg::NoGrad no_grad;
  const tr::Encoded e1 = single.model->encode(batch.src, batch.src_lengths, batch.src_mask);
  const tr::Encoded e2 = other.model->encode(batch.src, batch.src_lengths, batch.src_mask);
  const tr::Encoded both = pair.model->encode(batch.src, batch.src_lengths, batch.src_mask);
  const tg::Tensor bos = tg::index_tensor({tg::text::Vocab::bos_id});
  const tr::Step s1 = single.model->step(e1, bos, e1.initial_hidden), s2 = other.model->step(e2, bos, e2.initial_hidden);
  const tr::Step s = pair.model->step(both, bos, both.initial_hidden);
  const std::vector<float> a = s1.log_probs.to_vector<float>(), b = s2.log_probs.to_vector<float>(),
                           m = s.log_probs.to_vector<float>();
  REQUIRE(a.size() == m.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(m[i] == doctest::Approx((a[i] + b[i]) / 2).epsilon(1e-6));
  CHECK(a != b);
  CHECK(s.hidden.size(1) == s1.hidden.size(1) + s2.hidden.size(1));
  CHECK_THROWS_WITH_AS(tr::load_translators({one, temp_dir("none") + "/x.safetensors"}), contains("does not exist"),
                       tg::Error);
}

TEST_CASE("translate train --tie-embeddings: the checkpoint says so and loads; older checkpoints read as untied") {
  const std::string dir = temp_dir("tied");
  tr::TrainOptions o = tiny_options("bahdanau", dir);
  o.epochs = 1;
  o.model.tie_embeddings = true;
  tr::train(o, silent());
  const tr::CheckpointInfo info = tr::read_checkpoint_info(dir + "/best.safetensors");
  CHECK(info.config.tie_embeddings);
  tr::Translator t = tr::load_translator(dir + "/best.safetensors");
  CHECK(!tr::translate_sentences(t, {{"ein", "hund", "."}}, 1, 1.0, false)[0].target_tokens.empty());
  tg::nn::Metadata old = tr::checkpoint_metadata(tr::read_checkpoint_info(trained_checkpoint()));
  old.erase("model.tie_embeddings");
  CHECK_FALSE(tr::parse_checkpoint_metadata(old, "old.safetensors").config.tie_embeddings);
  old["model.tie_embeddings"] = "yes";
  CHECK_THROWS_WITH_AS(tr::parse_checkpoint_metadata(old, "old.safetensors"),
                       contains("model.tie_embeddings must be true or false, got 'yes'"), tg::Error);
}

TEST_CASE("translate with a transformer: train, translate with attention, beam, eval, average, ensemble, post-norm") {
  const std::string dir = temp_dir("transformer_cli");
  tr::TrainOptions o = tiny_options("transformer", dir);
  o.model.layers = 2;
  o.model.heads = 3;
  o.model.tie_embeddings = true;
  o.epochs = 2;
  o.keep_epochs = true;
  const tr::TrainResult trained = tr::train(o, silent());
  CHECK(trained.metrics.size() == 2);
  const tr::CheckpointInfo info = tr::read_checkpoint_info(dir + "/best.safetensors");
  CHECK(info.config.kind == "transformer");
  CHECK(info.config.layers == 2);
  CHECK(info.config.heads == 3);
  CHECK(info.config.norm_first);
  tr::Translator translator = tr::load_translator(dir + "/best.safetensors");
  const auto sources = tr::prepare_sources(tg::text::TextCodec::words(), {"Ein Mann läuft.", "Zwei Hunde spielen im Park."},
                                           "line", 100);
  for (int64_t beam : {1, 3}) {
    CAPTURE(beam);
    const std::vector<tr::Translation> batched = tr::translate_sentences(translator, sources, beam, 1.0, true, 2);
    for (size_t i = 0; i < sources.size(); ++i) {
      REQUIRE(batched[i].attention.defined());  // the last decoder layer's attention over the source
      CHECK(batched[i].attention.size(1) == static_cast<int64_t>(sources[i].size()));
      CHECK(batched[i].target_tokens == tr::translate_tokens(translator, sources[i], beam, 1.0).target_tokens);
    }
    CHECK(well_formed_xml(tr::translation_attention_svg(batched[0], translator)));
  }
  const tr::SplitText val = tr::read_split(data_dir(), "val", 8, true);
  const tr::CorpusEvaluation result = tr::evaluate_text(*translator.model, info.codec, info.src_vocab, info.tgt_vocab,
                                                        val, 2, 1.0);
  CHECK(result.detokenized.size() == 8);
  // Averaging two epochs, and an ensemble of the two.
  tr::average_checkpoints({dir + "/epoch-1.safetensors", dir + "/epoch-2.safetensors"}, dir + "/mean.safetensors");
  CHECK(tr::read_checkpoint_info(dir + "/mean.safetensors").config.layers == 2);
  tr::Translator pair = tr::load_translators({dir + "/epoch-1.safetensors", dir + "/epoch-2.safetensors"});
  CHECK(tr::translate_sentences(pair, sources, 3, 1.0, false).size() == 2);
  // A post-norm transformer of other sizes is another model: averaging refuses it.
  const std::string post = temp_dir("transformer_post");
  tr::TrainOptions p = tiny_options("transformer", post);
  p.model.norm_first = false;
  p.epochs = 1;
  tr::train(p, silent());
  CHECK_FALSE(tr::read_checkpoint_info(post + "/best.safetensors").config.norm_first);
  CHECK_THROWS_WITH_AS(tr::average_checkpoints({dir + "/best.safetensors", post + "/best.safetensors"},
                                               dir + "/x.safetensors"),
                       contains("is not a checkpoint of the model of"), tg::Error);
}

TEST_CASE("translate eval/translate --quantize int8: most translations equal float32's; the file says int8") {
  const std::string program = translate_program();
  if (program.empty()) return;
  if (!test_support::have_multi30k()) {
    MESSAGE("skipped: Multi30k not found (the int8 check decodes its val split)");
    return;
  }
  const std::string dir = temp_dir("int8_eval");
  const std::string checkpoint = dir + "/best.safetensors";
  fs::copy_file(trained_checkpoint(), checkpoint);
  const std::string common = "eval --checkpoint '" + checkpoint + "' --split val --limit 200 --data-dir '" + data_dir() + "'";
  const ProgramRun exact = run_program(program, common);
  const ProgramRun int8 = run_program(program, common + " --quantize int8");
  REQUIRE(exact.status == 0);
  REQUIRE(int8.status == 0);
  CHECK(int8.err.find("decoding with int8 weights (--quantize int8)") != std::string::npos);
  CHECK(int8.out.find("best.val.greedy-int8.hyps.en") != std::string::npos);  // beside the float32 run's file
  const std::vector<std::string> a = tg::text::read_lines(dir + "/best.val.greedy.hyps.en");
  const std::vector<std::string> b = tg::text::read_lines(dir + "/best.val.greedy-int8.hyps.en");
  REQUIRE(a.size() == 200);
  REQUIRE(b.size() == 200);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  MESSAGE("int8 decoding of the tiny trained model: " << same << " of 200 val translations equal float32's");
  // The tiny model (embeddings of 12, one epoch) has close top logits, so int8's error flips some choices
  // (157 of 200 equal on an AMD Zen 4); docs/performance.md gives the full-size models' shares and BLEU.
  CHECK(same >= 140);
  const ProgramRun translated = run_program(program, "translate --checkpoint '" + checkpoint + "' --quantize int8",
                                            "Ein Mann läuft.\n");
  CHECK(translated.status == 0);
  CHECK(lines_of(translated.out).size() == 1);
  const ProgramRun wrong = run_program(program, "translate --checkpoint '" + checkpoint + "' --quantize int4 x");
  CHECK(wrong.status != 0);
  CHECK(wrong.err.find("--quantize") != std::string::npos);
}

TEST_CASE("translate quantize: the int8 checkpoint decodes as --quantize int8 does; training and averaging refuse it") {
  const std::string program = translate_program();
  if (program.empty()) return;
  if (!test_support::have_multi30k()) {
    MESSAGE("skipped: Multi30k not found (the int8 checkpoint decodes its val split)");
    return;
  }
  const std::string dir = temp_dir("int8_checkpoint");
  const std::string checkpoint = dir + "/best.safetensors";
  fs::copy_file(trained_checkpoint(), checkpoint);
  const ProgramRun quantized = run_program(program, "quantize --checkpoint '" + checkpoint + "'");
  REQUIRE(quantized.status == 0);
  const std::string int8_file = dir + "/best.int8.safetensors";  // beside the checkpoint, named for it
  CHECK(quantized.out.find("wrote " + int8_file) != std::string::npos);
  MESSAGE(quantized.out);
  CHECK(fs::file_size(int8_file) < fs::file_size(checkpoint));
  const ProgramRun again = run_program(program, "quantize --checkpoint '" + checkpoint + "'");
  CHECK(again.status != 0);  // an existing file is kept unless --overwrite
  CHECK(again.err.find("--overwrite") != std::string::npos);
  const ProgramRun onto_itself =
      run_program(program, "quantize --checkpoint '" + checkpoint + "' --out '" + checkpoint + "' --overwrite");
  CHECK(onto_itself.status != 0);
  CHECK(onto_itself.err.find("--out '" + checkpoint + "' is the --checkpoint file; the int8 checkpoint would overwrite it") !=
        std::string::npos);

  for (const std::string search : {"", " --beam 3"}) {
    CAPTURE(search);
    const std::string tail = " --split val --limit 100 --data-dir '" + data_dir() + "'" + search;
    const ProgramRun by_flag = run_program(program, "eval --checkpoint '" + checkpoint + "' --quantize int8" + tail);
    const ProgramRun by_file = run_program(program, "eval --checkpoint '" + int8_file + "'" + tail);
    REQUIRE(by_flag.status == 0);
    REQUIRE(by_file.status == 0);
    CHECK(by_file.err.find("decoding with int8 weights (an int8 checkpoint)") != std::string::npos);
    const std::string name = search.empty() ? "greedy" : "beam3";
    const std::vector<std::string> a = tg::text::read_lines(dir + "/best.val." + name + "-int8.hyps.en");
    const std::vector<std::string> b = tg::text::read_lines(dir + "/best.int8.val." + name + ".hyps.en");
    REQUIRE(a.size() == 100);
    CHECK(a == b);
  }
  const ProgramRun averaged =
      run_program(program, "average '" + int8_file + "' '" + int8_file + "' --out '" + dir + "/avg.safetensors'");
  CHECK(averaged.status != 0);
  CHECK(averaged.err.find("holds int8 weights") != std::string::npos);
  const std::string run_dir = temp_dir("int8_resume");
  fs::copy_file(int8_file, run_dir + "/last.safetensors");
  tr::TrainOptions resume = tiny_options("bahdanau", run_dir);
  resume.resume = true;
  CHECK_THROWS_WITH_AS(tr::train(resume, silent()), doctest::Contains("cannot resume training from"), tg::Error);
}

TEST_CASE("translate shortlist, then eval/translate --shortlist: most translations equal the full vocabulary's") {
  const std::string program = translate_program();
  if (program.empty()) return;
  if (!test_support::have_multi30k()) {
    MESSAGE("skipped: Multi30k not found (the shortlist learns from its training pairs)");
    return;
  }
  const std::string dir = temp_dir("shortlist_eval");
  const std::string checkpoint = dir + "/best.safetensors";
  fs::copy_file(trained_checkpoint(), checkpoint);
  const std::string data = " --data-dir '" + data_dir() + "'";
  const ProgramRun built = run_program(program, "shortlist --checkpoint '" + checkpoint + "' --best 20" + data);
  REQUIRE(built.status == 0);
  const std::string list = dir + "/best.shortlist";  // beside the checkpoint, named for it
  CHECK(built.out.find("wrote " + list) != std::string::npos);
  CHECK(fs::exists(list));
  const ProgramRun again = run_program(program, "shortlist --checkpoint '" + checkpoint + "'" + data);
  CHECK(again.status != 0);  // an existing list is kept unless --overwrite
  CHECK(again.err.find("--overwrite") != std::string::npos);

  const std::string common = "eval --checkpoint '" + checkpoint + "' --split val --limit 200" + data;
  const ProgramRun full = run_program(program, common);
  const ProgramRun listed = run_program(program, common + " --shortlist '" + list + "'");
  REQUIRE(full.status == 0);
  REQUIRE(listed.status == 0);
  CHECK(listed.err.find("decoding on the shortlist") != std::string::npos);
  const std::vector<std::string> a = tg::text::read_lines(dir + "/best.val.greedy.hyps.en");
  const std::vector<std::string> b = tg::text::read_lines(dir + "/best.val.greedy-shortlist.hyps.en");
  REQUIRE(a.size() == 200);
  REQUIRE(b.size() == 200);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  MESSAGE("shortlist decoding of the tiny trained model: " << same << " of 200 val translations equal the full vocabulary's");
  CHECK(same >= 150);
  const ProgramRun translated =
      run_program(program, "translate --checkpoint '" + checkpoint + "' --shortlist '" + list + "'", "Ein Mann läuft.\n");
  CHECK(translated.status == 0);
  CHECK(lines_of(translated.out).size() == 1);
  const ProgramRun missing = run_program(program, "translate --checkpoint '" + checkpoint + "' --shortlist nowhere x");
  CHECK(missing.status != 0);
  CHECK(missing.err.find("--shortlist") != std::string::npos);
}
