#!/usr/bin/env python3
"""PyTorch peer of MedGLIP's Swift benchmarks: the same computations, timed the same way.

    python bench/peer/peer.py --task engine --threads 2 --seconds 1 --json
    python bench/peer/peer.py --task ground|mrg|vqa [--config FILE] --threads 2 --seconds 3 --json

`engine` mirrors `medglip bench engine` (Sources/CLI/EngineBench.swift) shape for shape and prints
the same JSON keys where they apply. `ground`, `mrg` and `vqa` rebuild the Swift models layer by
layer (same modules, same parameter count) and time one training step (forward + loss + backward +
optimizer step) on random data, with the batch and optimizer of the Swift bench step. Every number
is the median of repeated runs after one warm-up, lasting about `--seconds` and at least 3 runs: the
rule of Swift's `medianSeconds` (Sources/CLI/BenchTiming.swift). See README.md beside this file.
"""

import argparse
import json
import math
import os
import sys
import time


def _early_threads(argv):
    """--threads N, read before torch is imported: set_num_interop_threads must come before any
    parallel work, and OMP/MKL read their environment at load time."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return None


_THREADS = _early_threads(sys.argv[1:])
if _THREADS is not None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(_THREADS)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

if _THREADS is not None:
    torch.set_num_threads(_THREADS)
    torch.set_num_interop_threads(_THREADS)


# ----------------------------------------------------------------------------------------------
# Timing: Swift's medianSeconds.

def median_seconds(budget, body):
    """Median wall time of `body` over repeated runs lasting about `budget` seconds after one
    warm-up, and at least 3 runs (Sources/CLI/BenchTiming.swift)."""
    body()
    times = []
    deadline = time.monotonic() + budget
    while True:
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
        if time.monotonic() >= deadline and len(times) >= 3:
            break
    times.sort()
    return times[len(times) // 2]


# ----------------------------------------------------------------------------------------------
# Shared modules, as in Sources/Tensor/Modules.

ATTENTION = "sdpa"  # or "math" (--attention): how softmax(q k^T / sqrt(d) + mask) v is computed
_CAUSAL = {}


def causal_mask(tq, tk):
    """Additive mask hiding later keys; query i sits at position i + (tk - tq), as in Swift's
    scaledDotProductAttention, so a prefix of keys stays visible."""
    key = (tq, tk)
    if key not in _CAUSAL:
        future = torch.ones(tq, tk, dtype=torch.bool).triu(tk - tq + 1)
        _CAUSAL[key] = torch.zeros(tq, tk).masked_fill(future, float("-inf"))
    return _CAUSAL[key]


def attention(q, k, v, mask=None, causal=False):
    tq, tk = q.shape[-2], k.shape[-2]
    if causal:
        mask = causal_mask(tq, tk) if mask is None else mask + causal_mask(tq, tk)
    if ATTENTION == "sdpa":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = torch.matmul(q, k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + mask
    return torch.matmul(scores.softmax(-1), v)


class MultiHeadAttention(nn.Module):
    """Swift's MultiHeadAttention: q/k/v/out projections (xavier weights, zero biases); every use
    in the models has dropout 0, so there is no dropout (and none on the attention weights)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        for lin in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, query, key, value, mask=None, causal=False):
        return self.attend(self.q_proj(query), self.k_proj(key), self.v_proj(value), mask, causal)

    def forward_prefix(self, prefix, rows, prefix_of, mask=None):
        """Causal self-attention of rows continuing shared prefixes (Swift's
        forward(prefix:rows:prefixOf:mask:)): each prefix's keys and values projected once."""
        pk, pv = self.k_proj(prefix), self.v_proj(prefix)
        keys = torch.cat([pk.index_select(0, prefix_of), self.k_proj(rows)], 1)
        values = torch.cat([pv.index_select(0, prefix_of), self.v_proj(rows)], 1)
        return (self.attend(self.q_proj(prefix), pk, pv, None, True),
                self.attend(self.q_proj(rows), keys, values, mask, True))

    def attend(self, q, k, v, mask, causal):
        b, tq, d = q.shape
        h = self.heads

        def split(x):
            return x.view(b, x.shape[1], h, d // h).transpose(1, 2)

        out = attention(split(q), split(k), split(v), mask, causal)
        return self.out_proj(out.transpose(1, 2).reshape(b, tq, d))


class UnbiasedLayerNorm(nn.Module):
    """R2Gen's layer norm (NormVariant.unbiasedStd): w * (x - mean) / (std_unbiased + eps) + b."""

    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        return self.weight * (x - mean) / (x.std(-1, keepdim=True) + self.eps) + self.bias


def layer_norm(d, eps, unbiased=False):
    return UnbiasedLayerNorm(d, eps) if unbiased else nn.LayerNorm(d, eps=eps)


class FeedForward(nn.Module):
    """Linear -> ReLU (GELU if asked) -> dropout -> Linear."""

    def __init__(self, d, d_ff, p, gelu=False):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.dropout = nn.Dropout(p)
        self.gelu = gelu

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(self.dropout(F.gelu(h) if self.gelu else F.relu(h)))


class TransformerEncoderLayer(nn.Module):
    """Swift's pre-norm encoder layer: x + drop(SelfAttn(LN1(x))), then h + drop(FFN(LN2(h))),
    LayerNorm eps 1e-6, ReLU feed-forward, no dropout inside attention."""

    def __init__(self, d, heads, d_ff, p=0.1, unbiased=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads)
        self.feed_forward = FeedForward(d, d_ff, p)
        self.norm1, self.norm2 = layer_norm(d, 1e-6, unbiased), layer_norm(d, 1e-6, unbiased)
        self.dropout = nn.Dropout(p)

    def forward(self, x, mask=None):
        n1 = self.norm1(x)
        h = x + self.dropout(self.self_attn(n1, n1, n1, mask))
        return h + self.dropout(self.feed_forward(self.norm2(h)))

    def forward_prefix(self, prefix, rows, prefix_of, mask=None):
        ap, ar = self.self_attn.forward_prefix(self.norm1(prefix), self.norm1(rows), prefix_of, mask)
        p, r = prefix + self.dropout(ap), rows + self.dropout(ar)
        return (p + self.dropout(self.feed_forward(self.norm2(p))),
                r + self.dropout(self.feed_forward(self.norm2(r))))


class ResidualBlock(nn.Module):
    """conv3x3 -> GN -> ReLU -> conv3x3 -> GN, plus a 1x1 projected shortcut, then ReLU (no conv biases)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm1, self.norm2 = nn.GroupNorm(8, cout), nn.GroupNorm(8, cout)
        self.shortcut = None if cin == cout and stride == 1 else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        h = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
        return F.relu(h + (x if self.shortcut is None else self.shortcut(x)))


class ResidualCNN(nn.Module):
    """Stride-2 conv3x3 + GN + ReLU stem, then one stride-2 ResidualBlock per further width."""

    def __init__(self, cin, channels):
        super().__init__()
        self.stem = nn.Conv2d(cin, channels[0], 3, 2, 1, bias=False)
        self.stem_norm = nn.GroupNorm(8, channels[0])
        self.stages = nn.ModuleList(ResidualBlock(channels[i - 1], channels[i], 2) for i in range(1, len(channels)))

    def forward(self, x):
        x = F.relu(self.stem_norm(self.stem(x)))
        for stage in self.stages:
            x = stage(x)
        return x


def spatial_tokens(x):
    """[B, C, H, W] -> [B, H*W, C]."""
    b, c = x.shape[:2]
    return x.reshape(b, c, -1).transpose(1, 2)


def timed(args, step):
    """The step's median time, or None with --count-only (model built, nothing run)."""
    return None if args.count_only else median_seconds(args.seconds, step)


def per(value, t):
    """value / t, or None when nothing was timed."""
    return None if t is None else value / t


def parameter_count(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------------------------
# Config files.

def load_config(path):
    """A bare model config, `{"config": ...}` (medglip bench profile), or a run's config.json with
    the model under "model". Returns (model config, run config or {})."""
    if path is None:
        return {}, {}
    with open(path) as f:
        obj = json.load(f)
    if isinstance(obj.get("config"), dict):
        obj = obj["config"]
    if isinstance(obj.get("model"), dict):
        return obj["model"], obj
    return obj, {}


def pick(cfg, defaults):
    """The Swift defaults overridden by the file's fields (same names as the Swift properties)."""
    out = dict(defaults)
    for k in defaults:
        if k in cfg:
            out[k] = cfg[k]
    return out


def check_no_injection(cfg, task):
    mode = (cfg.get("injection") or {}).get("mode", "none")
    if mode != "none":
        raise SystemExit(f"peer.py: {task} with grounding injection (mode '{mode}') is not replicated; only mode 'none'")


# ----------------------------------------------------------------------------------------------
# engine: Sources/CLI/EngineBench.swift.

def blas_core():
    info = torch.__config__.show()
    blas = next((part.split("=", 1)[1] for part in info.replace(",", "\n").split() if part.startswith("BLAS_INFO=")), "?")
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except Exception:
        cap = "?"
    return f"torch-{blas}-{cap}"


def run_engine(args):
    torch.manual_seed(1)
    seconds = args.seconds
    rows = {}
    n = 1024
    a = torch.rand(n, n) * 2 - 1
    c = torch.empty(n, n)

    def measure_peak():
        with torch.no_grad():
            t = median_seconds(seconds, lambda: torch.mm(a, a, out=c))
        return 2 * n ** 3 / t / 1e9

    peak = measure_peak()

    # The linear layer's three GEMMs as plain torch.mm calls (no autograd).
    m, k = 64, 1024
    xs = torch.rand(m, k) * 2 - 1
    ys, dxs, dws = torch.empty(m, n), torch.empty(m, k), torch.empty(n, k)

    def raw():
        torch.mm(xs, a.t(), out=ys)
        torch.mm(ys, a, out=dxs)
        torch.mm(ys.t(), xs, out=dws)

    with torch.no_grad():
        raw_time = median_seconds(seconds, raw)
    rows["matmul_raw_gflops"] = 3 * 2 * 64.0 * 1024 * 1024 / raw_time / 1e9

    layer = nn.Linear(1024, 1024)
    x = torch.randn(64, 1024, requires_grad=True)
    seed = torch.ones(64, 1024)

    def linear_step():
        layer.zero_grad()
        x.grad = None
        layer(x).backward(seed)

    rows["matmul_fwd_bwd_gflops"] = 3 * 2 * 64.0 * 1024 * 1024 / median_seconds(seconds, linear_step) / 1e9

    conv = nn.Conv2d(64, 64, 3, padding=1)
    nn.init.kaiming_normal_(conv.weight)
    image = torch.randn(16, 64, 56, 56, requires_grad=True)
    conv_seed = torch.ones(16, 64, 56, 56)

    def conv_step():
        conv.zero_grad()
        image.grad = None
        conv(image).backward(conv_seed)

    rows["conv_fwd_bwd_gflops"] = 3 * 2 * 16.0 * 64 * 56 * 56 * 64 * 9 / median_seconds(seconds, conv_step) / 1e9

    encoder = TransformerEncoderLayer(512, 8, 2048, 0.1).train()
    tokens = torch.randn(16, 98, 512, requires_grad=True)
    token_seed = torch.ones(16, 98, 512)

    def layer_step():
        encoder.zero_grad()
        tokens.grad = None
        encoder(tokens).backward(token_seed)

    rows["transformer_layer_ms"] = median_seconds(seconds, layer_step) * 1e3

    chain = 10_000
    start = torch.randn(64, requires_grad=True)
    ones64 = torch.ones(64)

    def chain_step():
        start.grad = None
        t = start
        for i in range(chain):
            t = t * 0.999 if i % 2 == 0 else t + 0.001
        t.backward(ones64)

    rows["tiny_op_us"] = median_seconds(seconds, chain_step) / chain * 1e6
    rows["threads"] = torch.get_num_threads()
    peak = max(peak, measure_peak())
    out = {"sgemm_peak_gflops": peak}
    out.update(rows)
    out["matmul_raw_fraction_of_peak"] = rows["matmul_raw_gflops"] / peak
    out["matmul_fraction_of_peak"] = rows["matmul_fwd_bwd_gflops"] / peak
    out["conv_fraction_of_peak"] = rows["conv_fwd_bwd_gflops"] / peak
    out["blas_core"] = blas_core()
    return out


# ----------------------------------------------------------------------------------------------
# ground: Sources/Grounding (MedGLIP.swift, ImageEncoder.swift, LanguageEncoder.swift,
# DeepFusion.swift, AlignmentHead.swift, GroundingLoss.swift, SubwordTokenizer.swift).

GROUNDING_DEFAULTS = {
    "dModel": 64, "heads": 4, "textLayers": 2, "fusionLayers": 1, "fusion": True,
    "channels": [16, 24, 48, 96, 128], "strides": [8, 16, 32], "maxTokens": 64,
    "experts": "per-modality", "modalities": [], "priorProbability": 0.01,
}
BENCH_PHRASES = ["nodule", "mass", "pleural effusion", "pneumothorax", "consolidation", "heart", "right lung", "left lung"]


class SubwordTokenizer:
    """A port of SubwordTokenizer.swift (BPE learned from the prompts' words), so the vocabulary
    (the token embedding's size) and the prompt's token ids are the Swift ones."""
    PAD, CLS, SEP, UNK = 0, 1, 2, 3
    SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]

    def __init__(self, vocabulary, merges):
        self.vocabulary = list(vocabulary)
        self.merges = [tuple(m) for m in merges]
        self.ids = {w: i for i, w in enumerate(self.vocabulary)}
        self.ranks = {f"{a} {b}": i for i, (a, b) in enumerate(self.merges)}

    @staticmethod
    def words(text):
        out, cur, start = [], "", 0
        for i, ch in enumerate(text.lower()):
            if ch.isalnum():
                if not cur:
                    start = i
                cur += ch
            else:
                if cur:
                    out.append((cur, (start, i)))
                    cur = ""
                if not ch.isspace():
                    out.append((ch, (i, i + 1)))
        if cur:
            out.append((cur, (start, start + len(cur))))
        return out

    @staticmethod
    def pieces(word):
        return [ch if i == 0 else "##" + ch for i, ch in enumerate(word)]

    @staticmethod
    def merge(w, pair):
        out, i = [], 0
        while i < len(w):
            if i + 1 < len(w) and w[i] == pair[0] and w[i + 1] == pair[1]:
                out.append(w[i] + w[i + 1].replace("##", ""))
                i += 2
            else:
                out.append(w[i])
                i += 1
        return out

    @classmethod
    def learn(cls, texts, max_merges=400):
        words = {}
        for text in texts:
            for w, _ in cls.words(text):
                if w[0].isalnum():
                    key = tuple(cls.pieces(w))
                    words[key] = words.get(key, 0) + 1
        learned = []
        while len(learned) < max_merges:
            pairs = {}
            for w, n in words.items():
                for p in zip(w, w[1:]):
                    pairs[p] = pairs.get(p, 0) + n
            if not pairs:
                break
            # Most frequent pair; ties broken alphabetically (as the Swift code does).
            best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0][0] + " " + kv[0][1]))
            if count < 2:
                break
            learned.append(best)
            merged = {}
            for w, n in words.items():
                key = tuple(cls.merge(list(w), best))
                merged[key] = merged.get(key, 0) + n
            words = merged
        vocab = cls.SPECIALS + [".", ",", ";", ":", "-", "/", "(", ")"]
        seen = set(vocab)
        for ch in sorted(set(c for c in "".join(texts).lower() if c.isalnum())):
            for piece in (ch, "##" + ch):
                if piece not in seen:
                    seen.add(piece)
                    vocab.append(piece)
        for a, b in learned:
            piece = a + b.replace("##", "")
            if piece not in seen:
                seen.add(piece)
                vocab.append(piece)
        return cls(vocab, learned)

    def encode(self, text):
        ids, spans = [], []
        for word, (start, _) in self.words(text):
            w = self.pieces(word)
            while len(w) > 1:
                ranks = [self.ranks[f"{a} {b}"] for a, b in zip(w, w[1:]) if f"{a} {b}" in self.ranks]
                if not ranks:
                    break
                w = self.merge(w, self.merges[min(ranks)])
            offset = start
            for piece in w:
                length = len(piece) - 2 if piece.startswith("##") else len(piece)
                ids.append(self.ids.get(piece, self.UNK))
                spans.append((offset, offset + length))
                offset += length
        return ids, spans


