#include "train/run_settings.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/services/error.h"

namespace tg::train {

namespace {

constexpr const char* kPrefix = "setting.";

template <typename Integer>
bool parse_integer(const std::string& text, Integer& out) {
  Integer v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  out = v;
  return true;
}

bool parse_double(const std::string& text, double& out) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

}  // namespace

void RunSettings::bind(const std::string& flag, int& variable, bool given) {
  entries_.push_back({flag, [&variable] { return std::to_string(variable); },
                      [&variable](const std::string& t) { return parse_integer(t, variable); }, given});
}

void RunSettings::bind(const std::string& flag, int64_t& variable, bool given) {
  entries_.push_back({flag, [&variable] { return std::to_string(variable); },
                      [&variable](const std::string& t) { return parse_integer(t, variable); }, given});
}

void RunSettings::bind(const std::string& flag, uint64_t& variable, bool given) {
  entries_.push_back({flag, [&variable] { return std::to_string(variable); },
                      [&variable](const std::string& t) { return parse_integer(t, variable); }, given});
}

void RunSettings::bind(const std::string& flag, double& variable, bool given) {
  // The shortest text that reads back as the same double: a resumed run computes with the same value.
  entries_.push_back({flag, [&variable] { return fmt::format("{}", variable); },
                      [&variable](const std::string& t) { return parse_double(t, variable); }, given});
}

void RunSettings::bind(const std::string& flag, std::string& variable, bool given) {
  entries_.push_back({flag, [&variable] { return variable; },
                      [&variable](const std::string& t) {
                        variable = t;
                        return true;
                      },
                      given});
}

void RunSettings::write_to(nn::Metadata& metadata) const {
  for (const Entry& e : entries_) metadata[kPrefix + e.flag] = e.text();
}

std::vector<std::string> RunSettings::restore_from(const nn::Metadata& metadata, const std::string& path) {
  std::vector<std::string> notes;
  for (const Entry& e : entries_) {
    const auto it = metadata.find(kPrefix + e.flag);
    if (it == metadata.end() && e.absent.empty())
      fail("{} does not record the run's {} (metadata '{}{}'): it was not written by this program's harness; start a "
           "new run instead of resuming",
           path, e.flag, kPrefix, e.flag);
    const std::string saved = it != metadata.end() ? it->second : e.absent;  // absent: a run from before the flag
    const std::string given = e.text();
    if (!e.set(saved)) fail("{}: metadata '{}{}' is '{}', not a value of {}", path, kPrefix, e.flag, saved, e.flag);
    if (e.given && given != e.text())
      notes.push_back(fmt::format("{} {} differs from the run's {}; the run's is used (start a new run to change it)",
                                  e.flag, given, e.text()));
  }
  return notes;
}

void RunSettings::absent_means(const std::string& flag, const std::string& value) {
  for (Entry& e : entries_)
    if (e.flag == flag) {
      e.absent = value;
      return;
    }
  fail("absent_means: no setting {} is bound", flag);
}

std::string RunSettings::summary() const {
  std::string s;
  for (const Entry& e : entries_) s += (s.empty() ? "" : ", ") + e.flag + " " + e.text();
  return s;
}

}  // namespace tg::train
