// Training speed of the speech recogniser (apps/speech), the tapegrad
// side of a comparison with PyTorch (bench/speech_torch.py; bench/speech.sh
// runs both). Both sides build the same batches from one formula, so no
// file passes between them:
//   features[b, m, t] = sin(0.01 · (7919 b + 31 m + t))     (B, 80, T_b), zero past T_b
//   T_b = T − 8 (b mod 16)                                   frames of utterance b
//   labels[b, i] = 1 + (13 b + 7 i) mod 28, S_b = T_b / 6    characters
// Each step: forward, CTC loss (mean), backward, clipping at 5, Adam. The
// first --warmup steps are not timed; frames_per_s = input frames of the
// timed steps / their seconds.
//
//   seq2seq-like output line:
//   speech impl=tapegrad threads=2 batch=32 frames=300 steps=20 frames_per_s=... first_loss=... last_loss=...
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "apps/speech/speech_model.h"
#include "tapegrad.h"

int main(int argc, char** argv) {
  int64_t batch = 32, frames = 300, steps = 20, warmup = 3, threads = 2;
  CLI::App app{"speech recogniser training speed (twin: bench/speech_torch.py)"};
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--frames", frames, "frames of the longest utterance")->capture_default_str();
  app.add_option("--steps", steps)->capture_default_str();
  app.add_option("--warmup", warmup)->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  tg::set_num_threads(static_cast<int>(threads));

  std::vector<float> x(static_cast<size_t>(batch * 80 * frames), 0.0f);
  std::vector<int64_t> lengths, label_lengths, labels;
  const int64_t longest_labels = frames / 6;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t t_b = frames - 8 * (b % 16);
    lengths.push_back(t_b);
    for (int64_t m = 0; m < 80; ++m)
      for (int64_t t = 0; t < t_b; ++t)
        x[static_cast<size_t>((b * 80 + m) * frames + t)] = static_cast<float>(std::sin(0.01 * (7919 * b + 31 * m + t)));
    label_lengths.push_back(t_b / 6);
    for (int64_t i = 0; i < longest_labels; ++i) labels.push_back(1 + (13 * b + 7 * i) % 28);
  }
  const tg::Tensor features = tg::from_vector(x, tg::Shape{batch, 80, frames}, {tg::DType::f32});
  const tg::Tensor targets = tg::from_vector(labels, tg::Shape{batch, longest_labels}, {tg::DType::i64});

  tg::Generator gen(1);
  tg::speech::Recognizer model({}, gen);
  model.train();
  tg::optim::Adam adam(model.named_parameters(), tg::optim::AdamOptions{});
  const std::vector<tg::Tensor> params = model.parameters();
  double seconds = 0, first_loss = 0, last_loss = 0;
  int64_t timed_frames = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    tg::Tape tape;
    tg::TapeScope scope(tape);
    std::vector<int64_t> out_frames;
    const tg::Tensor log_probs = model.forward(features, lengths, out_frames);
    const tg::Tensor loss = tg::ctc_loss(log_probs, targets, out_frames, label_lengths, 0, tg::Reduction::mean, true);
    const double value = loss.item();
    loss.backward();
    tg::optim::clip_grad_norm(params, 5.0);
    adam.step();
    adam.zero_grad();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (step == 0) first_loss = value;
    last_loss = value;
    if (step < warmup) continue;
    seconds += s;
    for (const int64_t t : lengths) timed_frames += t;
  }
  fmt::print("speech impl=tapegrad threads={} batch={} frames={} steps={} frames_per_s={:.1f} first_loss={:.6g} last_loss={:.6g}\n",
             threads, batch, frames, steps, static_cast<double>(timed_frames) / seconds, first_loss, last_loss);
  return 0;
}
