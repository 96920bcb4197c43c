#pragma once
// A transcript's times, in the formats transcription clients read
// (OpenAI's response_format): words and segments from the characters' times
// on the CTC greedy path, as JSON (verbose_json), SubRip (srt) and WebVTT (vtt).
// A word starts when its first character is emitted and ends one output
// frame after its last; a segment closes at a pause of kSegmentPause or when
// it would pass kSegmentSeconds.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tg::speech {

constexpr double kSegmentPause = 0.8;     // seconds between words
constexpr double kSegmentSeconds = 10.0;  // at most, unless one word is longer

struct TimedChar {
  char c;
  double time;  // seconds, when CTC emits it
};

struct TimedSpan {
  std::string text;
  double start = 0, end = 0;  // seconds
};

// Words of the characters (spaces part them); `frame_seconds` is one output frame's length.
std::vector<TimedSpan> words_of(const std::vector<TimedChar>& chars, double frame_seconds);
std::vector<TimedSpan> segments_of(const std::vector<TimedSpan>& words);

// "00:01:02,345" (SubRip) or "00:01:02.345" (WebVTT).
std::string timestamp(double seconds, char decimal_mark);
std::string to_srt(const std::vector<TimedSpan>& segments);
std::string to_vtt(const std::vector<TimedSpan>& segments);
// OpenAI's verbose_json: task, language, duration, text, segments (and words when asked).
nlohmann::json to_verbose_json(const std::string& text, double duration, const std::vector<TimedSpan>& segments,
                               const std::vector<TimedSpan>* words);

}  // namespace tg::speech