def grounding_prompt(phrases, tokenizer, max_tokens):
    """GroundingPrompt.swift: "p1. p2. ... pn." as [CLS] ids [SEP] and each phrase's token positions."""
    cleaned = [p.strip().strip(".") for p in phrases]
    text, spans = "", []
    for p in cleaned:
        start = len(text)
        text += p
        spans.append((start, len(text)))
        text += ". "
    text = text[:-1]
    ids, token_spans = tokenizer.encode(text)
    if len(ids) + 2 > max_tokens:
        raise SystemExit(f"peer.py: prompt of {len(ids) + 2} tokens exceeds maxTokens {max_tokens}")
    positive = [[i + 1 for i, (lo, hi) in enumerate(token_spans) if s <= lo < e and hi <= e] for s, e in spans]
    return [SubwordTokenizer.CLS] + ids + [SubwordTokenizer.SEP], positive


class ImageEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, d = cfg["channels"], cfg["dModel"]
        self.stem = nn.Conv2d(3, c[0], 3, 2, 1, bias=False)
        self.stem_norm = nn.GroupNorm(8, c[0])
        self.stages = nn.ModuleList(ResidualBlock(c[i - 1], c[i], 2) for i in range(1, len(c)))
        levels = len(cfg["strides"])
        self.lateral = nn.ModuleList(nn.Conv2d(ch, d, 1) for ch in c[-levels:])
        self.output = nn.ModuleList(nn.Conv2d(d, d, 3, padding=1) for _ in range(levels))

    def forward(self, images):
        x = F.relu(self.stem_norm(self.stem(images)))
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        c = features[-len(self.lateral):]
        top = self.lateral[-1](c[-1])
        pyramid = [top]
        for level in reversed(range(len(c) - 1)):
            lat = self.lateral[level](c[level])
            top = lat + F.interpolate(top, size=lat.shape[2:], mode="nearest")
            pyramid.insert(0, top)
        return [conv(p) for conv, p in zip(self.output, pyramid)]


