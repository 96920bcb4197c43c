#pragma once
// Vocab: token <-> id. Ids 0..3 are the specials <pad> <bos> <eos> <unk>;
// then every token seen at least min_freq times, most frequent first, ties in
// byte order, so the same corpus always gives the same ids.
// Stored as text, one token per line, line i (0-based) holding id i.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tg::text {

class Vocab {
 public:
  static constexpr int64_t pad_id = 0, bos_id = 1, eos_id = 2, unk_id = 3;
  static constexpr std::string_view pad_token = "<pad>", bos_token = "<bos>", eos_token = "<eos>",
                                    unk_token = "<unk>";

  // Only the four specials.
  Vocab();
  // From tokenized sentences; tokens seen fewer than min_freq times map to <unk>.
  // max_size > 0 caps the size (specials included).
  static Vocab build(const std::vector<std::vector<std::string>>& sentences, int64_t min_freq = 2,
                     int64_t max_size = 0);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  // Id of a token, unk_id when unknown.
  int64_t id(const std::string& token) const;
  bool contains(const std::string& token) const { return ids_.count(token) > 0; }
  // Token of an id; throws when out of range.
  const std::string& token(int64_t id) const;
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Ids of tokens (no <bos>/<eos> added).
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  // Tokens of ids up to the first <eos>, skipping <pad> and <bos>.
  std::vector<std::string> decode(const std::vector<int64_t>& ids) const;

  // One token per line, "\n"-terminated.
  std::string to_string() const;
  // Parses to_string()'s format; `source` names the text in errors (a file name).
  static Vocab from_string(std::string_view text, const std::string& source = "<string>");
  void save(const std::string& path) const;
  static Vocab load(const std::string& path);

  bool operator==(const Vocab& other) const { return tokens_ == other.tokens_; }

 private:
  void add(const std::string& token);
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace tg::text
