#include "apps/speech/speech_serve.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/services/host_allocator.h"
#include "serve/serve_until_signal.h"
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_model.h"
#include "apps/speech/speech_page.h"
#include "apps/speech/transcript_formats.h"
#include "tapegrad.h"

namespace tg::speech {

namespace {

using nlohmann::json;
using tg::serve::HttpError;

constexpr double kSecondsPerOutputFrame = 0.02;  // 10 ms hop, stride 2 in the front-end

struct Transcript {
  std::string text;
  std::vector<TimedChar> chars;  // the greedy path's characters and when CTC emits them
  double seconds = 0;
};

// OpenAI's response_format values.
const char* const kResponseFormats[] = {"json", "text", "srt", "vtt", "verbose_json"};

// A private temporary file, removed however its scope ends (an exception of any kind included).
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& bytes) {
    path_ = (std::filesystem::temp_directory_path() / "tapegrad_speech_serve_XXXXXX").string();
    const int fd = mkstemp(path_.data());
    if (fd < 0) tg::fail("speech serve: cannot make a temporary file in {}", std::filesystem::temp_directory_path().string());
    const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    if (!written) {
      std::remove(path_.c_str());
      tg::fail("speech serve: cannot write a clip to {}", path_);
    }
  }
  ~TemporaryFile() { std::remove(path_.c_str()); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Clip {
  tg::Tensor features;
  double seconds = 0;  // the audio's own length, before any padding
};

// The features of an audio file's bytes (through a private temporary file: libsndfile reads paths); a body
// that is not audio of a usable length is a 400 naming the problem.
Clip clip_of_bytes(const std::string& body, double max_seconds) {
  const TemporaryFile file(body);
  try {
    const tg::audio::Audio audio = audio_of(file.path(), max_seconds);
    return {features_of(audio), audio.seconds()};
  } catch (const tg::Error& e) {
    std::string message = e.what();
    for (size_t at; (at = message.find(file.path())) != std::string::npos;) message.replace(at, file.path().size(), "the clip");
    throw HttpError(400, message);
  }
}

class SpeechService {
 public:
  explicit SpeechService(const ServeOptions& o)
      : options_(o),
        model_(load_recognizer(o.checkpoint, o.device, o.quantize)),
        queue_([this](const std::vector<Utterance>& clips) { return run_batch(clips); }, o.batching) {}

  void add_routes(tg::serve::HttpServer& server) {
    using tg::serve::BodyFields;
    using tg::serve::Request;
    const tg::serve::RouteOptions raw_audio{.body = tg::serve::BodyRead::raw, .needs_key = true};
    server.route("POST", "/transcribe", [this](const Request& r, const BodyFields&) {
      return tg::serve::json_response(transcribe_json(r, false));
    }, raw_audio);
    server.route("POST", "/transcribe/spectrogram", [this](const Request& r, const BodyFields&) {
      return tg::serve::json_response(transcribe_json(r, true));
    }, raw_audio);
    // OpenAI's API: every /v1 route needs the key (Authorization: Bearer) when one is set.
    server.route("POST", "/v1/audio/transcriptions",
                 [this](const Request& r, const BodyFields& b) { return openai_transcription(r, b); },
                 {.body = tg::serve::BodyRead::json_or_form, .needs_key = true});
    server.route("GET", "/v1/models", [this](const Request&, const BodyFields&) {
      return tg::serve::json_response({{"object", "list"}, {"data", json::array({{{"id", model_name()}, {"object", "model"},
                                                                                   {"created", 0}, {"owned_by", "tapegrad"}}})}});
    }, {.needs_key = true});
    server.get_json("/models", [this] {
      const ModelConfig& c = model_->config();
      return json::array({{{"id", 0}, {"name", model_name()},
                           {"kind", "ctc"}, {"channels", c.channels}, {"hidden", c.hidden}, {"layers", c.layers},
                           {"classes", kClasses}, {"sample_rate", 16000}, {"parameters", model_->parameter_count()},
                           {"beam", options_.beam}, {"quantize", options_.quantize}}});
    });
    server.get_json("/health", [this] {
      return json{{"status", "ok"}, {"waiting_clips", queue_.waiting()}, {"batches", queue_.batches_run()}};
    });
    server.get_document("/", "text/html; charset=utf-8", speech_page());
  }
  void stop() { queue_.stop(); }

 private:
  std::string model_name() const { return std::filesystem::path(options_.checkpoint).stem().string(); }

  // One padded batch through the model (make_batch, as eval pads its batches); each clip's text and the
  // characters' times.
  std::vector<Transcript> run_batch(const std::vector<Utterance>& clips) {
    const tg::NoGrad no_grad;
    std::vector<size_t> all(clips.size());
    std::iota(all.begin(), all.end(), size_t{0});
    const Batch batch = make_batch(clips, all);  // features (B, mels, T), zero past each end
    std::vector<int64_t> out_frames;
    const tg::Tensor log_probs =
        model_->forward(batch.features.to(options_.device), batch.frames, out_frames).to(tg::Device::cpu());  // (T', B, 29)
    std::vector<Transcript> out;
    for (size_t b = 0; b < clips.size(); ++b) {
      const std::vector<float> rows =
          tg::contiguous_values(tg::select(log_probs, 1, static_cast<int64_t>(b))).to_vector<float>();  // (T', 29)
      const int64_t n = out_frames[b];
      Transcript t;
      t.text = decode_ids(options_.beam > 1 ? prefix_beam_decode(rows, n, kClasses, options_.beam)
                                            : greedy_decode(rows, n, kClasses));
      for (const tg::CtcEmission& e : greedy_emissions(rows, n, kClasses))
        if (const std::string c = decode_ids({e.label}); !c.empty())
          t.chars.push_back({c.front(), std::round(static_cast<double>(e.frame) * kSecondsPerOutputFrame * 1000) / 1000});
      out.push_back(std::move(t));
    }
    return out;
  }

  // The clip's transcript (waits for its batch, where `request`'s client takes turns with the others and the
  // clip is dropped once it has gone); the features when asked for.
  Transcript transcribe(const std::string& audio, const tg::serve::Request& request, tg::Tensor* features = nullptr) {
    if (audio.empty()) throw HttpError(400, "the body is empty: send a clip (WAV, FLAC, Ogg, ... at any rate)");
    const Clip heard = clip_of_bytes(audio, options_.max_seconds);
    Utterance clip;  // features only: no path, text or labels
    clip.features = heard.features;
    if (features) *features = clip.features;
    Transcript t = queue_.submit({clip}, request.remote_address, request.client_gone).get().front();
    t.seconds = heard.seconds;  // the audio's length, not its frames' count x 10 ms
    return t;
  }

  // The body is the clip.
  json transcribe_json(const tg::serve::Request& request, bool with_spectrogram) {
    tg::Tensor features;
    const Transcript t = transcribe(request.body, request, &features);
    json segments = json::array();
    for (const TimedChar& c : t.chars) segments.push_back({{"char", std::string(1, c.c)}, {"time", c.time}});
    json answer = {{"text", t.text}, {"seconds", t.seconds}, {"segments", segments}};
    if (with_spectrogram) {  // (frames, mels) row-major, normalised log-mel
      answer["spectrogram"] = {{"frames", features.size(0)}, {"mels", features.size(1)},
                               {"frame_seconds", 0.01}, {"values", tg::contiguous_values(features).to_vector<float>()}};
    }
    return answer;
  }

  // OpenAI's POST /v1/audio/transcriptions: multipart with file, model, language, response_format,
  // timestamp_granularities[]; prompt and temperature are read and have no effect here.
  tg::serve::Response openai_transcription(const tg::serve::Request& request, const tg::serve::BodyFields& body) {
    const tg::serve::FormPart* file = body.file("file");
    if (!file) throw HttpError(400, "missing the file: a multipart part named file, with a filename");
    const json& fields = body.fields;
    auto text_field = [&](const char* name, const std::string& fallback) {
      const auto it = fields.find(name);
      if (it == fields.end()) return fallback;
      if (!it->is_string()) throw HttpError(400, fmt::format("{} must be given once, as text", name));
      return it->get<std::string>();
    };
    if (!fields.contains("model")) throw HttpError(400, "you must provide a model parameter (any name: this server has one model)");
    const std::string language = text_field("language", "en");
    if (language != "en" && language != "english")
      throw HttpError(400, fmt::format("language '{}' is not supported: this recogniser hears English (en)", language));
    const std::string format = text_field("response_format", "json");
    if (std::find(std::begin(kResponseFormats), std::end(kResponseFormats), format) == std::end(kResponseFormats))
      throw HttpError(400, fmt::format("response_format '{}' is not one of json, text, srt, verbose_json, vtt", format));
    bool want_words = false;
    for (const char* name : {"timestamp_granularities[]", "timestamp_granularities"})
      if (const auto it = fields.find(name); it != fields.end())
        for (const json& g : it->is_array() ? *it : json::array({*it})) {
          if (g != "word" && g != "segment")
            throw HttpError(400, fmt::format("timestamp_granularities holds {}: expected word or segment",
                                             g.dump(-1, ' ', false, json::error_handler_t::replace)));
          want_words = want_words || g == "word";
        }
    const Transcript t = transcribe(file->value, request);
    const std::vector<TimedSpan> words = words_of(t.chars, kSecondsPerOutputFrame);
    const std::vector<TimedSpan> segments = segments_of(words);
    tg::serve::Response r;
    if (format == "json") return tg::serve::json_response({{"text", t.text}});
    if (format == "verbose_json") return tg::serve::json_response(to_verbose_json(t.text, t.seconds, segments, want_words ? &words : nullptr));
    r.content_type = format == "vtt" ? "text/vtt; charset=utf-8" : "text/plain; charset=utf-8";
    r.body = format == "text" ? t.text + "\n" : format == "srt" ? to_srt(segments) : to_vtt(segments);
    return r;
  }

  const ServeOptions& options_;
  std::unique_ptr<Recognizer> model_;
  tg::serve::BatchQueue<Utterance, Transcript> queue_;
};

}  // namespace

int run_server(const ServeOptions& options) {
  SpeechService service(options);
  tg::serve::ServerOptions server_options = options.server;
  server_options.release_memory = [] { tg::host_release_cached(); };  // after a burst, the tensors' cache too
  tg::serve::HttpServer server(server_options);
  service.add_routes(server);
  tg::serve::serve_until_signal(server, [&](int port) {
    return fmt::format("serving {} on {} (batches of up to {} clips, {} ms wait)", options.checkpoint,
                       tg::serve::http_url(options.server.host, port), options.batching.max_batch,
                       options.batching.max_wait.count());
  });
  service.stop();
  fmt::print("stopped\n");
  return 0;
}

}  // namespace tg::speech
