"""What NECST's codes learn: bit-flip interpolation and Markov-chain sampling (the NECST paper's
Fig. 4 and its supplement's chains), with the shipped MNIST model.

    make bench-necst-latent

- **Interpolation**: from a test image's 100-bit code, flip one more random bit per step
  (without replacement) and decode. A grid shows the path for a few images; over many images,
  the shipped MNIST classifier says after how many flips the decoded digit first changes.
- **Markov chain**: y ~ q_noisy(y | x_t) (the encoder's Bernoulli bits through the model's
  BSC), x_{t+1} ~ p(x | y) (Bernoulli pixels), started from Gaussian noise N(0, 0.5) and from
  test images; a grid row per chain, one column every ``--every`` steps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default="necst-mnist-b100-bsc0.1")
    ap.add_argument("--images", type=int, default=1000, help="Test images for the flip statistics.")
    ap.add_argument("--flips", type=int, default=60)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "necst_latent.json")
    ap.add_argument("--figures", type=Path, help="Folder of the grids [the folder of --out].")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    from common import machine, update_readme, write_results
    from flax import nnx

    from dnastore import __version__
    from dnastore.codecs.infer import necst_codes, necst_decode
    from dnastore.codecs.necst import noisy_probs
    from dnastore.codecs.weights import load_weights
    from dnastore.data.binary import binarize
    from dnastore.data.mnist import load_mnist
    from dnastore.data.render import grid, save_png
    from dnastore.metrics.classifier import load_classifier

    w = load_weights(args.weights)
    model, cfg = w.model, w.config
    clf = load_classifier()
    test = binarize(load_mnist("test")[0], args.seed, 2)[:args.images]
    rng = np.random.default_rng(args.seed)
    codes = necst_codes(model, test).astype(np.float32)
    order = np.argsort(rng.random(codes.shape), axis=1)  # the flip order of every image
    base = clf.predict((255 * necst_decode(model, codes)).round().astype(np.uint8))
    first_change = np.full(len(codes), -1)
    frames = []
    for k in range(args.flips + 1):
        y = codes.copy()
        rows = np.arange(len(y))[:, None]
        y[rows, order[:, :k]] = 1.0 - y[rows, order[:, :k]]
        img = (255 * necst_decode(model, y)).round().astype(np.uint8)
        pred = clf.predict(img)
        first_change[(first_change < 0) & (pred != base)] = k
        frames.append(img[:8])
    out_dir = args.figures or args.out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path_grid = np.stack(frames, 1)  # (8 images, flips + 1, 28, 28)
    save_png(out_dir / "necst_interpolation.png", grid([p for p in path_grid[:, ::2]], per_row=path_grid[:, ::2].shape[1],
                                                       scale=2))

    graphdef, state = nnx.split(model)
    eps = cfg.eps

    @jax.jit
    def chain(x0, key):
        m = nnx.merge(graphdef, state)

        def step(x, k):
            k1, k2 = jax.random.split(k)
            q = noisy_probs(jax.nn.sigmoid(m.encode_logits(x)), "bsc", eps)
            y = jax.random.bernoulli(k1, q).astype(jnp.float32)
            x = jax.random.bernoulli(k2, m.decode(y)).astype(jnp.float32)
            return x, x
        _, xs = jax.lax.scan(step, x0, jax.random.split(key, args.steps))
        return xs[args.every - 1::args.every]

    starts = {"noise": rng.normal(0, 0.5, (args.chains, 28, 28)).astype(np.float32),
              "data": test[8:8 + args.chains].astype(np.float32) / 255.0}
    chains = {}
    for i, (name, x0) in enumerate(starts.items()):  # separate randomness: shared draws would couple the chains
        xs = np.asarray(chain(jnp.asarray(x0), jax.random.fold_in(jax.random.key(args.seed), i)))  # (snapshots, chains, 28, 28)
        first = np.clip(x0, 0, 1)[None]
        snaps = (255 * np.concatenate([first, xs])).astype(np.uint8).transpose(1, 0, 2, 3)
        save_png(out_dir / f"necst_chain_{name}.png", grid(list(snaps), per_row=snaps.shape[1], scale=2))
        labels = clf.predict(snaps[:, -1])
        chains[name] = {"final_labels": labels.tolist()}
    changed = first_change[first_change >= 0]
    result = {"benchmark": "necst_latent", "version": __version__, "seed": args.seed, "weights": w.digest,
              "images": len(codes), "max_flips": args.flips,
              "flips_to_change": {"median": float(np.median(changed)) if len(changed) else None,
                                  "mean": float(changed.mean()) if len(changed) else None,
                                  "never_within": int((first_change < 0).sum())},
              "changed_by": {str(k): float(((first_change >= 0) & (first_change <= k)).mean()) for k in (1, 5, 10, 20, 40)
                             if k <= args.flips},
              "chains": chains, "steps": args.steps, "every": args.every, "machine": machine()}
    write_results(args.out, result)
    cb = result["changed_by"]
    table = (f"Shipped NECST (100 bits, trained at BSC ε = {eps}), {len(codes):,} binarized test images: the "
             f"classifier's reading of the decoded digit changes after a median of "
             f"{result['flips_to_change']['median']:.0f} random bit flips; it has changed for "
             + ", ".join(f"{100 * v:.0f}% of the images after {k}" for k, v in cb.items())
             + f" flips, and never within {args.flips} flips for {result['flips_to_change']['never_within']}.")
    print(table)
    update_readme(args.readme, "necst-latent", table)


if __name__ == "__main__":
    main()