class LanguageEncoder(nn.Module):
    def __init__(self, vocabulary, cfg):
        super().__init__()
        d = cfg["dModel"]
        self.tokens = nn.Embedding(vocabulary, d)
        self.positions = nn.Embedding(cfg["maxTokens"], d)
        for e in (self.tokens, self.positions):
            nn.init.normal_(e.weight, std=0.02)
        self.layers = nn.ModuleList(TransformerEncoderLayer(d, cfg["heads"], 2 * d, 0.1) for _ in range(cfg["textLayers"]))
        self.norm = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.tokens(ids.unsqueeze(0)) + self.positions(torch.arange(ids.numel()))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class FusionLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["dModel"]
        self.image_to_text = MultiHeadAttention(d, cfg["heads"])
        self.text_to_image = MultiHeadAttention(d, cfg["heads"])
        self.image_norm, self.text_norm = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, image, text):
        vi, lt = self.image_norm(image), self.text_norm(text)
        return image + self.image_to_text(vi, lt, lt), text + self.text_to_image(lt, vi, vi)


def l2_normalized(x, eps=1e-6):
    return x / ((x * x).sum(-1, keepdim=True) + eps).sqrt()


class AlignmentHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["dModel"]

        def tower():
            return nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.GroupNorm(8, d), nn.ReLU(),
                                 nn.Conv2d(d, d, 3, padding=1), nn.GroupNorm(8, d), nn.ReLU())

        self.cls_tower, self.reg_tower = tower(), tower()
        self.image_projection, self.text_projection = nn.Linear(d, d), nn.Linear(d, d)
        self.token_bias = nn.Linear(d, 1)
        nn.init.zeros_(self.token_bias.weight)
        nn.init.zeros_(self.token_bias.bias)
        self.log_scale = nn.Parameter(torch.zeros(1))
        p = cfg["priorProbability"]
        self.bias_prior = nn.Parameter(torch.full((1,), -math.log((1 - p) / p)))
        self.regression = nn.Conv2d(d, 4, 3, padding=1)
        self.centerness = nn.Conv2d(d, 1, 3, padding=1)
        for conv in (self.regression, self.centerness):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)
        self.level_scales = nn.Parameter(torch.ones(len(cfg["strides"])))

    def forward(self, levels, text):
        b, d = levels[0].shape[:2]
        cls, reg, ctr = [], [], []
        for k, level in enumerate(levels):
            cls.append(spatial_tokens(self.cls_tower(level)))
            r = self.reg_tower(level)
            reg.append(F.relu(self.regression(r) * self.level_scales[k:k + 1]).reshape(b, 4, -1).transpose(1, 2))
            ctr.append(self.centerness(r).reshape(b, -1))
        features = l2_normalized(self.image_projection(torch.cat(cls, 1)))
        prompt = l2_normalized(self.text_projection(text))
        dot = torch.matmul(features, prompt.transpose(1, 2)) * torch.exp(-self.log_scale)
        bias = (self.token_bias(text) + self.bias_prior).transpose(1, 2)
        return dot + bias, torch.cat(reg, 1), torch.cat(ctr, 1)


