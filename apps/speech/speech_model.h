#pragma once
// The recogniser: a convolutional front-end that halves the frame rate,
// bidirectional GRU layers, a linear layer to the 29 characters, trained with
// CTC (DeepSpeech 2's shape, small):
//
//   features (B, 80, T)                      log-mel, normalised per utterance
//   Conv1d 80→C, k 5, stride 2, ReLU         (B, C, T'), T' = ⌊(T − 1) / 2⌋ + 1
//   Conv1d C→C, k 5, ReLU                    (B, C, T')
//   LayerNorm over C, as (T', B, C)
//   GRU, bidirectional, L layers             (T', B, 2H), zero past each length
//   Dropout, Linear 2H → 29, log_softmax     (T', B, 29) log-probabilities
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/services/generator.h"
#include "nn/conv1d.h"
#include "nn/dropout.h"
#include "nn/recurrent/gru.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace tg::speech {

struct ModelConfig {
  int64_t mels = 80, channels = 256, hidden = 256, layers = 3;
  double dropout = 0.1;
};

class Recognizer : public tg::nn::Module {
 public:
  Recognizer(const ModelConfig& config, tg::Generator& gen);
  // features (B, mels, T), frames per utterance -> log-probabilities (T', B, 29);
  // out_frames gets each utterance's T'.
  tg::Tensor forward(const tg::Tensor& features, const std::vector<int64_t>& frames,
                     std::vector<int64_t>& out_frames) const;
  std::string type_name() const override { return "Recognizer"; }
  // Inference with int8 weights in the recurrent layers (their W_ih and W_hh
  // per row, inputs per row at run time: nn::RecurrentNetwork::quantize_for_inference),
  // the products that dominate; the convolutions and the output layer stay float32.
  void quantize_for_inference() { rnn.quantize_for_inference(); }
  const ModelConfig& config() const { return config_; }
  // Frames after the front-end (stride 2, padding 2, 5 taps).
  static int64_t frames_after(int64_t frames) { return (frames - 1) / 2 + 1; }

  tg::nn::Conv1d conv1, conv2;
  tg::nn::LayerNorm norm;
  tg::nn::GRU rnn;
  tg::nn::Dropout dropout;
  tg::nn::Linear out;

 private:
  ModelConfig config_;
};

// A recogniser checkpoint (its config from the metadata, then its parameters)
// on `device`, in eval mode; quantize "int8" runs its recurrent layers with
// int8 weights (host only; says so on stderr). Errors name the file.
std::unique_ptr<Recognizer> load_recognizer(const std::string& path, tg::Device device,
                                            const std::string& quantize = "none");

}  // namespace tg::speech
