#include "apps/speech/speech_model.h"

#include <cstdio>
#include <map>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "io/safetensors.h"
#include "nn/checkpoint.h"
#include "ops/relu.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "apps/speech/speech_data.h"
#include "train/training_checkpoint.h"

namespace tg::speech {

Recognizer::Recognizer(const ModelConfig& c, tg::Generator& gen)
    : conv1(c.mels, c.channels, 5, {.stride = 2, .padding = 2}, gen),
      conv2(c.channels, c.channels, 5, {.padding = 2}, gen),
      norm(tg::Shape{c.channels}),
      rnn(c.channels, c.hidden, {.num_layers = static_cast<int>(c.layers), .bidirectional = true, .dropout = c.dropout}, gen),
      dropout(c.dropout, gen.next_u64()),
      out(2 * c.hidden, kClasses, {}, gen),
      config_(c) {
  register_module("conv1", conv1);
  register_module("conv2", conv2);
  register_module("norm", norm);
  register_module("rnn", rnn);
  register_module("dropout", dropout);
  register_module("out", out);
}

tg::Tensor Recognizer::forward(const tg::Tensor& features, const std::vector<int64_t>& frames,
                               std::vector<int64_t>& out_frames) const {
  out_frames.clear();
  for (const int64_t f : frames) out_frames.push_back(frames_after(f));
  const tg::Tensor x = tg::relu(conv2(tg::relu(conv1(features))));         // (B, C, T')
  const tg::Tensor steps = norm(tg::permute(x, {2, 0, 1}));                  // (T', B, C)
  const tg::nn::GRUOutput run = rnn(steps, {}, tg::index_tensor(out_frames, tg::Shape{static_cast<int64_t>(out_frames.size())}));
  return tg::log_softmax(out(dropout(run.output)), -1);                      // (T', B, 29)
}

std::unique_ptr<Recognizer> load_recognizer(const std::string& path, tg::Device device, const std::string& quantize) {
  const std::map<std::string, std::string> meta = tg::load_safetensors(path).metadata;  // the config keys
  auto get = [&](const char* key) { return tg::train::metadata_integer(meta, key, path); };
  tg::Generator gen(1);
  auto model = std::make_unique<Recognizer>(
      ModelConfig{.channels = get("channels"), .hidden = get("hidden"), .layers = get("layers")}, gen);
  tg::nn::load(*model, path);
  model->to(device);
  model->eval();
  if (quantize == "int8") {
    if (!device.is_host()) tg::fail("speech: --quantize int8 runs on the cpu (no int8 products on {})", device.str());
    model->quantize_for_inference();
    std::fprintf(stderr, "speech: int8 weights in the recurrent layers (--quantize int8)\n");
  }
  return model;
}

}  // namespace tg::speech
