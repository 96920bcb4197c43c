"""Training and decoding speed of the translation models in PyTorch: the twin of bench/seq2seq.cpp.

The models are examples/translate's Cho et al. 2014 encoder-decoder and
Bahdanau et al. 2014 attention model with GRU cells, written with torch.nn:
the same parameter names and shapes (so tapegrad's safetensors load with
strict=True) and the same computation, including tapegrad's batching of
teacher forcing (the parts that do not depend on s_{t-1} run once for all
steps; see apps/translate/models/cho_model.h and bahdanau_model.h), so both sides
do the same matrix products. The encoder is nn.GRU over a packed batch, as
tapegrad's GRU reproduces. The decoder's GRU step is written out from the
precomputed input projection, the gate equations of nn/recurrent/gru_cell.h (ATen's
CPU GRUCell runs the same elementwise ops).

  train:   reads bench_seq2seq's --plan (identical token-id batches) and --init
           (identical initial weights), trains those steps (Adam, clip_grad_norm_,
           dropout p from the plan), times all but the warm-up steps.
  decode:  reads the decoding plan and the weights, runs batched greedy search
           and a batched beam search with the rules of apps/translate/search.h,
           and with --compare counts the outputs identical to tapegrad's.

--device cuda runs on the GPU (model and batches on it; source lengths stay on the host, as
pack_padded_sequence wants them; the clock is read after torch.cuda.synchronize()).

Run with Debian's Python, which has torch:
  /usr/bin/python3 bench/seq2seq_torch.py train --plan plan.txt --init init.safetensors --threads 2
  /usr/bin/python3 bench/seq2seq_torch.py decode --plan decode.txt --weights w.safetensors --compare out.txt
Output, one line per result, as bench_seq2seq's with impl=pytorch.
"""
import argparse
import contextlib
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD, BOS, EOS = 0, 1, 2


# ---- files written by bench_seq2seq ----

def read_safetensors(path):
    """name -> tensor: 8-byte little-endian header length N, N bytes of JSON, then the raw data."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        tensors[name] = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


def read_plan(path, magic):
    """(config dict, list of batches), each batch a dict of int64 tensors (format: bench/seq2seq_plan.h)."""
    with open(path) as f:
        lines = f.read().split("\n")
    if lines[0] != f"{magic} 1":
        raise SystemExit(f"{path}: expected a '{magic} 1' file, got '{lines[0]}'")
    config = dict(item.split("=", 1) for item in lines[1].split()[1:])
    count = int(lines[2].split()[1])
    ids = lambda line, shape: torch.tensor([int(v) for v in line.split()], dtype=torch.int64).reshape(shape)
    batches, at = [], 3
    for _ in range(count):
        sizes = [int(v) for v in lines[at].split()[1:]]
        S, B = sizes[0], sizes[1]
        batch = {"src": ids(lines[at + 1], (S, B)), "src_lengths": ids(lines[at + 2], (B,))}
        if magic == "seq2seq-plan":
            T = sizes[2]
            batch["tgt_in"] = ids(lines[at + 3], (T, B))
            batch["tgt_out"] = ids(lines[at + 4], (T, B))
            batch["tgt_rows"] = (batch["tgt_out"].reshape(-1) != PAD).nonzero().squeeze(1)  # (N) t·B + b of the tokens
        else:
            batch["indices"] = [int(v) for v in lines[at + 3].split()]
        batch["src_mask"] = torch.arange(S).unsqueeze(0) < batch["src_lengths"].unsqueeze(1)  # (B, S), true = real
        batches.append(batch)
        at += 5 if magic == "seq2seq-plan" else 4
    return config, batches


# ---- the models ----

def gru_step(gi, h, weight_hh, bias_hh):
    """h' from gi (B, 3H) = x W_ihᵀ + b_ih and h (B, H); gate blocks r | z | n (nn/recurrent/gru_cell.h)."""
    gh = F.linear(h, weight_hh, bias_hh)  # (B, 3H)
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def cell_step(cell, x, h):
    """The decoder's GRUCell on x = [E y; c] (B, E + C): gru_step on its float weights, or, once
    quantize_for_decoding has made it a dynamically quantized GRUCell, the cell itself (int8 products)."""
    if isinstance(cell, nn.GRUCell):
        return gru_step(F.linear(x, cell.weight_ih, cell.bias_ih), h, cell.weight_hh, cell.bias_hh)
    return cell(x, h)


