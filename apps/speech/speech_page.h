#pragma once
// The page `speech serve` answers at GET /: upload a clip or record one (the
// browser resamples it to 16 kHz and sends a WAV), the transcript, and the
// characters drawn over the spectrogram at the times CTC emits them. One
// self-contained HTML document; it calls POST /transcribe/spectrogram.
#include <string>

namespace speech {

const std::string& speech_page();

}  // namespace speech
