#include "apps/speech/speech_eval.h"

#include "core/autograd/grad_mode.h"
#include "ops/select.h"
#include "ops/transpose.h"

namespace tg::speech {

Decoded decode_split(const Recognizer& model, const std::vector<Utterance>& data, int64_t width,
                     const LMFusion& fusion) {
  tg::NoGrad no_grad;
  Decoded d;
  for (std::vector<std::string>* column : {&d.greedy, &d.references}) column->resize(data.size());
  if (width > 1) d.beam.resize(data.size());
  if (fusion.lm) d.fused.resize(data.size());
  for (const std::vector<size_t>& indices : plan_batches(data, 32, 0)) {  // batches of similar lengths
    const Batch batch = make_batch(data, indices);
    std::vector<int64_t> frames;
    const tg::Tensor on_device = model.forward(batch.features.to(model.out.weight.device()), batch.frames, frames);
    const tg::Tensor log_probs = tg::contiguous_values(tg::permute(on_device.to(tg::Device::cpu()), {1, 0, 2}));  // (B, T', 29)
    for (size_t b = 0; b < indices.size(); ++b) {
      const std::vector<float> rows = tg::select(log_probs, 0, static_cast<int64_t>(b)).to_vector<float>();
      const size_t i = indices[b];
      d.greedy[i] = decode_ids(greedy_decode(rows, frames[b], kClasses));
      if (width > 1) d.beam[i] = decode_ids(prefix_beam_decode(rows, frames[b], kClasses, width));
      if (fusion.lm) d.fused[i] = decode_ids(prefix_beam_decode(rows, frames[b], kClasses, width, fusion));
      d.references[i] = data[i].text;
    }
  }
  return d;
}

}  // namespace tg::speech