class Encoder(nn.Module):
    """embed (V_src, E), gru: E -> H (one direction, Cho) or 2H (bidirectional, Bahdanau)."""

    def __init__(self, vocab, embed, hidden, bidirectional, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(embed, hidden, bidirectional=bidirectional)

    def forward(self, src, lengths):
        """src (S, B), lengths (B) -> outputs (S, B, D·H) (0 at padding), h_n (D, B, H)."""
        packed = pack_padded_sequence(self.dropout(self.embed(src)), lengths, enforce_sorted=False)
        outputs, h_n = self.gru(packed)
        outputs, _ = pad_packed_sequence(outputs, total_length=src.shape[0])
        return outputs, h_n


class AdditiveAttention(nn.Module):
    """score_bj = vᵀ tanh(W_k h_j + b_k + W_q s_b), masked softmax, context = Σ_j α_bj h_j."""

    def __init__(self, query, key, size):
        super().__init__()
        self.query_proj = nn.Linear(query, size, bias=False)
        self.key_proj = nn.Linear(key, size)
        self.v = nn.Linear(size, 1, bias=False)

    def forward(self, query, keys, projected_keys, mask):
        """query (B, Qd), keys (B, S, Kd), projected_keys (B, S, A), mask (B, S) -> context (B, Kd), α (B, S)."""
        scores = self.v(torch.tanh(projected_keys + self.query_proj(query).unsqueeze(1))).squeeze(2)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights


class Decoder(nn.Module):
    def __init__(self, vocab, embed, hidden, context, out_in, dropout, attention, tied=False):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.init_state = nn.Linear(context, hidden)
        if attention:
            self.attention = AdditiveAttention(hidden, context, hidden)
        self.gru = nn.GRUCell(embed + context, hidden)  # weight_ih columns E y | c
        # Tied (Press & Wolf 2017, apps/translate/models/bahdanau_model.h): out projects to E, the embedding matrix to V.
        self.tied = tied
        self.out = nn.Linear(out_in, embed if tied else vocab)
        if tied:
            self.out_bias = nn.Parameter(torch.zeros(vocab))

    def logits(self, features):
        projected = self.out(features)
        if not self.tied:
            return projected
        if hasattr(self, "tied_out"):  # quantized for decoding (quantize_for_decoding)
            return self.tied_out(projected)
        return F.linear(projected, self.embed.weight, self.out_bias)


class ChoModel(nn.Module):
    """apps/translate/models/cho_model.h: c = h_n, s_0 = tanh(W_c c + b_c),
    s_t = GRUCell([E y_{t-1}; c], s_{t-1}), logits_t = W_o [s_t; E y_{t-1}; c] + b_o."""

    def __init__(self, c):
        super().__init__()
        self.E, self.H = c["embed"], c["hidden"]
        self.encoder = Encoder(c["src_vocab"], self.E, self.H, False, c["dropout"])
        self.decoder = Decoder(c["tgt_vocab"], self.E, self.H, self.H, 2 * self.H + self.E, c["dropout"], False)

    def encode(self, src, lengths, mask):
        _, h_n = self.encoder(src, lengths)
        c = h_n[0]  # (B, H)
        return {"context": c, "mask": mask, "initial_hidden": torch.tanh(self.decoder.init_state(c))}

    def forward(self, src, lengths, mask, tgt_in, rows=None):
        d, E, H = self.decoder, self.E, self.H
        enc = self.encode(src, lengths, mask)
        c = enc["context"]
        y = d.dropout(d.embed(tgt_in))  # (T, B, E)
        # split, not w[:, :E]: its backward concatenates, where slicing's zero-fills a whole weight-sized gradient
        w_ih_y, w_ih_c = d.gru.weight_ih.split([E, H], 1)  # (3H, E), (3H, H) of (3H, E + H)
        gi = F.linear(y, w_ih_y) + F.linear(c, w_ih_c, d.gru.bias_ih)  # (T, B, 3H) + (B, 3H)
        s, states = enc["initial_hidden"], []
        for gi_t in gi.unbind(0):  # unbind, not gi[t]: one backward node, not T zero-filled (T, B, 3H) gradients
            s = gru_step(gi_t, s, d.gru.weight_hh, d.gru.bias_hh)
            states.append(s)
        s_all = d.dropout(torch.stack(states))  # (T, B, H)
        w_out_sy, w_out_c = d.out.weight.split([H + E, H], 1)  # of (V, H + E + H), columns s | E y | c
        s_y, share = torch.cat([s_all, y], 2), F.linear(c, w_out_c, d.out.bias)  # (T, B, H + E), (B, V)
        if rows is not None:  # the output layer at rows t·B + b alone, as tapegrad's forward_at: (N, ...)
            s_y, share = s_y.reshape(-1, H + E).index_select(0, rows), share.index_select(0, rows % c.shape[0])
        return F.linear(s_y, w_out_sy) + share  # (T, B, V) + (B, V), or (N, V)

    def step(self, enc, prev, hidden):
        d, c = self.decoder, enc["context"]
        y = d.dropout(d.embed(prev))  # (B, E)
        s = cell_step(d.gru, torch.cat([y, c], 1), hidden)
        logits = d.out(torch.cat([d.dropout(s), y, c], 1))
        return torch.log_softmax(logits, -1), s


class BahdanauModel(nn.Module):
    """apps/translate/models/bahdanau_model.h: h = BiGRU(E_src x), s_0 = tanh(W_s [h→_last; h←_first] + b_s),
    c_t = attention(s_{t-1}, h), s_t = GRUCell([E y_{t-1}; c_t], s_{t-1}), logits_t = W_o [s_t; c_t; E y_{t-1}] + b_o."""

    def __init__(self, c):
        super().__init__()
        self.E, self.H = c["embed"], c["hidden"]
        self.encoder = Encoder(c["src_vocab"], self.E, self.H, True, c["dropout"])
        self.decoder = Decoder(c["tgt_vocab"], self.E, self.H, 2 * self.H, 3 * self.H + self.E, c["dropout"], True,
                               c["tied"])

    def encode(self, src, lengths, mask):
        outputs, h_n = self.encoder(src, lengths)
        keys = outputs.permute(1, 0, 2).contiguous()  # (B, S, 2H)
        s0 = torch.tanh(self.decoder.init_state(torch.cat([h_n[0], h_n[1]], 1)))
        return {"keys": keys, "projected_keys": self.decoder.attention.key_proj(keys), "mask": mask,
                "initial_hidden": s0}

    def forward(self, src, lengths, mask, tgt_in, rows=None):
        d, E = self.decoder, self.E
        enc = self.encode(src, lengths, mask)
        y = d.dropout(d.embed(tgt_in))  # (T, B, E)
        w_ih_y, w_ih_c = d.gru.weight_ih.split([E, 2 * self.H], 1)  # of (3H, E + 2H); split: see ChoModel.forward
        gi_y = F.linear(y, w_ih_y, d.gru.bias_ih)  # (T, B, 3H)
        s, states, contexts = enc["initial_hidden"], [], []
        for gi_y_t in gi_y.unbind(0):  # unbind: see ChoModel.forward
            context, _ = d.attention(s, enc["keys"], enc["projected_keys"], mask)  # (B, 2H) from s_{t-1}
            s = gru_step(gi_y_t + F.linear(context, w_ih_c), s, d.gru.weight_hh, d.gru.bias_hh)
            states.append(s)
            contexts.append(context)
        features = torch.cat([torch.stack(states), torch.stack(contexts), y], 2)  # (T, B, 3H + E)
        if rows is not None:  # the output layer at rows t·B + b alone, as tapegrad's forward_at: (N, 3H + E)
            features = features.reshape(-1, features.shape[-1]).index_select(0, rows)
        return d.logits(features)  # (T, B, V) or (N, V)

    def step(self, enc, prev, hidden):
        d = self.decoder
        y = d.dropout(d.embed(prev))  # (B, E)
        context, _ = d.attention(hidden, enc["keys"], enc["projected_keys"], enc["mask"])
        s = cell_step(d.gru, torch.cat([y, context], 1), hidden)
        logits = d.logits(torch.cat([s, context, y], 1))
        return torch.log_softmax(logits, -1), s


def sinusoids(length, d):
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...), computed in float64 as nn::sinusoidal_positions."""
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    rate = torch.pow(10000.0, -torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
    return pe.float()


class TransformerModel(nn.Module):
    """apps/translate/models/transformer_model.h with torch.nn's Transformer layers (the same names: encoder.layers.i.*,
    encoder.norm, decoder.layers.i.*, decoder.norm, encoder/decoder.embed, decoder.out or decoder.out_bias):
    x = dropout(E[src]·√d + PE), memory = encoder(x, key padding), h = decoder(y, memory, causal, memory
    key padding), logits = out(h) or h E_tgtᵀ + b_v. Time-major (S, B, d) as tapegrad's."""

    def __init__(self, c):
        super().__init__()
        d, F_, L, H = c["embed"], c["hidden"], c["layers"], c["heads"]
        layer = dict(dim_feedforward=F_, dropout=c["dropout"], norm_first=c["norm_first"])
        self.d = d
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, H, **layer), L, norm=nn.LayerNorm(d),
                                             enable_nested_tensor=False)
        self.encoder.embed = nn.Embedding(c["src_vocab"], d, padding_idx=PAD)
        self.encoder.dropout = nn.Dropout(c["dropout"])
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, H, **layer), L, norm=nn.LayerNorm(d))
        self.decoder.embed = nn.Embedding(c["tgt_vocab"], d, padding_idx=PAD)
        self.decoder.dropout = nn.Dropout(c["dropout"])
        self.tied = c["tied"]
        if self.tied:
            self.decoder.out_bias = nn.Parameter(torch.zeros(c["tgt_vocab"]))
        else:
            self.decoder.out = nn.Linear(d, c["tgt_vocab"])
        self.register_buffer("pe", sinusoids(512, d), persistent=False)

    def embed(self, side, tokens):
        return side.dropout(side.embed(tokens) * math.sqrt(self.d) + self.pe[:tokens.shape[0]].unsqueeze(1))

    def forward(self, src, lengths, mask, tgt_in, rows=None):
        ignore = ~mask  # (B, S), true = padding
        memory = self.encoder(self.embed(self.encoder, src), src_key_padding_mask=ignore)
        T = tgt_in.shape[0]
        causal = torch.triu(torch.full((T, T), float("-inf"), device=src.device), 1)
        h = self.decoder(self.embed(self.decoder, tgt_in), memory, tgt_mask=causal, memory_key_padding_mask=ignore)
        if rows is not None:  # the output layer at rows t·B + b alone, as tapegrad's forward_at: (N, d)
            h = h.reshape(-1, h.shape[-1]).index_select(0, rows)
        return F.linear(h, self.decoder.embed.weight, self.decoder.out_bias) if self.tied else self.decoder.out(h)


