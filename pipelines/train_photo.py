"""Train the shipped photo codec (``make train-photo``): a base model on random crops of the
training photos of :mod:`dnastore.data.photos` (never the held-out four), then two equal
fine-tunes of it, one plain and one through the channel (latents erased as lost strands erase
them), so that the two differ in the channel alone.

    python pipelines/train_photo.py --minutes 80 --tune-steps 600

Writes ``dnastore/codecs/weights/photo-base.msgpack`` (kept under runs/ unless --ship),
``photo-plain`` and ``photo-dna`` (the default), and a log under runs/photo/.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIP = ROOT / "dnastore" / "codecs" / "weights"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=80.0, help="time for the base model")
    ap.add_argument("--steps", type=int, default=7000, help="steps of the base model's schedule")
    ap.add_argument("--tune-steps", type=int, default=600, help="steps of each fine-tune")
    ap.add_argument("--erasure", type=float, default=0.2,
                    help="most latents erased in channel training (half the crops lose none)")
    ap.add_argument("--run", type=Path, default=ROOT / "runs" / "photo")
    ap.add_argument("--skip-base", action="store_true", help="fine-tune the base model already in --run")
    ap.add_argument("--only", choices=["photo-plain", "photo-dna"], help="redo this fine-tune alone")
    ap.add_argument("--init", type=Path, help="continue the base model from these weights (a fresh schedule)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from dnastore.codecs.photo_train import photo_log_line, train_photo
    from dnastore.codecs.weights import load_weights
    from dnastore.data.photos import photo_set

    args.run.mkdir(parents=True, exist_ok=True)
    photos = [p for _, p in photo_set("train")]
    logf = open(args.run / "log.jsonl", "a")

    def on_step(tag):
        def f(i, loss, aux):
            if i % 50 == 0:
                logf.write(photo_log_line({"run": tag, "step": i, "loss": loss, "bpp": float(aux[0]),
                                           "1-msssim": float(aux[1]), "mse": float(aux[2]),
                                           "time": time.strftime("%H:%M:%S")}) + "\n")
                logf.flush()
        return f

    base = args.run / "photo-base.msgpack"
    t0 = time.time()
    if not args.skip_base:
        init = load_weights(args.init) if args.init else None
        before = {k: v for k, v in init.meta.items() if k != "log"} if init else None
        train_photo(photos, base, init=init, steps=args.steps, lr=4e-4, seed=args.seed + (1 if init else 0),
                    time_limit=args.minutes * 60, on_step=on_step("base"),
                    meta={"name": "photo-base", "data": "dnastore.data.photos train split",
                          **({"continued_from": before} if before else {})})
    t_base = time.time() - t0
    SHIP.mkdir(parents=True, exist_ok=True)
    times = {"base_seconds": round(t_base, 1)}
    for name, erasure in (("photo-plain", 0.0), ("photo-dna", args.erasure)):
        if args.only and name != args.only:
            continue
        t1 = time.time()
        init = load_weights(base)
        train_photo(photos, SHIP / f"{name}.msgpack", init=init, steps=args.tune_steps, lr=1e-4, seed=args.seed + 7,
                    erasure=erasure, checkpoint_every=10 ** 9,
                    meta={"name": name, "data": "dnastore.data.photos train split", "base": init.digest,
                          "base_meta": {k: v for k, v in init.meta.items() if k != "log"},
                          "channel": (f"latents erased at a rate drawn from [0, {erasure}] in half the crops"
                                      if erasure else "none")},
                    on_step=on_step(name))
        times[f"{name}_seconds"] = round(time.time() - t1, 1)
    old = json.loads((args.run / "times.json").read_text()) if (args.run / "times.json").is_file() else {}
    (args.run / "times.json").write_text(json.dumps({**old, **times}, indent=1))
    print(json.dumps(times))


if __name__ == "__main__":
    main()
