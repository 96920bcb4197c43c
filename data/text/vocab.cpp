#include "data/text/vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/services/error.h"
#include "data/text/utf8.h"

namespace tg::text {

Vocab::Vocab() {
  for (const std::string_view special : {pad_token, bos_token, eos_token, unk_token}) add(std::string(special));
}

void Vocab::add(const std::string& token) {
  ids_.emplace(token, size());
  tokens_.push_back(token);
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sentences, int64_t min_freq, int64_t max_size) {
  if (min_freq < 1) fail("Vocab::build: min_freq must be at least 1, got {}", min_freq);
  if (max_size != 0 && max_size < 4) fail("Vocab::build: max_size must be 0 (no cap) or at least 4 (the specials), got {}", max_size);
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& sentence : sentences)
    for (const std::string& token : sentence) ++counts[token];

  Vocab vocab;
  std::vector<std::pair<std::string, int64_t>> kept;
  for (auto& [token, count] : counts)
    if (count >= min_freq && !vocab.contains(token)) kept.emplace_back(token, count);
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (const auto& [token, count] : kept) {
    if (max_size > 0 && vocab.size() >= max_size) break;
    vocab.add(token);
  }
  return vocab;
}

int64_t Vocab::id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? unk_id : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size()) fail("Vocab::token: id {} out of range [0, {})", id, size());
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) ids.push_back(id(t));
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  for (const int64_t i : ids) {
    if (i == eos_id) break;
    if (i == pad_id || i == bos_id) continue;
    out.push_back(token(i));
  }
  return out;
}

std::string Vocab::to_string() const {
  std::string text;
  for (const std::string& t : tokens_) {
    text += t;
    text += '\n';
  }
  return text;
}

Vocab Vocab::from_string(std::string_view text, const std::string& source) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  const std::string_view specials[4] = {pad_token, bos_token, eos_token, unk_token};
  if (lines.size() < 4)
    fail("{}: a vocabulary needs at least the 4 special tokens, got {} lines", source, lines.size());
  Vocab vocab;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& token = lines[i];
    const size_t line = i + 1;
    if (i < 4) {
      if (token != specials[i]) fail("{}:{}: expected special token '{}', got '{}'", source, line, specials[i], token);
      continue;
    }
    if (token.empty()) fail("{}:{}: empty token; expected one token per line", source, line);
    if (token.find_first_of(" \t\r") != std::string::npos)
      fail("{}:{}: token '{}' contains white space; expected one token per line", source, line, token);
    if (const auto offset = find_invalid_utf8(token))
      fail("{}:{}: invalid UTF-8 at byte {}", source, line, *offset);
    if (vocab.contains(token))
      fail("{}:{}: duplicate token '{}' (first on line {})", source, line, token, vocab.id(token) + 1);
    vocab.add(token);
  }
  return vocab;
}

void Vocab::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("Vocab::save: cannot open '{}' for writing", path);
  out << to_string();
  if (!out.flush()) fail("Vocab::save: writing '{}' failed", path);
}

Vocab Vocab::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("Vocab::load: cannot open '{}'", path);
  std::ostringstream text;
  text << in.rdbuf();
  return from_string(text.str(), path);
}

}  // namespace tg::text