def make_model(config, dropout=None):
    c = {k: int(config[k]) for k in ("src_vocab", "tgt_vocab", "embed", "hidden")}
    c["dropout"] = float(config["dropout"]) if dropout is None else dropout
    c["tied"] = config.get("tie_embeddings", "0") == "1"
    if config["model"] == "transformer":
        c.update(layers=int(config["layers"]), heads=int(config["heads"]), norm_first=config["norm_first"] == "1")
        return TransformerModel(c)
    if c["tied"] and config["model"] != "bahdanau":
        raise SystemExit("tie_embeddings=1 is built for the bahdanau and transformer models only")
    if config.get("cell", "gru") != "gru":
        raise SystemExit(f"only the GRU cell is built here, got cell={config['cell']}")
    return {"cho": ChoModel, "bahdanau": BahdanauModel}[config["model"]](c)


def load_weights(model, path):
    model.load_state_dict(read_safetensors(path), strict=True)


def to_device(batches, device):
    """Every tensor of every batch on `device`, except src_lengths (pack_padded_sequence wants them on the host)."""
    return [{k: (v.to(device) if torch.is_tensor(v) and k != "src_lengths" else v) for k, v in b.items()}
            for b in batches]


def wait_for(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_device_mb(device):
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---- train ----

def run_train(args):
    config, batches = read_plan(args.plan, "seq2seq-plan")
    device = torch.device(args.device)
    batches = to_device(batches, device)
    torch.manual_seed(int(config["seed"]))
    model = make_model(config)
    load_weights(model, args.init)
    model.to(device)
    model.train()
    params = list(model.parameters())
    adam = torch.optim.Adam(params, lr=float(config["lr"]))
    clip, warmup = float(config["clip"]), int(config["warmup"])
    # --precision: tf32 allows TF32 products; bf16 and fp16 run forward and loss under torch.autocast
    # (fp16 with a GradScaler), the peers of bench_seq2seq train --precision.
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    if hasattr(torch.amp, "GradScaler"):
        scaler = torch.amp.GradScaler(device.type, enabled=args.precision == "fp16")
    else:  # torch before 2.3 (Debian's): the CUDA one, which turns itself off without a GPU
        scaler = torch.cuda.amp.GradScaler(enabled=args.precision == "fp16" and device.type == "cuda")
    start_rss_mb = peak_rss_mb()  # interpreter, torch, batches, model: before any step
    timed_seconds, timed_tokens, losses = 0.0, 0, []
    for step, b in enumerate(batches):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=half) if half else contextlib.nullcontext():
            # The output layer and the loss at the target tokens alone, as tapegrad's Seq2Seq::loss (the rows
            # found with the plan, on the host: no nonzero() to wait for on a GPU).
            rows = b["tgt_rows"]
            logits = model(b["src"], b["src_lengths"], b["src_mask"], b["tgt_in"], rows)  # (N, V)
            loss = F.cross_entropy(logits.float(), b["tgt_out"].reshape(-1).index_select(0, rows), ignore_index=PAD)
        losses.append(loss.item())
        scaler.scale(loss).backward()
        scaler.unscale_(adam)
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        scaler.step(adam)
        scaler.update()
        adam.zero_grad(set_to_none=True)
        wait_for(device)
        seconds = time.perf_counter() - start
        if step >= warmup:
            timed_seconds += seconds
            timed_tokens += int((b["tgt_out"] != PAD).sum())
    print(f"seq2seq impl=pytorch model={config['model']} mode=train device={device} precision={args.precision} "
          f"threads={args.threads} steps={len(batches)} "
          f"warmup={warmup} batch={batches[0]['src'].shape[1]} dropout={config['dropout']} tokens={timed_tokens} "
          f"seconds={timed_seconds:.3f} tok_per_s={timed_tokens / timed_seconds:.1f} "
          f"start_rss_mb={start_rss_mb:.1f} peak_rss_mb={peak_rss_mb():.1f} peak_device_mb={peak_device_mb(device):.1f} first_loss={losses[0]:.8g} last_loss={losses[-1]:.8g}", flush=True)


