#!/usr/bin/env python3
"""Engine-vs-PyTorch table from Swift and peer.py JSON outputs.

    python bench/peer/compare.py SWIFT.json TORCH.json [SWIFT2.json TORCH2.json ...]

Each file holds one JSON object, or one per line. Objects printed by peer.py carry
"framework": "pytorch"; every other object is a Swift one. Each PyTorch object is paired with the
Swift object of the same kind (engine with engine, ground with ground, ...), whatever the order of
the files. The kind of a Swift object is its "task" key (`medglip bench profile --json`), or, for
the older bench outputs: `bench engine` (sgemm_peak_gflops), `bench grounding` (train_images_per_s),
`bench mrg` (cpu_train_step_ms), `bench vqa` (generate_train_step_ms / classify_train_step_ms).

The ratio column is "engine speed / PyTorch speed": > 1 means the Swift engine is faster. For
throughputs (GFLOP/s, per second, fractions of peak) that is engine / PyTorch; for times (*_ms,
*_us) it is PyTorch / engine.
"""

import json
import sys

ENGINE_KEYS = ["sgemm_peak_gflops", "matmul_raw_gflops", "matmul_fwd_bwd_gflops", "conv_fwd_bwd_gflops",
               "transformer_layer_ms", "tiny_op_us", "matmul_raw_fraction_of_peak", "matmul_fraction_of_peak",
               "conv_fraction_of_peak", "threads", "blas_core"]
TASK_KEYS = ["step_ms", "parameters", "batch", "threads"]


def load(path):
    with open(path) as f:
        text = f.read()
    try:
        obj = json.loads(text)
        return [obj] if isinstance(obj, dict) else list(obj)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def kind(obj):
    if "task" in obj:
        return {"grounding": "ground"}.get(obj["task"], obj["task"])
    if "sgemm_peak_gflops" in obj:
        return "engine"
    if "train_images_per_s" in obj:
        return "ground"
    if "cpu_train_step_ms" in obj:
        return "mrg"
    if "generate_train_step_ms" in obj or "classify_train_step_ms" in obj:
        return "vqa"
    return None


def normalise_swift(obj, k, torch_obj):
    """Older Swift bench outputs: derive step_ms (and note what was assumed)."""
    obj, notes = dict(obj), []
    if "step_ms" not in obj:
        if k == "ground" and "train_images_per_s" in obj:
            batch = obj.get("batch") or torch_obj.get("batch") or 8
            obj["step_ms"] = 1000.0 * batch / obj["train_images_per_s"]
            notes.append(f"swift step_ms = {batch} / train_images_per_s")
        elif k == "mrg" and "cpu_train_step_ms" in obj:
            obj["step_ms"] = obj["cpu_train_step_ms"]
            notes.append("swift step_ms = cpu_train_step_ms")
        elif k == "vqa":
            head = torch_obj.get("head", "generate")
            if f"{head}_train_step_ms" in obj:
                obj["step_ms"] = obj[f"{head}_train_step_ms"]
                notes.append(f"swift step_ms = {head}_train_step_ms")
    return obj, notes


def higher_is_better(key):
    return key.endswith("_gflops") or key.endswith("_per_s") or key.endswith("_fraction_of_peak")


def lower_is_better(key):
    return key.endswith("_ms") or key.endswith("_us")


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def ratio(key, s, t):
    if not isinstance(s, (int, float)) or not isinstance(t, (int, float)) or s <= 0 or t <= 0:
        return "-"
    if higher_is_better(key):
        return f"{s / t:.2f}x"
    if lower_is_better(key):
        return f"{t / s:.2f}x"
    return "-"


def params_match(s, t):
    sp, tp = s.get("parameters"), t.get("parameters")
    if sp is None or tp is None:
        return "n/a" if tp is None else "? (no Swift count)"
    return "yes" if int(sp) == int(tp) else f"NO ({int(sp):,} vs {int(tp):,})"


def main(paths):
    if len(paths) < 2:
        sys.exit(__doc__)
    objects = [o for p in paths for o in load(p)]
    torch_objs = [o for o in objects if o.get("framework") == "pytorch"]
    swift_objs = [o for o in objects if o.get("framework") != "pytorch"]
    if not torch_objs:
        sys.exit("compare.py: no peer.py output among the files (objects with \"framework\": \"pytorch\")")
    rows, notes, used = [], [], set()
    for t in torch_objs:
        k = kind(t)
        match = next((i for i, s in enumerate(swift_objs) if i not in used and kind(s) == k), None)
        if match is None:
            notes.append(f"{k}: no Swift output of this kind; skipped")
            continue
        used.add(match)
        s, extra = normalise_swift(swift_objs[match], k, t)
        notes += [f"{k}: {n}" for n in extra]
        if s.get("threads") is not None and t.get("threads") is not None and int(s["threads"]) != int(t["threads"]):
            notes.append(f"{k}: thread counts differ (engine {int(s['threads'])}, PyTorch {int(t['threads'])})")
        pm = "-" if k == "engine" else params_match(s, t)
        keys = ENGINE_KEYS if k == "engine" else TASK_KEYS
        keys = keys + [key for key in t if key in s and key not in keys and isinstance(t[key], (int, float))
                       and not isinstance(t[key], bool) and (higher_is_better(key) or lower_is_better(key))]
        for key in keys:
            if key not in s and key not in t:
                continue
            rows.append((k, key, fmt(s.get(key)), fmt(t.get(key)), ratio(key, s.get(key), t.get(key)),
                         pm if key in ("step_ms", "parameters") else ""))
    for i, s in enumerate(swift_objs):
        if i not in used:
            notes.append(f"{kind(s) or 'unknown'}: Swift output without a PyTorch peer; skipped")
    header = ("kind", "key", "engine (Swift)", "PyTorch", "engine vs PyTorch (>1 = engine faster)", "params match")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()  # noqa: E731
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print("\nratio: throughput keys (GFLOP/s, /s, fraction of peak) engine/PyTorch; time keys (_ms, _us) PyTorch/engine.")
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    main(sys.argv[1:])
