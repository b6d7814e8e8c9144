"""Epoch times on a GPU (the speed issue's GPU targets), one JSON line per case.

    python benchmarks/bench_gpu.py --device cuda --out benchmarks/results/gpu.jsonl
    python benchmarks/bench_gpu.py --device cpu --synthetic 1e6      # the same cases on the CPU, smaller

Cases: an ml-1m epoch of BiasedMF (Adam, K=64, batch 1024) and of BPRMF (defaults), an ml-1m
ImplicitALS sweep (K=64, CG) and an epoch over ``--synthetic`` generated interactions (BiasedMF,
Adam, K=32, batch 65,536; the target is 10^8 under 10 s).  Each case trains a few epochs and
reports the fastest (the first pays for moving data and warming kernels up), after
``torch.cuda.synchronize()``.  Targets: ml-1m epochs of BiasedMF and BPRMF under 0.1 s, 10^8
interactions under 10 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402


def _epochs(model, train, device: str, epochs: int) -> dict:
    import torch

    model.fit(train, None, seed=0, progress=False, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    secs = [e["seconds"] for e in model.history_.epochs]
    return {"epoch_s": min(secs), "epoch_s_all": secs, "interactions": len(train)}


def run(device: str, synthetic: float, epochs: int = 3) -> list[dict]:
    import torch

    from autorecs import BPRMF, BiasedMF, ImplicitALS, load, split
    from autorecs.data.synthetic import low_rank_ratings

    rows = []
    data = load("ml-1m")
    tr, _, _ = split(data, "random-50-25-25", seed=0)
    rows.append({"case": "ml1m-biasedmf-adam", **_epochs(BiasedMF(solver="adam", epochs=epochs), tr, device, epochs)})
    tr, _, _ = split(data, "temporal-60-20-20")
    rows.append({"case": "ml1m-bpr", **_epochs(BPRMF(epochs=epochs), tr, device, epochs)})
    rows.append({"case": "ml1m-implicit-als-k64", **_epochs(ImplicitALS(factors=64, epochs=epochs), tr, device, epochs)})
    n = int(synthetic)
    big = low_rank_ratings(max(n // 50, 100), max(n // 500, 50), n, factors=8, zipf=0.8, seed=0)
    model = BiasedMF(solver="adam", factors=32, batch_size=65536, learning_rate=0.01, epochs=2)
    rows.append({"case": f"synthetic-{synthetic:g}", **_epochs(model, big, device, 2)})
    for r in rows:
        r.update(device=device, gpu=torch.cuda.get_device_name(0) if device.startswith("cuda") else None)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--synthetic", type=float, default=1e8, help="interactions of the synthetic case")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    for row in run(args.device, args.synthetic):
        row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps({**row, "machine": machine()}) + "\n")
    print(json.dumps({"total_s": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
