#include "apps/speech/speech_serve.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/grad_mode.h"
#include "serve/stop_signals.h"
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"
#include "apps/speech/speech_model.h"
#include "apps/speech/speech_page.h"
#include "tapegrad.h"

namespace speech {

namespace {

using nlohmann::json;
using tg::serve::HttpError;

constexpr double kSecondsPerOutputFrame = 0.02;  // 10 ms hop, stride 2 in the front-end

struct Transcript {
  std::string text;
  json segments = json::array();
  double seconds = 0;
};

// The features of an audio file's bytes (through a private temporary file: libsndfile reads paths); a body
// that is not 16 kHz audio of a usable length is a 400 naming the problem.
tg::Tensor features_of_bytes(const std::string& body, double max_seconds) {
  std::string path = (std::filesystem::temp_directory_path() / "tapegrad_speech_serve_XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0) tg::fail("speech serve: cannot make a temporary file in {}", std::filesystem::temp_directory_path().string());
  const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  try {
    if (!written) tg::fail("cannot write the clip to {}", path);
    tg::Tensor features = features_of(path, max_seconds);
    std::remove(path.c_str());
    return features;
  } catch (const tg::Error& e) {
    std::remove(path.c_str());
    std::string message = e.what();
    for (size_t at; (at = message.find(path)) != std::string::npos;) message.replace(at, path.size(), "the clip");
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
    server.post_body("/transcribe", [this](const std::string& body, const std::string&) { return transcribe(body, false); });
    server.post_body("/transcribe/spectrogram", [this](const std::string& body, const std::string&) {
      return transcribe(body, true);
    });
    server.get_json("/models", [this] {
      const ModelConfig& c = model_->config();
      return json::array({{{"id", 0}, {"name", std::filesystem::path(options_.checkpoint).stem().string()},
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
          tg::select(log_probs, 1, static_cast<int64_t>(b)).contiguous().to_vector<float>();  // (T', 29)
      const int64_t n = out_frames[b];
      Transcript t;
      t.seconds = static_cast<double>(batch.frames[b]) * 0.01;
      t.text = decode_ids(options_.beam > 1 ? prefix_beam_decode(rows, n, kClasses, options_.beam)
                                            : greedy_decode(rows, n, kClasses));
      for (const tg::CtcEmission& e : greedy_emissions(rows, n, kClasses))
        t.segments.push_back({{"char", decode_ids({e.label})}, {"time", static_cast<double>(e.frame) * kSecondsPerOutputFrame}});
      out.push_back(std::move(t));
    }
    return out;
  }

  json transcribe(const std::string& body, bool with_spectrogram) {
    if (body.empty()) throw HttpError(400, "the body is empty: send the audio (a 16 kHz WAV) as the request body");
    Utterance clip;  // features only: no path, text or labels
    clip.features = features_of_bytes(body, options_.max_seconds);
    const Transcript t = queue_.submit({clip}).get().front();
    json answer = {{"text", t.text}, {"seconds", t.seconds}, {"segments", t.segments}};
    if (with_spectrogram) {  // (frames, mels) row-major, normalised log-mel
      answer["spectrogram"] = {{"frames", clip.features.size(0)}, {"mels", clip.features.size(1)},
                               {"frame_seconds", 0.01}, {"values", clip.features.contiguous().to_vector<float>()}};
    }
    return answer;
  }

  const ServeOptions& options_;
  std::unique_ptr<Recognizer> model_;
  tg::serve::BatchQueue<Utterance, Transcript> queue_;
};

}  // namespace

int run_server(const ServeOptions& options) {
  SpeechService service(options);
  tg::serve::HttpServer server(options.server);
  service.add_routes(server);
  tg::serve::serve_until_signal(server, [&](int port) {
    return fmt::format("serving {} on http://{}:{} (batches of up to {} clips, {} ms wait)", options.checkpoint,
                       options.server.host, port, options.batching.max_batch, options.batching.max_wait.count());
  });
  service.stop();
  fmt::print("stopped\n");
  return 0;
}

}  // namespace speech