class MedGLIPModel(nn.Module):
    def __init__(self, cfg, vocabulary):
        super().__init__()
        self.cfg = cfg
        experts = 1 if cfg["experts"] == "shared" else max(1, len(cfg["modalities"]))
        self.image_encoders = nn.ModuleList(ImageEncoder(cfg) for _ in range(experts))
        self.language = LanguageEncoder(vocabulary, cfg)
        layers = cfg["fusionLayers"] if cfg["fusion"] else 0
        self.fusion = nn.ModuleList(FusionLayer(cfg) for _ in range(layers))
        self.head = AlignmentHead(cfg)

    def forward(self, images, prompt_ids, expert=0):
        levels = self.image_encoders[expert](images)
        b, d = images.shape[0], self.cfg["dModel"]
        text = self.language(prompt_ids).repeat(b, 1, 1)  # the prompt is shared by the batch
        if len(self.fusion) == 0:
            return self.head(levels, text)
        sizes = [lv.shape[2] * lv.shape[3] for lv in levels]
        image = torch.cat([lv.reshape(b, d, -1).transpose(1, 2) for lv in levels], 1)
        for layer in self.fusion:
            image, text = layer(image, text)
        fused = [tok.transpose(1, 2).reshape(lv.shape) for tok, lv in zip(image.split(sizes, 1), levels)]
        return self.head(fused, text)


def box_iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = lambda x: max(0.0, x[2] - x[0]) * max(0.0, x[3] - x[1])  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