# ---- decode ----

def select_rows(enc, rows):
    """Rows `rows` (N,) of every tensor of an encoding, batch axis first."""
    return {k: v.index_select(0, rows) for k, v in enc.items()}


def block_count(open_count, B):
    """search.cpp's block_count: a power of two up to 8, then a multiple of 8, at most B."""
    blocks = 1
    while blocks < open_count and blocks < 8:
        blocks *= 2
    if open_count > 8:
        blocks = (open_count + 7) // 8 * 8
    return min(blocks, B)


def greedy_decode(model, b, max_len):
    """apps/translate/search.h's greedy_decode: token lists in batch order. As there, when the open
    sentences fit in fewer rows (block_count) the state shrinks to them, idle rows repeating the first."""
    enc = model.encode(b["src"], b["src_lengths"], b["src_mask"])
    B, device = b["src"].shape[1], b["src"].device
    ids = lambda values: torch.tensor(values, dtype=torch.int64, device=device)
    tokens, finished = [[] for _ in range(B)], [False] * B
    row_of, blocks = list(range(B)), B  # row_of[s]: the state row of open sentence s
    laid_out, prev, hidden = enc, torch.full((B,), BOS, dtype=torch.int64, device=device), enc["initial_hidden"]
    for _ in range(max_len):
        log_probs, new_hidden = model.step(laid_out, prev, hidden)
        best = log_probs.argmax(1).tolist()
        open_sentences = []
        for s in range(B):
            if finished[s]:
                continue
            token = best[row_of[s]]
            if token == EOS:
                finished[s] = True
            else:
                tokens[s].append(token)
                open_sentences.append(s)
        if not open_sentences:
            break
        needed = block_count(len(open_sentences), B)
        if needed < blocks:
            rows = [row_of[s] for s in open_sentences] + [0] * (needed - len(open_sentences))
            sentences = open_sentences + [open_sentences[0]] * (needed - len(open_sentences))
            hidden = new_hidden.index_select(0, ids(rows))
            laid_out = select_rows(enc, ids(sentences))
            row_of = {s: k for k, s in enumerate(open_sentences)}
            blocks = needed
        else:
            hidden = new_hidden
        prev_rows = [PAD] * blocks
        for s in open_sentences:
            prev_rows[row_of[s]] = tokens[s][-1]
        prev = ids(prev_rows)
    return tokens


