#!/usr/bin/python3
"""The PyTorch twin of bench/speech.cpp: the same recogniser (apps/speech/speech_model.h:
Conv1d 80->256 k5 s2 + ReLU, Conv1d k5 + ReLU, LayerNorm, 3-layer bidirectional nn.GRU 256
over packed sequences, Linear to 29, log_softmax, nn.CTCLoss mean with zero_infinity), the
same batches from the same formula, Adam, clipping at 5; frames/s of the timed steps.

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/speech_torch.py --threads 2
"""
import argparse
import math
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class Recognizer(nn.Module):
    def __init__(self, mels=80, channels=256, hidden=256, layers=3, dropout=0.1):
        super().__init__()
        self.conv1 = nn.Conv1d(mels, channels, 5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(channels, channels, 5, padding=2)
        self.norm = nn.LayerNorm(channels)
        self.rnn = nn.GRU(channels, hidden, num_layers=layers, bidirectional=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, 29)

    def forward(self, features, frames):
        x = torch.relu(self.conv2(torch.relu(self.conv1(features))))  # (B, C, T')
        out_frames = (frames - 1) // 2 + 1
        steps = self.norm(x.permute(2, 0, 1))  # (T', B, C)
        packed = pack_padded_sequence(steps, out_frames, enforce_sorted=False)
        output, _ = self.rnn(packed)
        output, _ = pad_packed_sequence(output, total_length=steps.shape[0])
        return torch.log_softmax(self.out(self.dropout(output)), -1), out_frames


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    B, T = a.batch, a.frames
    x = torch.zeros(B, 80, T)
    lengths = torch.tensor([T - 8 * (b % 16) for b in range(B)])
    for b in range(B):
        t = torch.arange(int(lengths[b]), dtype=torch.float64)
        m = torch.arange(80, dtype=torch.float64).unsqueeze(1)
        x[b, :, : int(lengths[b])] = torch.sin(0.01 * (7919 * b + 31 * m + t)).float()
    longest = T // 6
    targets = torch.tensor([[1 + (13 * b + 7 * i) % 28 for i in range(longest)] for b in range(B)])
    label_lengths = lengths // 6
    model = Recognizer()
    model.train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    ctc = nn.CTCLoss(blank=0, reduction="mean", zero_infinity=True)
    seconds, frames, first, last = 0.0, 0, 0.0, 0.0
    for step in range(a.steps):
        start = time.perf_counter()
        log_probs, out_frames = model(x, lengths)
        loss = ctc(log_probs, targets, out_frames, label_lengths)
        value = loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        adam.step()
        adam.zero_grad(set_to_none=True)
        s = time.perf_counter() - start
        if step == 0:
            first = value
        last = value
        if step >= a.warmup:
            seconds += s
            frames += int(lengths.sum())
    print(f"speech impl=pytorch threads={a.threads} batch={B} frames={T} steps={a.steps} "
          f"frames_per_s={frames / seconds:.1f} first_loss={first:.6g} last_loss={last:.6g}", flush=True)


if __name__ == "__main__":
    main()
