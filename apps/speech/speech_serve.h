#pragma once
// `speech serve`: a loaded recogniser answers HTTP requests, the
// clips of concurrent requests run through the model as one padded batch
// (serve/batch_queue.h), on serve/http_server.h's limits:
//   POST /transcribe   the audio as the body (any format libsndfile reads, any rate: resampled to 16 kHz)
//                      -> {"text", "seconds", "segments": [{"char", "time"}]}: each character at the
//                      time CTC emits it (the first frame of its run on the greedy path)
//   POST /transcribe/spectrogram   the same, with the log-mel features the model read (the page draws them)
//   POST /v1/audio/transcriptions   OpenAI's API: multipart with file, model, language (en),
//                      response_format json | text | srt | vtt | verbose_json, timestamp_granularities[]
//                      (word, segment); errors as {"error": {"message", "type", "code"}};
//                      Authorization: Bearer as the key (transcript_formats.h: the timings)
//   GET /v1/models     OpenAI's list: the one model
//   GET /models, GET /health, GET / (a page: upload or record a clip, the transcript, the alignment)
// docs/serving.md has the details.
#include <cstdint>
#include <string>

#include "core/types/device.h"
#include "serve/batch_queue.h"
#include "serve/http_server.h"

namespace tg::speech {

struct ServeOptions {
  std::string checkpoint;
  tg::Device device = tg::Device::cpu();
  // 30 s of 16 kHz WAV is under 1 MB, other formats more; a clip's upload may take longer than a sentence's.
  tg::serve::ServerOptions server{.max_body_bytes = 16 << 20, .request_timeout = std::chrono::seconds(30)};
  tg::serve::BatchOptions batching{.max_batch = 16};  // 16: 0.96 of offline throughput under 64 clients, 8: 0.72
  int64_t beam = 1;             // prefix beam width for the text (the segments follow the greedy path)
  std::string quantize = "none";
  double max_seconds = 30;      // longer clips: 400
};

// Loads the model, binds, prints "serving ... on http://host:port", answers
// until SIGTERM or SIGINT, then finishes the requests in flight and returns 0.
int run_server(const ServeOptions& options);

}  // namespace tg::speech