def normalized_score(log_prob, length, alpha):
    return log_prob if length <= 0 or alpha == 0 else log_prob / length ** alpha


def finished_score(h, alpha):
    """h = (tokens, log_prob, ended with <eos>); <eos> counts in the length."""
    return normalized_score(h[1], len(h[0]) + (1 if h[2] else 0), alpha)


def best_finished(finished, alpha):
    """The finished hypothesis with the best normalized score, the first on ties."""
    best = finished[0]
    for h in finished[1:]:
        if finished_score(h, alpha) > finished_score(best, alpha):
            best = h
    return best


def extend(alive, finished, top, K, V, alpha):
    """One sentence's step of search.h's rule: `top` = its 2K best (score, flat index) by score, ties by index.
    Appends the <eos> endings among the first K to `finished`; returns the open hypotheses and their parents'
    positions in `alive`, or ([], []) once the sentence is done."""
    nxt, parents = [], []
    for r, (score, index) in enumerate(top[:min(2 * K, len(alive) * V)]):
        if len(nxt) >= K:
            break
        i, token = divmod(index, V)
        if token == EOS:
            if r < K:  # an <eos> below the first K is not a top-K extension
                finished.append((alive[i][0], score, True))
            continue
        nxt.append((alive[i][0] + [token], score))
        parents.append(i)
    done = not nxt or (len(finished) >= K and finished_score(best_finished(finished, alpha), alpha) >=
                       normalized_score(nxt[0][1], len(nxt[0][0]), alpha))
    return ([], []) if done else (nxt, parents)


