#include "data/text/subword.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <array>
#include <unordered_map>

#include "core/services/error.h"

namespace tg::text {

namespace {

// The sentences SentencePiece's trainer reads, from memory.
class SentenceList : public sentencepiece::SentenceIterator {
 public:
  explicit SentenceList(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  size_t index_ = 0;
};

}  // namespace

SubwordModel::SubwordModel(std::shared_ptr<sentencepiece::SentencePieceProcessor> processor, std::string bytes)
    : processor_(std::move(processor)), bytes_(std::move(bytes)) {}

SubwordModel SubwordModel::train(const std::vector<std::string>& sentences, const SubwordOptions& options) {
  if (options.model_type != "unigram" && options.model_type != "bpe")
    fail("subword: model type must be unigram or bpe, got '{}'", options.model_type);
  if (options.vocab_size < 8) fail("subword: the vocabulary size must be at least 8, got {}", options.vocab_size);
  if (sentences.empty()) fail("subword: no sentences to train on");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", fmt::format("{}", options.character_coverage)},
      {"num_threads", std::to_string(options.num_threads)},
      {"input_sentence_size", "0"},  // every sentence, no sampling: the same model each time
      {"shuffle_input_sentence", "false"},
      {"max_sentence_length", "100000"},
      {"pad_id", "0"}, {"bos_id", "1"}, {"eos_id", "2"}, {"unk_id", "3"},
      {"pad_piece", "<pad>"}, {"bos_piece", "<bos>"}, {"eos_piece", "<eos>"}, {"unk_piece", "<unk>"},
      {"minloglevel", "2"},  // errors only
  };
  SentenceList list(sentences);
  std::string bytes;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &list, &bytes);
  if (!status.ok())
    fail("subword: SentencePiece could not train a {} model of {} pieces on {} sentences: {}", options.model_type,
         options.vocab_size, sentences.size(), status.ToString());
  return from_bytes(std::move(bytes), "the trained model");
}

SubwordModel SubwordModel::from_bytes(std::string bytes, const std::string& source) {
  auto processor = std::make_shared<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->LoadFromSerializedProto(bytes);
  if (!status.ok()) fail("subword: {} is not a SentencePiece model: {}", source, status.ToString());
  const std::array<std::string_view, 4> specials = {"<pad>", "<bos>", "<eos>", "<unk>"};
  for (int id = 0; id < 4; ++id)
    if (processor->GetPieceSize() <= id || processor->IdToPiece(id) != specials[static_cast<size_t>(id)])
      fail("subword: {} must have the pieces <pad> <bos> <eos> <unk> as ids 0-3 (as tapegrad trains them); id {} "
           "is '{}'",
           source, id, processor->GetPieceSize() > id ? processor->IdToPiece(id) : std::string("missing"));
  return SubwordModel(std::move(processor), std::move(bytes));
}

int64_t SubwordModel::size() const { return processor_->GetPieceSize(); }

std::vector<std::string> SubwordModel::pieces() const {
  std::vector<std::string> out;
  for (int id = 0; id < processor_->GetPieceSize(); ++id) out.push_back(processor_->IdToPiece(id));
  return out;
}

std::vector<std::string> SubwordModel::encode(std::string_view sentence) const {
  std::vector<std::string> pieces;
  const auto status = processor_->Encode(sentence, &pieces);
  if (!status.ok()) fail("subword: encoding failed: {}", status.ToString());
  return pieces;
}

std::string SubwordModel::decode(const std::vector<std::string>& pieces) const {
  std::string text;
  const auto status = processor_->Decode(pieces, &text);
  if (!status.ok()) fail("subword: decoding failed: {}", status.ToString());
  return text;
}

std::string SubwordModel::normalize(std::string_view sentence) const { return decode(encode(sentence)); }

namespace {
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    // 3 bytes -> 24 bits -> 4 characters of 6 bits; '=' pads a short last group.
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 2]);
    out += kBase64[(group >> 18) & 63];
    out += kBase64[(group >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64[(group >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kBase64[group & 63] : '=';
  }
  return out;
}

std::string base64_decode(std::string_view text, const std::string& source) {
  if (text.size() % 4 != 0) fail("base64 in {}: length {} is not a multiple of 4", source, text.size());
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t group = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      uint32_t value = 0;
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
      } else if (const size_t at = kBase64.find(c); at != std::string_view::npos && padding == 0) {
        value = static_cast<uint32_t>(at);
      } else {
        fail("base64 in {}: unexpected character at offset {}", source, i + k);
      }
      group = group << 6 | value;
    }
    out += static_cast<char>((group >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(group & 0xFF);
  }
  return out;
}

}  // namespace tg::text
