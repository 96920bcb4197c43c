#include "apps/speech/transcript_formats.h"

#include <fmt/format.h>

#include <cmath>

namespace tg::speech {

std::vector<TimedSpan> words_of(const std::vector<TimedChar>& chars, double frame_seconds) {
  std::vector<TimedSpan> words;
  bool open = false;
  for (const TimedChar& c : chars) {
    if (c.c == ' ') {
      open = false;
      continue;
    }
    if (!open) words.push_back({"", c.time, c.time});
    open = true;
    words.back().text += c.c;
    words.back().end = c.time + frame_seconds;
  }
  return words;
}

std::vector<TimedSpan> segments_of(const std::vector<TimedSpan>& words) {
  std::vector<TimedSpan> segments;
  for (const TimedSpan& w : words) {
    const bool new_segment = segments.empty() || w.start - segments.back().end >= kSegmentPause ||
                             w.end - segments.back().start > kSegmentSeconds;
    if (new_segment) segments.push_back({w.text, w.start, w.end});
    else {
      segments.back().text += " " + w.text;
      segments.back().end = w.end;
    }
  }
  return segments;
}

std::string timestamp(double seconds, char decimal_mark) {
  const int64_t ms = std::llround(std::max(0.0, seconds) * 1000);
  return fmt::format("{:02}:{:02}:{:02}{}{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, decimal_mark, ms % 1000);
}

std::string to_srt(const std::vector<TimedSpan>& segments) {
  std::string out;
  for (size_t i = 0; i < segments.size(); ++i)
    out += fmt::format("{}\n{} --> {}\n{}\n\n", i + 1, timestamp(segments[i].start, ','), timestamp(segments[i].end, ','),
                       segments[i].text);
  return out;
}

std::string to_vtt(const std::vector<TimedSpan>& segments) {
  std::string out = "WEBVTT\n\n";
  for (const TimedSpan& s : segments)
    out += fmt::format("{} --> {}\n{}\n\n", timestamp(s.start, '.'), timestamp(s.end, '.'), s.text);
  return out;
}

namespace {
// Seconds to the millisecond (0.14, not 0.13999999999999999).
double ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }
}  // namespace

nlohmann::json to_verbose_json(const std::string& text, double duration, const std::vector<TimedSpan>& segments,
                               const std::vector<TimedSpan>* words) {
  nlohmann::json segs = nlohmann::json::array();
  for (size_t i = 0; i < segments.size(); ++i)
    segs.push_back({{"id", i}, {"seek", 0}, {"start", ms(segments[i].start)}, {"end", ms(segments[i].end)},
                    {"text", segments[i].text}, {"tokens", nlohmann::json::array()}, {"temperature", 0.0}});
  nlohmann::json out = {{"task", "transcribe"}, {"language", "english"}, {"duration", ms(duration)}, {"text", text},
                        {"segments", segs}};
  if (words) {
    nlohmann::json w = nlohmann::json::array();
    for (const TimedSpan& word : *words) w.push_back({{"word", word.text}, {"start", ms(word.start)}, {"end", ms(word.end)}});
    out["words"] = w;
  }
  return out;
}

}  // namespace tg::speech
