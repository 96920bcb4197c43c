#pragma once
// The picture of a transcription: the log-mel spectrogram (time across, mel
// channels up, grey level = energy) with each recognised character placed at
// the frame where CTC emits it (the first frame of its run on the greedy
// path), a tick down to the spectrogram, and the transcript as a title.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::speech {

// features (frames, mels); log_probs (T', 29) row-major for T' = frames after
// the front-end (each output frame covers `stride` input frames).
std::string alignment_svg(const tg::Tensor& features, const std::vector<float>& log_probs, int64_t out_frames,
                          int64_t stride, const std::string& title);

}  // namespace tg::speech
