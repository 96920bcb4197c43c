// libFuzzer target: vocabularies as a translation checkpoint stores them
// (data/text/vocab.h, apps/translate/translation_checkpoint.h). The input, cut
// at NUL bytes, gives the "vocab.src" text, the "vocab.tgt" text and then
// "key=value" pairs that replace other metadata of a valid checkpoint;
// parse_checkpoint_metadata reads it all. Every input parses or throws
// tg::Error; a vocabulary that parses writes back to the same text, and
// every token maps to its id and back.
#include "core/services/error.h"
#include "data/text/vocab.h"
#include "fuzz_support.h"
#include "apps/translate/translation_checkpoint.h"

namespace {

// The number of lines Vocab::from_string sees in `text`.
size_t count_lines(std::string_view text) {
  size_t lines = 0;
  for (const char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

void check_vocab(const tg::text::Vocab& vocab) {
  const tg::text::Vocab again = tg::text::Vocab::from_string(vocab.to_string());
  if (!(again == vocab)) fuzz::broken("Vocab::to_string -> from_string changed the vocabulary");
  std::vector<std::string> words;
  for (int64_t id = 0; id < vocab.size(); ++id) {
    if (vocab.id(vocab.token(id)) != id) fuzz::broken("token -> id -> token is not the identity");
    if (id >= 4) words.push_back(vocab.token(id));
  }
  if (vocab.decode(vocab.encode(words)) != words) fuzz::broken("encode -> decode changed the tokens");
}

void check_vocab_text(std::string_view text) {
  try {
    check_vocab(tg::text::Vocab::from_string(text, "fuzz"));
  } catch (const tg::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> pieces = fuzz::split(fuzz::bytes(data, size), '\0');
  const std::string specials = tg::text::Vocab().to_string();
  const std::string& src = pieces[0];
  const std::string& tgt = pieces.size() > 1 ? pieces[1] : specials;
  check_vocab_text(src);
  check_vocab_text(tgt);

  tg::translate::CheckpointInfo info;  // defaults: a valid checkpoint's metadata
  info.config.kind = "bahdanau";
  tg::nn::Metadata metadata = tg::translate::checkpoint_metadata(info);
  metadata["vocab.src"] = src;
  metadata["vocab.tgt"] = tgt;
  metadata["model.src_vocab"] = std::to_string(count_lines(src));
  metadata["model.tgt_vocab"] = std::to_string(count_lines(tgt));
  for (size_t i = 2; i < pieces.size(); ++i) {
    const size_t eq = pieces[i].find('=');
    if (eq != std::string::npos) metadata[pieces[i].substr(0, eq)] = pieces[i].substr(eq + 1);
  }
  try {
    const tg::translate::CheckpointInfo back = tg::translate::parse_checkpoint_metadata(metadata, "fuzz");
    check_vocab(back.src_vocab);
    check_vocab(back.tgt_vocab);
    if (back.src_vocab.size() != back.config.src_vocab || back.tgt_vocab.size() != back.config.tgt_vocab)
      fuzz::broken("a vocabulary size disagrees with the model config");
  } catch (const tg::Error&) {
  }
  return 0;
}
