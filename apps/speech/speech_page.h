#pragma once
// The page `speech serve` answers at GET /: upload a clip or record one (the
// browser resamples it to 16 kHz and sends a WAV), the transcript, and the
// characters drawn over the spectrogram at the times CTC emits them. One
// self-contained HTML document; it calls POST /transcribe/spectrogram.
// The page is apps/speech/speech_page.html, embedded at build time
// (scripts/embed_text.py). It shows the transcript and alignment from
// /transcribe/spectrogram and the subtitles it would download from OpenAI's
// /v1/audio/transcriptions (response_format srt). Element ids a browser test
// reads: clip (file input), record, transcript, status, alignment
// (data-drawn="yes"), srt, download.
#include <string>

namespace tg::speech {

const std::string& speech_page();

}  // namespace tg::speech
