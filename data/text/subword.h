#pragma once
// Subword vocabularies with SentencePiece (Kudo & Richardson 2018; Debian's
// libsentencepiece): a unigram or BPE model trained on raw sentences cuts a
// sentence into pieces ("▁Ein", "▁Mann", "▁fähr", "t", "."), and puts pieces
// back together into the detokenized sentence. Cased text, no <unk> for rare
// words: what NMT toolkits train on.
//
// Ids agree with text::Vocab's specials: 0 <pad>, 1 <bos>, 2 <eos>, 3 <unk>,
// then the pieces, so Vocab::from pieces() maps tokens to the same ids.
// A model is its serialized bytes (SentencePiece's ModelProto): saved in a
// checkpoint, it makes the checkpoint self-contained.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace tg::text {

struct SubwordOptions {
  int64_t vocab_size = 8000;          // pieces, specials included
  std::string model_type = "unigram";  // "unigram" or "bpe"
  double character_coverage = 1.0;    // share of characters the pieces must cover (1: all seen)
  int num_threads = 2;
};

class SubwordModel {
 public:
  // Trains on `sentences` (raw, one per element). Deterministic for the same
  // sentences and options.
  static SubwordModel train(const std::vector<std::string>& sentences, const SubwordOptions& options);
  // From serialized model bytes; `source` names them in errors.
  static SubwordModel from_bytes(std::string bytes, const std::string& source);

  const std::string& bytes() const { return bytes_; }
  int64_t size() const;
  // All pieces, id i at index i (the four specials first).
  std::vector<std::string> pieces() const;

  std::vector<std::string> encode(std::string_view sentence) const;  // pieces
  std::string decode(const std::vector<std::string>& pieces) const;  // detokenized text
  // The text SentencePiece encodes: its NFKC normalisation of `sentence`
  // (what decode(encode(s)) gives back).
  std::string normalize(std::string_view sentence) const;

 private:
  SubwordModel(std::shared_ptr<sentencepiece::SentencePieceProcessor> processor, std::string bytes);
  std::shared_ptr<sentencepiece::SentencePieceProcessor> processor_;  // shared: encoding does not change it
  std::string bytes_;
};

// Base64 (RFC 4648, with padding), for model bytes in text metadata.
std::string base64_encode(std::string_view bytes);
// Throws naming `source` on a character outside the alphabet or a bad length.
std::string base64_decode(std::string_view text, const std::string& source);

}  // namespace tg::text
