#include "apps/translate/translation_checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/services/error.h"
#include "core/dispatch/matmul_precision.h"
#include "io/safetensors.h"
#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/models/ensemble.h"

namespace tg::translate {

namespace {

// fmt's "{}" writes the shortest text that reads back to the same double.
std::string number(double v) { return fmt::format("{}", v); }

class MetadataReader {
 public:
  MetadataReader(const nn::Metadata& metadata, const std::string& path) : metadata_(metadata), path_(path) {}

  const std::string& text(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) fail("checkpoint '{}': metadata '{}' is missing", path_, key);
    return it->second;
  }
  int64_t integer(const std::string& key) const { return parse<int64_t>(key, "an integer"); }
  uint64_t unsigned_integer(const std::string& key) const { return parse<uint64_t>(key, "an unsigned integer"); }
  double real(const std::string& key) const {
    const std::string& s = text(key);
    try {
      size_t used = 0;
      const double v = std::stod(s, &used);
      if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
    fail("checkpoint '{}': metadata '{}' is '{}', expected a number", path_, key, s);
  }

 private:
  template <typename Int> Int parse(const std::string& key, const char* expected) const {
    const std::string& s = text(key);
    Int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      fail("checkpoint '{}': metadata '{}' is '{}', expected {}", path_, key, s, expected);
    return v;
  }

  const nn::Metadata& metadata_;
  const std::string& path_;
};

// Throws unless parameter `name` exists and has `rows` rows.
void check_rows(const SafetensorsContents& contents, const std::string& path, const std::string& name,
                int64_t rows, const char* vocabulary, int64_t vocab_size) {
  const Tensor* t = contents.find(name);
  if (t == nullptr) fail("checkpoint '{}': parameter '{}' is missing", path, name);
  if (t->ndim() < 1 || t->size(0) != rows)
    fail("checkpoint '{}': the {} vocabulary has {} tokens but parameter '{}' has shape {} (expected {} rows): "
         "vocabulary and parameters do not belong together",
         path, vocabulary, vocab_size, name, t->shape().str(), rows);
}

}  // namespace

nn::Metadata checkpoint_metadata(const CheckpointInfo& info) {
  const ModelConfig& c = info.config;
  const TrainSettings& s = info.settings;
  nn::Metadata metadata = {
      {"translate.format", kCheckpointFormat},
      {"model.kind", c.kind},
      {"model.cell", c.cell},
      {"model.tie_embeddings", c.tie_embeddings ? "true" : "false"},
      {"model.embed", fmt::format("{}", c.embed)},
      {"model.hidden", fmt::format("{}", c.hidden)},
      {"model.dropout", number(c.dropout)},
      {"model.src_vocab", fmt::format("{}", c.src_vocab)},
      {"model.tgt_vocab", fmt::format("{}", c.tgt_vocab)},
      {"vocab.src", info.src_vocab.to_string()},
      {"vocab.kind", info.codec.kind()},
      {"train.seed", fmt::format("{}", s.seed)},
      {"train.batch_size", fmt::format("{}", s.batch_size)},
      {"train.max_len", fmt::format("{}", s.max_len)},
      {"train.min_freq", fmt::format("{}", s.min_freq)},
      {"train.label_smoothing", number(s.label_smoothing)},
      {"train.limit_train", fmt::format("{}", s.limit_train)},
      {"train.clip", number(s.clip)},
      {"train.lr_schedule", s.lr_schedule},
      {"train.warmup_steps", fmt::format("{}", s.warmup_steps)},
      {"train.min_lr", number(s.min_lr)},
      {"train.schedule_steps", fmt::format("{}", s.schedule_steps)},
      {"train.precision", s.precision},
      {"train.loss_scale", number(info.loss_scale.scale)},
      {"train.loss_scale_good_steps", fmt::format("{}", info.loss_scale.good_steps)},
  };
  train::write_run_position(info.position, metadata);
  if (c.kind == "transformer") {
    metadata["model.layers"] = fmt::format("{}", c.layers);
    metadata["model.heads"] = fmt::format("{}", c.heads);
    metadata["model.norm_first"] = c.norm_first ? "true" : "false";
  }
  if (info.weights != "float32") metadata["translate.weights"] = info.weights;
  // A joint vocabulary (and subword model) is written once.
  const bool shared = info.src_vocab == info.tgt_vocab &&
                      (!info.codec.is_subword() || info.codec.source_model().bytes() == info.codec.target_model().bytes());
  if (shared) metadata["vocab.shared"] = "true";
  else metadata["vocab.tgt"] = info.tgt_vocab.to_string();
  if (info.codec.is_subword()) {
    metadata["subword.src"] = text::base64_encode(info.codec.source_model().bytes());
    if (!shared) metadata["subword.tgt"] = text::base64_encode(info.codec.target_model().bytes());
  }
  return metadata;
}

namespace {

// The subword model under `key`, checked to give exactly the vocabulary's tokens.
text::SubwordModel read_subword_model(const MetadataReader& r, const std::string& key, const text::Vocab& vocab,
                                      const std::string& path) {
  const std::string source = "checkpoint '" + path + "' (" + key + ")";
  text::SubwordModel model = text::SubwordModel::from_bytes(text::base64_decode(r.text(key), source), source);
  if (model.pieces() != vocab.tokens())
    fail("{}: its {} pieces are not the {} tokens of the vocabulary, id for id", source, model.size(), vocab.size());
  return model;
}

}  // namespace

CheckpointInfo parse_checkpoint_metadata(const nn::Metadata& metadata, const std::string& path) {
  const auto format = metadata.find("translate.format");
  if (format == metadata.end())
    fail("checkpoint '{}' is not a tapegrad translation checkpoint: metadata 'translate.format' is missing "
         "(expected '{}')",
         path, kCheckpointFormat);
  if (format->second != kCheckpointFormat)
    fail("checkpoint '{}' has unknown format '{}' (this program reads '{}')", path, format->second,
         kCheckpointFormat);
  const MetadataReader r(metadata, path);
  CheckpointInfo info;
  if (metadata.count("translate.weights") > 0) {
    info.weights = r.text("translate.weights");
    if (info.weights != "float32" && info.weights != "int8")
      fail("checkpoint '{}': metadata 'translate.weights' is '{}', expected float32 or int8", path, info.weights);
  }
  info.config.kind = r.text("model.kind");
  if (info.config.kind != "cho" && info.config.kind != "bahdanau" && info.config.kind != "transformer")
    fail("checkpoint '{}': unknown model kind '{}' (expected cho, bahdanau or transformer)", path, info.config.kind);
  if (info.config.kind == "transformer") {
    info.config.layers = r.integer("model.layers");
    info.config.heads = r.integer("model.heads");
    const std::string norm_first = r.text("model.norm_first");
    if (norm_first != "true" && norm_first != "false")
      fail("checkpoint '{}': model.norm_first must be true or false, got '{}'", path, norm_first);
    info.config.norm_first = norm_first == "true";
  }
  // Checkpoints written before the cell could be chosen hold GRU models.
  info.config.cell = metadata.count("model.cell") > 0 ? r.text("model.cell") : "gru";
  if (info.config.cell != "gru" && info.config.cell != "lstm")
    fail("checkpoint '{}': unknown model cell '{}' (expected gru or lstm)", path, info.config.cell);
  const std::string tie = metadata.count("model.tie_embeddings") > 0 ? r.text("model.tie_embeddings") : "false";
  if (tie != "true" && tie != "false")
    fail("checkpoint '{}': model.tie_embeddings must be true or false, got '{}'", path, tie);
  info.config.tie_embeddings = tie == "true";
  info.config.embed = r.integer("model.embed");
  info.config.hidden = r.integer("model.hidden");
  info.config.dropout = r.real("model.dropout");
  info.config.src_vocab = r.integer("model.src_vocab");
  info.config.tgt_vocab = r.integer("model.tgt_vocab");
  // vocab.shared: the target's vocabulary and subword model are the source's (written once).
  const std::string shared_text = metadata.count("vocab.shared") > 0 ? r.text("vocab.shared") : "false";
  if (shared_text != "true" && shared_text != "false")
    fail("checkpoint '{}': vocab.shared must be true or false, got '{}'", path, shared_text);
  const bool shared = shared_text == "true";
  if (shared && (metadata.count("vocab.tgt") > 0 || metadata.count("subword.tgt") > 0))
    fail("checkpoint '{}': vocab.shared is true but the metadata also holds a target vocabulary or subword model",
         path);
  const std::string tgt_key = shared ? "vocab.src" : "vocab.tgt", tgt_model_key = shared ? "subword.src" : "subword.tgt";
  info.src_vocab = text::Vocab::from_string(r.text("vocab.src"), path + " (vocab.src)");
  info.tgt_vocab = text::Vocab::from_string(r.text(tgt_key), path + " (" + tgt_key + ")");
  if (info.src_vocab.size() != info.config.src_vocab)
    fail("checkpoint '{}': the source vocabulary has {} tokens but model.src_vocab says {}", path,
         info.src_vocab.size(), info.config.src_vocab);
  if (info.tgt_vocab.size() != info.config.tgt_vocab)
    fail("checkpoint '{}': the target vocabulary has {} tokens but model.tgt_vocab says {}", path,
         info.tgt_vocab.size(), info.config.tgt_vocab);
  // Checkpoints written before subwords hold word vocabularies.
  const std::string kind = metadata.count("vocab.kind") > 0 ? r.text("vocab.kind") : "word";
  if (kind == "subword")
    info.codec = text::TextCodec::subwords(read_subword_model(r, "subword.src", info.src_vocab, path),
                                     read_subword_model(r, tgt_model_key, info.tgt_vocab, path));
  else if (kind != "word")
    fail("checkpoint '{}': unknown vocabulary kind '{}' (expected word or subword)", path, kind);
  TrainSettings& s = info.settings;
  s.seed = r.unsigned_integer("train.seed");
  s.label_smoothing = metadata.count("train.label_smoothing") > 0 ? r.real("train.label_smoothing") : 0.0;
  s.batch_size = r.integer("train.batch_size");
  s.max_len = r.integer("train.max_len");
  s.min_freq = r.integer("train.min_freq");
  s.limit_train = r.integer("train.limit_train");
  s.clip = r.real("train.clip");
  s.lr_schedule = r.text("train.lr_schedule");
  // Checkpoints older than the per-step schedules have none of these.
  if (metadata.count("train.warmup_steps") > 0) s.warmup_steps = r.integer("train.warmup_steps");
  if (metadata.count("train.min_lr") > 0) s.min_lr = r.real("train.min_lr");
  if (metadata.count("train.schedule_steps") > 0) s.schedule_steps = r.integer("train.schedule_steps");
  // Older still than mixed precision: float32 products.
  if (metadata.count("train.precision") > 0) s.precision = r.text("train.precision");
  parse_matmul_precision(s.precision, fmt::format("checkpoint '{}': train.precision", path));
  info.position = read_run_position(metadata, path);
  if (metadata.count("train.loss_scale") > 0) info.loss_scale.scale = r.real("train.loss_scale");
  if (metadata.count("train.loss_scale_good_steps") > 0)
    info.loss_scale.good_steps = r.integer("train.loss_scale_good_steps");
  return info;
}

train::Position read_run_position(const nn::Metadata& metadata, const std::string& path) {
  if (metadata.count("run.epoch") > 0 || metadata.count("train.epoch") == 0)
    return train::read_run_position(metadata, path);
  // Written before translate used the harness's keys: its own, with BLEU as the best (-1 before the first).
  const MetadataReader r(metadata, path);
  const double best_bleu = r.real("train.best_bleu");
  return {.epoch = r.integer("train.epoch"),
          .batch = r.integer("train.batch"),
          .step = r.integer("train.step"),
          .loss_sum = r.real("train.epoch_loss_sum"),
          .loss_weight = static_cast<double>(r.integer("train.epoch_tokens")),
          .seconds = r.real("train.epoch_seconds"),
          .best = best_bleu >= 0 ? std::optional<double>(best_bleu) : std::nullopt,
          .best_is_higher = true};
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("checkpoint file '{}' does not exist", path);
  if (std::filesystem::is_directory(path, ec)) fail("checkpoint '{}' is a directory, expected a file", path);
  SafetensorsContents contents;
  try {
    contents = load_safetensors(path);
  } catch (const Error& e) {
    fail("checkpoint '{}' is not a readable safetensors file: {}", path, e.what());
  }
  CheckpointInfo info = parse_checkpoint_metadata(contents.metadata, path);
  check_rows(contents, path, "encoder.embed.weight", info.src_vocab.size(), "source", info.src_vocab.size());
  check_rows(contents, path, "decoder.embed.weight", info.tgt_vocab.size(), "target", info.tgt_vocab.size());
  if (info.config.tie_embeddings)  // the output matrix is the target embedding; b_v has a row per token
    check_rows(contents, path, "decoder.out_bias", info.tgt_vocab.size(), "target", info.tgt_vocab.size());
  else
    check_rows(contents, path, "decoder.out.weight", info.tgt_vocab.size(), "target", info.tgt_vocab.size());
  return info;
}

Translator load_translator(const std::string& path, Device device) {
  Translator t;
  t.info = read_checkpoint_info(path);
  t.model = make_model(t.info.config, 0);
  if (t.info.weights == "int8") {
    if (!device.is_host())
      fail("checkpoint '{}' holds int8 weights, which decode on the cpu only (int8 products have no CUDA body); "
           "decode the float32 checkpoint it was made from on {}",
           path, device.str());
    nn::check_load(*t.model, dequantized_contents(load_safetensors(path), path), path, {}).apply();
    t.model->eval();
    t.model->quantize_for_decoding();  // the weights are on their int8 grid already: they came from it
    return t;
  }
  t.model->to(device);
  nn::load(*t.model, path);  // strict: every parameter present, shapes checked; copied to the device
  t.model->eval();
  return t;
}

bool same_vocabularies(const CheckpointInfo& a, const CheckpointInfo& b) {
  return a.src_vocab == b.src_vocab && a.tgt_vocab == b.tgt_vocab && a.codec.is_subword() == b.codec.is_subword();
}

Translator load_translators(const std::vector<std::string>& paths, Device device) {
  if (paths.empty()) fail("no checkpoint given");
  if (paths.size() == 1) return load_translator(paths[0], device);
  Translator ensemble;
  std::vector<std::unique_ptr<Seq2Seq>> members;
  for (const std::string& path : paths) {
    Translator t = load_translator(path, device);
    if (members.empty()) {
      ensemble.info = t.info;
    } else if (!same_vocabularies(t.info, ensemble.info)) {
      fail("ensemble: '{}' does not share the vocabularies of '{}'; an ensemble's models must read and write the "
           "same tokens",
           path, paths[0]);
    }
    members.push_back(std::move(t.model));
  }
  ensemble.model = std::make_unique<Ensemble>(std::move(members));
  ensemble.model->eval();
  return ensemble;
}

void save_model_checkpoint(const std::string& path, const Seq2Seq& model, const CheckpointInfo& info) {
  nn::save(model, path, checkpoint_metadata(info));
}

void save_training_checkpoint(const std::string& path, const Seq2Seq& model, const optim::Optimizer& optimizer,
                              const optim::LRSchedule* schedule, const CheckpointInfo& info) {
  train::save(model, optimizer, path, checkpoint_metadata(info), schedule);
}

}  // namespace tg::translate