def beam_search(model, b, K, max_lens, alpha):
    """Beam search for every sentence of a batch at once, with search.h's rules per sentence: the K best open
    hypotheses (all of one length); at each step the 2K best extensions by log_prob (in float64, as there), see
    extend(); after its max_len steps a sentence's open hypotheses compete as they are. Returns the best finished
    hypothesis' tokens per sentence."""
    enc = model.encode(b["src"], b["src_lengths"], b["src_mask"])
    B, device = b["src"].shape[1], b["src"].device
    ids = lambda values: torch.tensor(values, dtype=torch.int64, device=device)
    alive = [[([], 0.0)] for _ in range(B)]  # per sentence: (tokens, log_prob) of its open hypotheses
    finished = [[] for _ in range(B)]  # per sentence: (tokens, log_prob, ended with <eos>)
    hidden, row_sentence = enc["initial_hidden"], list(range(B))  # row r of hidden: a hypothesis of row_sentence[r]
    active, rows_of, enc_rows = list(range(B)), None, None
    for t in range(max(max_lens) + 1):
        cut = [s for s in active if t >= max_lens[s]]
        for s in cut:  # after max_len steps the open hypotheses compete as they are
            finished[s] += [(tokens, lp, False) for tokens, lp in alive[s]]
            alive[s] = []
        if cut:
            keep = [r for r, s in enumerate(row_sentence) if alive[s]]
            hidden = hidden.index_select(0, ids(keep))
            row_sentence = [row_sentence[r] for r in keep]
        active = [s for s in active if alive[s]]
        if not active:
            break
        if row_sentence != rows_of:  # the encoding repeated per row, selected again only when the rows change
            rows_of = row_sentence
            enc_rows = select_rows(enc, ids(rows_of))
        prev = ids([h[0][-1] if h[0] else BOS for s in active for h in alive[s]])
        log_probs, new_hidden = model.step(enc_rows, prev, hidden)
        V = log_probs.shape[1]
        base = torch.tensor([lp for s in active for _, lp in alive[s]], dtype=torch.float64, device=device)
        scores = log_probs.double() + base.unsqueeze(1)  # (n, V)
        # Each active sentence's hypotheses side by side, (A, K·V), -inf where it has fewer than K.
        slots = ids([a * K + j for a, s in enumerate(active) for j in range(len(alive[s]))])
        padded = torch.full((len(active) * K, V), float("-inf"), dtype=torch.float64, device=device)
        padded.index_copy_(0, slots, scores)
        top_scores, top_index = padded.view(len(active), K * V).topk(2 * K, dim=1)
        parents, first_row = [], 0
        for a, s in enumerate(active):
            top = sorted(zip(top_scores[a].tolist(), top_index[a].tolist()), key=lambda c: (-c[0], c[1]))
            n = len(alive[s])
            alive[s], picked = extend(alive[s], finished[s], top, K, V, alpha)
            parents += [first_row + i for i in picked]
            first_row += n
        active = [s for s in active if alive[s]]
        row_sentence = [s for s in active for _ in alive[s]]
        if parents:
            hidden = new_hidden.index_select(0, ids(parents))
    return [best_finished(finished[s], alpha)[0] for s in range(B)]