class PointGrid:
    """PointGrid.swift: one point per feature-map cell centre, with ATSS's square anchors."""

    def __init__(self, width, height, strides, anchor_scale=8.0):
        self.levels, self.points = [], []
        for s in strides:
            w, h = (width + s - 1) // s, (height + s - 1) // s
            self.levels.append((s, w, h, len(self.points)))
            self.points += [(float(x * s + s // 2), float(y * s + s // 2)) for y in range(h) for x in range(w)]
        self.anchor_scale = anchor_scale

    def stride_of(self, i):
        return [lv for lv in self.levels if lv[3] <= i][-1][0]

    def anchor(self, i):
        half = self.anchor_scale * self.stride_of(i) / 2
        x, y = self.points[i]
        return (x - half, y - half, x + half, y + half)


def atss_assign(grid, boxes, top_k=9):
    """ATSSAssigner.swift (largest-IoU ambiguity rule): the box index of each point, or None."""
    best = [None] * len(grid.points)
    for g, box in enumerate(boxes):
        if not (box[2] > box[0] and box[3] > box[1]):
            continue
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        candidates = []
        for s, w, h, offset in grid.levels:
            idx = range(offset, offset + w * h)
            near = sorted(idx, key=lambda i: ((grid.points[i][0] - cx) ** 2 + (grid.points[i][1] - cy) ** 2, i))
            candidates += near[:top_k]
        ious = [box_iou(grid.anchor(i), box) for i in candidates]
        mean = sum(ious) / len(ious)
        var = sum((v - mean) ** 2 for v in ious) / (len(ious) - 1) if len(ious) > 1 else 0.0
        threshold = mean + math.sqrt(var)
        for i, iou in zip(candidates, ious):
            if iou < threshold:
                continue
            px, py = grid.points[i]
            if min(px - box[0], py - box[1], box[2] - px, box[3] - py) <= 0.01:
                continue
            if best[i] is None or iou > best[i][1]:
                best[i] = (g, iou)
    return [None if b is None else b[0] for b in best]


def centerness_target(box, point, stride):
    l, t = (point[0] - box[0]) / stride, (point[1] - box[1]) / stride
    r, b = (box[2] - point[0]) / stride, (box[3] - point[1]) / stride
    if min(l, t, r, b) <= 0:
        return 0.0
    return math.sqrt((min(l, r) / max(l, r)) * (min(t, b) / max(t, b)))


class GroundingLoss:
    """GroundingLoss.swift: token-level sigmoid focal loss (alpha 0.25, gamma 2) over every token of
    every point / positives, centerness-weighted GIoU, and centerness BCE. The ATSS assignment of
    the (fixed) bench targets is done once here instead of inside every step."""

    def __init__(self, grid, targets, positive_map, batch, tokens):
        p = len(grid.points)
        token_targets = torch.zeros(batch, p, tokens)
        rows, xy, signs, goal, ctr = [], [], [], [], []
        for i, (boxes, phrases) in enumerate(targets):
            sharing = [[phrases[j] for j in range(len(boxes)) if j == g or box_iou(boxes[j], boxes[g]) >= 0.95]
                       for g in range(len(boxes))]
            for point, g in enumerate(atss_assign(grid, boxes)):
                if g is None:
                    continue
                for phrase in sharing[g]:
                    for token in positive_map[phrase]:
                        token_targets[i, point, token] = 1
                box, pt, s = boxes[g], grid.points[point], float(grid.stride_of(point))
                rows.append(i * p + point)
                xy.append([pt[0], pt[1], pt[0], pt[1]])
                signs.append([-s, -s, s, s])
                goal.append(list(box))
                ctr.append(centerness_target(box, pt, s))
        self.positives = len(rows)
        self.token_targets = token_targets
        self.rows = torch.tensor(rows, dtype=torch.long)
        self.xy, self.signs, self.goal = torch.tensor(xy), torch.tensor(signs), torch.tensor(goal)
        self.weights = torch.tensor(ctr)
        self.norm = float(max(len(rows), 1))
        self.weight_sum = max(sum(ctr), 1e-6)

    @staticmethod
    def focal(logits, targets, alpha=0.25, gamma=2.0):
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        one_minus_pt = (p + targets - 2 * p * targets).clamp(min=0)
        return (ce * one_minus_pt.pow(gamma) * (targets * (2 * alpha - 1) + (1 - alpha))).sum()

    @staticmethod
    def giou(pred, target, eps=1e-7):
        p, t = pred.unbind(1), target.unbind(1)
        area_p, area_t = (p[2] - p[0]) * (p[3] - p[1]), (t[2] - t[0]) * (t[3] - t[1])
        iw = (torch.minimum(p[2], t[2]) - torch.maximum(p[0], t[0])).clamp(min=0)
        ih = (torch.minimum(p[3], t[3]) - torch.maximum(p[1], t[1])).clamp(min=0)
        inter = iw * ih
        union = area_p + area_t - inter + eps
        enclose = (torch.maximum(p[2], t[2]) - torch.minimum(p[0], t[0])) * (torch.maximum(p[3], t[3]) - torch.minimum(p[1], t[1])) + eps
        return 1 - (inter / union - (enclose - union) / enclose)

    def __call__(self, out):
        logits, ltrb, centerness = out
        b, p, _ = logits.shape
        cls = self.focal(logits, self.token_targets) / self.norm
        if self.positives == 0:
            return cls + ltrb.sum() * 0 + centerness.sum() * 0
        picked = ltrb.reshape(b * p, 4).index_select(0, self.rows)
        predicted = self.xy + picked * self.signs
        reg = (self.giou(predicted, self.goal) * self.weights).sum() / self.weight_sum
        ctr = F.binary_cross_entropy_with_logits(centerness.reshape(b * p).index_select(0, self.rows), self.weights,
                                                 reduction="sum") / self.norm
        return cls + reg + ctr


def run_ground(args):
    model_cfg, run_cfg = load_config(args.config)
    cfg = pick(model_cfg, GROUNDING_DEFAULTS)
    if not model_cfg:
        cfg["modalities"] = ["X-ray"]  # GroundingBench: one X-ray expert
    image_size = args.image_size or run_cfg.get("imageSize") or 256
    if "tokenizer" in run_cfg:
        tokenizer = SubwordTokenizer(run_cfg["tokenizer"]["vocabulary"], run_cfg["tokenizer"]["merges"])
    else:
        tokenizer = SubwordTokenizer.learn(BENCH_PHRASES + BENCH_PHRASES)
    prompts = run_cfg.get("prompts") or {m: BENCH_PHRASES for m in (cfg["modalities"] or ["X-ray"])}
    # Grounder.trainingStepTimer: the first modality's prompt and expert.
    modalities = sorted(prompts) if cfg["experts"] == "shared" else cfg["modalities"]
    modality = modalities[0] if modalities else "unknown"
    phrases = prompts.get(modality) or BENCH_PHRASES
    ids, positive_map = grounding_prompt(phrases, tokenizer, cfg["maxTokens"])
    expert = 0 if cfg["experts"] == "shared" or modality not in cfg["modalities"] else cfg["modalities"].index(modality)

    torch.manual_seed(0)
    model = MedGLIPModel(cfg, len(tokenizer.vocabulary)).train()
    batch = args.batch or 8
    s = float(image_size)
    images = torch.randn(batch, 3, image_size, image_size)
    targets = [([(s * 0.3, s * 0.3, s * 0.5, s * 0.45)], [0]) for _ in range(batch)]
    grid = PointGrid(image_size, image_size, cfg["strides"])
    loss_fn = GroundingLoss(grid, targets, positive_map, batch, len(ids))
    prompt_ids = torch.tensor(ids, dtype=torch.long)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4, foreach=args.foreach)

    def step():
        out = model(images, prompt_ids, expert)
        optimizer.zero_grad()
        loss_fn(out).backward()
        optimizer.step()

    t = timed(args, step)
    return {"task": "ground", "step_ms": None if t is None else t * 1e3, "train_images_per_s": per(batch, t), "parameters": parameter_count(model),
            "batch": batch, "image_size": image_size, "prompt_tokens": len(ids), "positives": loss_fn.positives,
            "vocabulary": len(tokenizer.vocabulary), "config": cfg}


# ----------------------------------------------------------------------------------------------
# mrg: Sources/ReportGen (R2GenModel.swift, RelationalMemory.swift, ConditionalLayerNorm.swift,
# MemoryDrivenDecoder.swift, ReportGenConfig.swift), step as in Sources/CLI/MRGBench.swift.

REPORTGEN_DEFAULTS = {
    "dataset": "iu-xray", "imageSize": 128, "channels": [16, 32, 64, 128], "dModel": 128, "dFF": 256,
    "heads": 4, "layers": 2, "memorySlots": 3, "dropout": 0.1, "beamSize": 3,
}
CHEXPERT_OBSERVATIONS = 14


def sinusoidal_positions(length, d):
    pos = torch.zeros(length, d, dtype=torch.float64)
    for p in range(length):
        for i in range(0, d, 2):
            angle = p / math.pow(10000, i / d)
            pos[p, i] = math.sin(angle)
            if i + 1 < d:
                pos[p, i + 1] = math.cos(angle)
    return pos.float()


class RelationalMemory(nn.Module):
    def __init__(self, slots, d, heads):
        super().__init__()
        self.slots, self.d = slots, d
        self.attention = MultiHeadAttention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU())
        self.input_gates, self.memory_gates = nn.Linear(d, 2 * d), nn.Linear(d, 2 * d)

    def initial_state(self, batch):
        m = torch.zeros(batch, self.slots, self.d)
        for s in range(min(self.slots, self.d)):
            m[:, s, s] = 1
        return m

    def step(self, memory, token):
        token = token.unsqueeze(1)
        keys = torch.cat([memory, token], 1)
        nxt = memory + self.attention(memory, keys, keys)
        nxt = nxt + self.mlp(nxt)
        gates = (self.input_gates(token) + self.memory_gates(torch.tanh(memory))).split(self.d, dim=2)
        return torch.sigmoid(gates[0]) * torch.tanh(nxt) + torch.sigmoid(gates[1]) * memory

    def forward(self, tokens, memory):
        b, t = tokens.shape[:2]
        states = []
        for i in range(t):
            memory = self.step(memory, tokens[:, i])
            states.append(memory.reshape(b, self.slots * self.d))
        return torch.stack(states, 1)


class ConditionalLayerNorm(nn.Module):
    def __init__(self, d, width):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))

        def mlp():
            a, b = nn.Linear(width, d), nn.Linear(d, d)
            for lin in (a, b):
                nn.init.xavier_uniform_(lin.weight)
                nn.init.constant_(lin.bias, 0.1)
            return nn.Sequential(a, nn.ReLU(), b)

        self.mlp_gamma, self.mlp_beta = mlp(), mlp()
        self.eps = 1e-6

    def forward(self, x, memory):
        mean = x.mean(-1, keepdim=True)
        normalized = (x - mean) / (x.std(-1, keepdim=True) + self.eps)
        return normalized * (self.gamma + self.mlp_gamma(memory)) + (self.beta + self.mlp_beta(memory))


class MemoryDrivenDecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, width = cfg["dModel"], cfg["memorySlots"] * cfg["dModel"]
        self.self_attn, self.cross_attn = MultiHeadAttention(d, cfg["heads"]), MultiHeadAttention(d, cfg["heads"])
        self.feed_forward = FeedForward(d, cfg["dFF"], cfg["dropout"])
        self.norm1, self.norm2, self.norm3 = (ConditionalLayerNorm(d, width) for _ in range(3))
        self.dropout = nn.Dropout(cfg["dropout"])

    def forward(self, x, encoded, memory):
        n1 = self.norm1(x, memory)
        h = x + self.dropout(self.self_attn(n1, n1, n1, causal=True))
        n2 = self.norm2(h, memory)
        h = h + self.dropout(self.cross_attn(n2, encoded, encoded))
        return h + self.dropout(self.feed_forward(self.norm3(h, memory)))


class R2GenModel(nn.Module):
    def __init__(self, cfg, vocabulary):
        super().__init__()
        d = cfg["dModel"]
        self.cfg = cfg
        self.visual_extractor = ResidualCNN(1, cfg["channels"])
        self.patch_embedding = nn.Linear(cfg["channels"][-1], d)
        self.encoder_layers = nn.ModuleList(TransformerEncoderLayer(d, cfg["heads"], cfg["dFF"], cfg["dropout"], unbiased=True)
                                            for _ in range(cfg["layers"]))
        self.encoder_norm = UnbiasedLayerNorm(d, 1e-6)
        self.token_embedding = nn.Embedding(vocabulary, d)
        self.relational_memory = RelationalMemory(cfg["memorySlots"], d, cfg["heads"])
        self.decoder_layers = nn.ModuleList(MemoryDrivenDecoderLayer(cfg) for _ in range(cfg["layers"]))
        self.decoder_norm = ConditionalLayerNorm(d, cfg["memorySlots"] * d)
        self.logit = nn.Linear(d, vocabulary)
        self.label_head = nn.Linear(cfg["channels"][-1], CHEXPERT_OBSERVATIONS)  # a parameter; no grad in this step
        self.dropout = nn.Dropout(cfg["dropout"])
        max_len = 60 if cfg["dataset"] == "iu-xray" else 100
        self.register_buffer("positions", sinusoidal_positions(max(max_len, 48) + 1, d))

    def attention_features(self, images, views):
        patches = spatial_tokens(self.visual_extractor(images))
        n, p, c = patches.shape
        features = patches.reshape(n // views, views * p, c)
        global_token = features.max(1).values.reshape(n // views, 1, c)
        return torch.cat([features, global_token], 1)

    def encode(self, feats):
        x = self.dropout(F.relu(self.patch_embedding(feats)))
        for layer in self.encoder_layers:
            x = layer(x)
        return self.encoder_norm(x)

    def forward(self, encoded, ids):
        b, t = ids.shape
        x = self.dropout(self.token_embedding(ids) * math.sqrt(self.cfg["dModel"]) + self.positions[:t])
        memory = self.relational_memory(x, self.relational_memory.initial_state(b))
        h = x
        for layer in self.decoder_layers:
            h = layer(h, encoded, memory)
        return F.log_softmax(self.logit(self.decoder_norm(h, memory)), -1)

    def loss(self, encoded, inputs, targets, mask):
        log_probs = self.forward(encoded, inputs)
        nll = F.nll_loss(log_probs.reshape(-1, log_probs.shape[-1]), targets.reshape(-1), reduction="none")
        return (nll * mask.reshape(-1)).sum() / mask.sum()


def run_mrg(args):
    model_cfg, _ = load_config(args.config)
    check_no_injection(model_cfg, "mrg")
    cfg = pick(model_cfg, REPORTGEN_DEFAULTS)
    views = 2 if cfg["dataset"] == "iu-xray" else 1
    length = 60 if cfg["dataset"] == "iu-xray" else 100
    vocabulary = args.vocabulary
    batch = args.batch or 16
    torch.manual_seed(0)
    model = R2GenModel(cfg, vocabulary + 1).train()
    s = cfg["imageSize"]
    images = torch.rand(batch * views, 1, s, s) * 4 - 2
    seqs = torch.zeros(batch, length, dtype=torch.long)
    seqs[:, 1:length - 1] = torch.randint(1, vocabulary + 1, (batch, length - 2))
    inputs, targets = seqs[:, :-1].contiguous(), seqs[:, 1:].contiguous()
    mask = torch.ones(batch, length - 1)  # every sequence has the full length: all targets count
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-4, weight_decay=5e-5, amsgrad=True, foreach=args.foreach)

    def step():
        loss = model.loss(model.encode(model.attention_features(images, views)), inputs, targets, mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 0.1)
        optimizer.step()

    t = timed(args, step)
    return {"task": "mrg", "step_ms": None if t is None else t * 1e3, "train_tokens_per_s": per(batch * (length - 1), t),
            "parameters": parameter_count(model), "batch": batch, "views": views, "tokens": length,
            "vocabulary": vocabulary + 1, "config": cfg}


# ----------------------------------------------------------------------------------------------
# vqa: Sources/VQA (VQAModel.swift, VQAConfig.swift, VQAVocabulary.swift, ConversationTemplate.swift,
# VQATrainer.swift), step as in VQABenchmark.swift: 8 images x 8 questions, AdamW, clip norm 1.

VQA_DEFAULTS = {
    "imageSize": 128, "channels": [32, 48, 96, 128], "dModel": 128, "dFF": 256, "heads": 4, "layers": 4,
    "dropout": 0.1, "maxQuestionTokens": 40, "maxAnswerTokens": 12, "patchCoordinates": True,
}
VQA_SPECIALS = ["<pad>", "<unk>", "<image>", "<human>", "<assistant>", "<eos>"]
PAD, UNKNOWN, IMAGE, HUMAN, ASSISTANT, EOS = range(6)
EDGE_PUNCTUATION = set('?,.;:!"()')
ORGANS = ["liver", "heart", "left lung", "right kidney", "spleen", "brain"]


def vqa_tokenize(text):
    out = []
    for word in text.lower().split():
        trailing = []
        while word and word[0] in EDGE_PUNCTUATION:
            out.append(word[0])
            word = word[1:]
        while word and word[-1] in EDGE_PUNCTUATION:
            trailing.insert(0, word[-1])
            word = word[:-1]
        if word:
            out.append(word)
        out += trailing
    return out


class VQAVocabulary:
    def __init__(self, questions, answers, extra):
        seen = set(w for t in questions + answers + extra for w in vqa_tokenize(t))
        self.words = VQA_SPECIALS + sorted(seen - set(VQA_SPECIALS))
        self.index = {w: i for i, w in enumerate(self.words)}
        self.answers = sorted(set(" ".join(vqa_tokenize(a)) for a in answers))

    def encode(self, text):
        return [self.index.get(w, UNKNOWN) for w in vqa_tokenize(text)]


def repo_template():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("MEDGLIP_PROMPTS") or os.path.join(here, "..", "..", "Prompts")
    with open(os.path.join(root, "vqa", "conversation.json")) as f:
        return json.load(f)


class ConversationTemplate:
    def __init__(self, t):
        self.system, self.human, self.assistant = t["system"], t["human"], t["assistant"]

    @staticmethod
    def rest(turn):
        return turn[turn.index(":") + 1:]

    @property
    def words(self):
        return [s.replace("<image>", " ").replace("{question}", " ").replace("{answer}", " ")
                for s in (self.system, self.rest(self.human), self.rest(self.assistant))]

    def prompt_ids(self, question, v, max_question_tokens):
        h, a = self.rest(self.human), self.rest(self.assistant)
        before_image, after_image = h.split("<image>", 1)
        before_question, after_question = after_image.split("{question}", 1)
        ids = v.encode(self.system) + [HUMAN] + v.encode(before_image) + [IMAGE]
        ids += v.encode(before_question) + v.encode(question)[:max_question_tokens] + v.encode(after_question)
        return ids + [ASSISTANT] + v.encode(a[:-len("{answer}")])


class VQAModel(nn.Module):
    def __init__(self, cfg, vocabulary, outputs, max_positions):
        super().__init__()
        d = cfg["dModel"]
        self.cfg = cfg
        self.vision_encoder = ResidualCNN(1, cfg["channels"])
        self.projector = nn.Sequential(nn.Linear(cfg["channels"][-1], d), nn.GELU(), nn.Linear(d, d))
        self.token_embedding = nn.Embedding(vocabulary, d)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.position_embedding = nn.Parameter(torch.randn(max_positions, d) * 0.02)
        self.layers = nn.ModuleList(TransformerEncoderLayer(d, cfg["heads"], cfg["dFF"], cfg["dropout"]) for _ in range(cfg["layers"]))
        self.final_norm = nn.LayerNorm(d)
        self.output = nn.Linear(d, outputs)
        self.dropout = nn.Dropout(cfg["dropout"])
        self.coordinates = nn.Linear(2, d) if cfg["patchCoordinates"] else None

    def image_tokens(self, feature_map):
        patches = self.projector(spatial_tokens(feature_map))
        if self.coordinates is not None:
            g = feature_map.shape[2]
            centre = [(2 * i + 1) / g - 1 for i in range(g)]
            xy = torch.tensor([[centre[j % g], centre[j // g]] for j in range(g * g)])
            patches = patches + self.coordinates(xy)
        return patches

    def continuation_hidden(self, ids, image_tokens, image_of, slot):
        images, p = image_tokens.shape[:2]
        b, t = ids.shape
        tail = t - slot - 1
        text = self.token_embedding(ids[:1, :slot].expand(images, slot))
        prefix = self.dropout(torch.cat([text, image_tokens], 1) + self.position_embedding[:slot + p])
        rows = self.dropout(self.token_embedding(ids[:, slot + 1:]) + self.position_embedding[slot + p:slot + p + tail])
        pad = torch.cat([ids[:, :slot] == PAD, torch.zeros(b, p, dtype=torch.bool), ids[:, slot + 1:] == PAD], 1)
        mask = torch.zeros(b, 1, 1, pad.shape[1]).masked_fill(pad.view(b, 1, 1, -1), float("-inf"))
        for layer in self.layers:
            prefix, rows = layer.forward_prefix(prefix, rows, image_of, mask)
        return self.final_norm(rows)


def teacher_forcing(prompts, answers):
    """TeacherForcing (VQAModel.swift): padded inputs, targets and the answer-token mask."""
    seqs = [p + a for p, a in zip(prompts, answers)]
    length = max(len(s) for s in seqs) - 1
    slot = prompts[0].index(IMAGE)
    inputs, targets, mask = [], [], []
    for s, p in zip(seqs, prompts):
        inputs.append([s[j] if j < len(s) else PAD for j in range(length)])
        for j in range(slot + 1, length):
            targets.append(s[j + 1] if j + 1 < len(s) else PAD)
            mask.append(1.0 if len(p) <= j + 1 < len(s) else 0.0)
    return torch.tensor(inputs), slot, torch.tensor(targets), torch.tensor(mask)


def run_vqa(args):
    model_cfg, run_cfg = load_config(args.config)
    check_no_injection(model_cfg, "vqa")
    if model_cfg.get("localization"):
        raise SystemExit("peer.py: vqa with a localization head is not replicated")
    cfg = pick(model_cfg, VQA_DEFAULTS)
    if model_cfg:
        cfg["patchCoordinates"] = model_cfg.get("patchCoordinates")  # Swift: missing or null means off
    head = args.head or run_cfg.get("head") or "generate"
    template = ConversationTemplate(run_cfg.get("template") or repo_template())
    images, per_image = args.batch or 8, args.questions_per_image
    questions = [f"Where is the {ORGANS[i % len(ORGANS)]} in this image?" for i in range(per_image)]
    vocab = VQAVocabulary(questions, ORGANS, template.words)
    grid = cfg["imageSize"] >> len(cfg["channels"])
    longest = template.prompt_ids(" ".join(["word"] * cfg["maxQuestionTokens"]), vocab, cfg["maxQuestionTokens"])
    max_positions = run_cfg.get("maxPositions") or len(longest) - 1 + grid * grid + cfg["maxAnswerTokens"] + 1
    n = images * per_image
    prompts = [template.prompt_ids(questions[i % per_image], vocab, cfg["maxQuestionTokens"]) for i in range(n)]
    answers = [vocab.encode(ORGANS[i % len(ORGANS)]) + [EOS] for i in range(n)]
    classes = [vocab.answers.index(" ".join(vqa_tokenize(ORGANS[i % len(ORGANS)]))) for i in range(n)]
    image_of = torch.tensor([i // per_image for i in range(n)])

    torch.manual_seed(0)
    outputs = len(vocab.words) if head == "generate" else len(vocab.answers)
    model = VQAModel(cfg, len(vocab.words), outputs, max_positions).train()
    side = cfg["imageSize"] * 8 // 7
    planes = torch.rand(images, 1, side, side)
    s = cfg["imageSize"]
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=args.foreach)
    if head == "generate":
        inputs, slot, targets, mask = teacher_forcing(prompts, answers)
    else:
        slot = prompts[0].index(IMAGE)
        t = max(len(p) for p in prompts)
        inputs = torch.tensor([p + [PAD] * (t - len(p)) for p in prompts])
        tail = t - slot - 1
        last = torch.tensor([i * tail + len(p) - 1 - (slot + 1) for i, p in enumerate(prompts)])
        class_targets = torch.tensor(classes)

    def step():
        # Random crops of the stored planes, normalised (VQASet.pixels), as the Swift step does.
        corners = torch.randint(0, side - s + 1, (images, 2)).tolist()
        pixels = (torch.stack([planes[i, :, y:y + s, x:x + s] for i, (x, y) in enumerate(corners)]) - 0.5) / 0.25
        tokens = model.image_tokens(model.vision_encoder(pixels))
        h = model.continuation_hidden(inputs, tokens, image_of, slot)
        if head == "generate":
            log_probs = F.log_softmax(model.output(h), -1)
            nll = F.nll_loss(log_probs.reshape(-1, log_probs.shape[-1]), targets, reduction="none")
            loss = (nll * mask).sum() / mask.sum()
        else:
            logits = model.output(h.reshape(-1, h.shape[-1]).index_select(0, last))
            loss = F.cross_entropy(logits, class_targets)
        if not math.isfinite(loss.item()):
            raise SystemExit("peer.py: vqa loss is not finite")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    t = timed(args, step)
    return {"task": "vqa", "step_ms": None if t is None else t * 1e3, "parameters": parameter_count(model), "batch": n, "images": images,
            "questions_per_image": per_image, "head": head, "vocabulary": len(vocab.words), "max_positions": max_positions,
            "config": cfg}


# ----------------------------------------------------------------------------------------------

def main():
    global ATTENTION
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, choices=["engine", "ground", "mrg", "vqa"])
    ap.add_argument("--threads", type=int, help="torch intra- and inter-op threads (default: torch's, all cores)")
    ap.add_argument("--seconds", type=float, help="time budget per measurement (default: 1 for engine, 3 otherwise, as in Swift)")
    ap.add_argument("--config", help="JSON model config (bare, {'config': ...}, or a run's config.json with 'model')")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--batch", type=int, help="ground: images (8); mrg: studies (16); vqa: images (8)")
    ap.add_argument("--image-size", type=int, help="ground: input size (256, or the run config's imageSize)")
    ap.add_argument("--vocabulary", type=int, default=760, help="mrg: report vocabulary without the pad id (760)")
    ap.add_argument("--questions-per-image", type=int, default=8, help="vqa: questions per image (8)")
    ap.add_argument("--head", choices=["generate", "classify"], help="vqa: answer head (generate, or the run config's)")
    ap.add_argument("--foreach", action="store_true", default=None,
                    help="multi-tensor (foreach) optimizer steps; default: PyTorch's choice, the per-tensor loop on CPU")
    ap.add_argument("--count-only", action="store_true", help="ground/mrg/vqa: build the model, print its parameter count, time nothing")
    ap.add_argument("--attention", choices=["sdpa", "math"], default="sdpa",
                    help="attention kernel: F.scaled_dot_product_attention (default) or explicit matmul/softmax/matmul")
    args = ap.parse_args()
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be at least 1")
    if args.seconds is None:
        args.seconds = 1.0 if args.task == "engine" else 3.0
    ATTENTION = args.attention
    load = os.getloadavg()[0]  # the machine's state before measuring (others' work skews every number)
    result = {"engine": run_engine, "ground": run_ground, "mrg": run_mrg, "vqa": run_vqa}[args.task](args)
    if args.task == "engine":
        result = {"task": "engine", **result}
    result["threads"] = torch.get_num_threads()
    result["interop_threads"] = torch.get_num_interop_threads()
    result["framework"] = "pytorch"
    result["torch_version"] = torch.__version__
    result["attention"] = ATTENTION
    result["seconds"] = args.seconds
    if args.task != "engine":
        result["foreach"] = bool(args.foreach)
    result["load_average_1m"] = load

    def rounded(v):
        return round(v, 3) if isinstance(v, float) else v

    result = {k: rounded(v) for k, v in result.items()}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:28s} {json.dumps(v) if isinstance(v, (dict, list)) else v}")


if __name__ == "__main__":
    main()