def read_outputs(path):
    """kind -> {sentence index: token ids} from bench_seq2seq decode --outputs."""
    out = {}
    with open(path) as f:
        for line in f:
            kind, index, *ids = line.split()
            out.setdefault(kind, {})[int(index)] = [int(v) for v in ids]
    return out


def print_decode(config, args, mode, sentences, seconds, out_tokens, same):
    extra = f" identical_to_tapegrad={same[0]}/{same[1]}" if same else ""
    print(f"seq2seq impl=pytorch model={config['model']} mode={mode} device={args.device} threads={args.threads} sentences={sentences} "
          f"seconds={seconds:.3f} sent_per_s={sentences / seconds:.2f} out_tokens={out_tokens} "
          f"peak_rss_mb={peak_rss_mb():.1f}{extra}", flush=True)


def identical(ours, theirs):
    if theirs is None:
        return None
    return sum(1 for i, tokens in ours.items() if theirs.get(i) == tokens), len(ours)


def run_decode(args):
    config, batches = read_plan(args.plan, "seq2seq-decode-plan")
    if config["model"] == "transformer":
        raise SystemExit("decode: the transformer is timed in training only (torch.nn's Transformer has no cached "
                         "incremental decoding to compare with)")
    device = torch.device(args.device)
    batches = to_device(batches, device)
    model = make_model(config, dropout=0.0)
    load_weights(model, args.weights)
    model.to(device)
    model.eval()
    reference = read_outputs(args.compare) if args.compare else {}
    K, alpha = int(config["beam"]), float(config["length_penalty"])

    def timed_pass(model, suffix):
        """Greedy, then beam search; `suffix` ("" or "-int8") names the pass as bench_seq2seq names it."""
        with torch.no_grad():
            limit = lambda b: 2 * b["src"].shape[0] + 10  # evaluate.cpp's output_limit of the longest source
            greedy_decode(model, batches[0], limit(batches[0]))  # warm-up, untimed
            start = time.perf_counter()
            greedy = {}
            for b in batches:
                for index, tokens in zip(b["indices"], greedy_decode(model, b, limit(b))):
                    greedy[index] = tokens
            seconds = time.perf_counter() - start
            print_decode(config, args, "greedy" + suffix, len(greedy), seconds, sum(map(len, greedy.values())),
                         identical(greedy, reference.get("greedy" + suffix)))

            # Beam search on the sentences tapegrad searched (all, or its --beam-sentences), in the same batches.
            wanted = set(reference["beam"]) if "beam" in reference else None
            start = time.perf_counter()
            beams = {}
            for b in batches:
                keep = [k for k, i in enumerate(b["indices"]) if wanted is None or i in wanted]
                if not keep:
                    continue
                sub = sub_batch(b, keep)
                max_lens = [2 * int(n) + 10 for n in sub["src_lengths"]]  # output_limit of each source
                for index, tokens in zip(sub["indices"], beam_search(model, sub, K, max_lens, alpha)):
                    beams[index] = tokens
            seconds = time.perf_counter() - start
            print_decode(config, args, f"beam{K}{suffix}", len(beams), seconds, sum(map(len, beams.values())),
                         identical(beams, reference.get("beam" + suffix)))

    timed_pass(model, "")
    if args.quantize == "int8":
        timed_pass(quantize_for_decoding(model), "-int8")


def quantize_for_decoding(model):
    """The peer of tapegrad's --quantize int8 (Seq2Seq::quantize_for_decoding): PyTorch's quantize_dynamic on the
    decoder step's products: the output layer (decoder.out, and with tied embeddings E_tgt as a Linear of its own)
    and Bahdanau's attention W_q with per-channel (per output row) int8 weights, the recurrent models' decoder
    GRUCell and encoder GRU with per-tensor int8 weights (the only kind quantize_dynamic has for recurrent layers);
    inputs are quantized at run time, the rest stays float32. The Transformer: its output layer only, as tapegrad's."""
    d = model.decoder
    per_channel = {"decoder.out"}
    if getattr(d, "tied", False):
        d.tied_out = nn.Linear(d.embed.embedding_dim, d.embed.num_embeddings)
        d.tied_out.weight, d.tied_out.bias = d.embed.weight, d.out_bias
        per_channel.add("decoder.tied_out")
    spec = {name: torch.ao.quantization.per_channel_dynamic_qconfig for name in per_channel}
    if hasattr(d, "attention") and hasattr(d.attention, "query_proj"):
        spec["decoder.attention.query_proj"] = torch.ao.quantization.per_channel_dynamic_qconfig
    if isinstance(getattr(d, "gru", None), nn.GRUCell):
        spec["decoder.gru"] = torch.ao.quantization.default_dynamic_qconfig
        spec["encoder.gru"] = torch.ao.quantization.default_dynamic_qconfig
    return torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)


def sub_batch(b, keep):
    """Sentences `keep` (positions) of a decoding batch, trimmed to their longest source."""
    rows = torch.tensor(keep, dtype=torch.int64)
    lengths = b["src_lengths"].index_select(0, rows)  # on the host
    S = int(lengths.max())
    rows = rows.to(b["src"].device)
    return {"src": b["src"][:S].index_select(1, rows), "src_lengths": lengths,
            "src_mask": b["src_mask"][:, :S].index_select(0, rows), "indices": [b["indices"][k] for k in keep]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    train = sub.add_parser("train", help="train on bench_seq2seq's batch plan from its initial weights")
    train.add_argument("--plan", required=True, help="bench_seq2seq train --plan")
    train.add_argument("--init", required=True, help="bench_seq2seq train --init")
    train.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16", "fp16"],
                       help="fp32; tf32 products; bf16 or fp16 autocast (fp16 with a GradScaler)")
    decode = sub.add_parser("decode", help="greedy and beam search on bench_seq2seq's decoding plan")
    decode.add_argument("--plan", required=True, help="bench_seq2seq decode --plan")
    decode.add_argument("--weights", required=True, help="the parameters bench_seq2seq decoded with")
    decode.add_argument("--compare", help="bench_seq2seq decode --outputs: count identical outputs")
    decode.add_argument("--quantize", default="none", choices=["none", "int8"],
                        help="int8: the searches again with quantize_dynamic on the decoder step's products (modes *-int8)")
    for p in (train, decode):
        p.add_argument("--threads", type=int, default=2, help="intra-op threads")
        p.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    run_train(args) if args.mode == "train" else run_decode(args)


if __name__ == "__main__":
    main()
