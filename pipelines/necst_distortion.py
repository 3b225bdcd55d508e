"""NECST against a discrete VAE + rate-1/2 LDPC code over BSC noise ε = 0.0 ... 0.5 (the
NECST paper's Fig. 3 left / Table, Choi et al. 2019).

    make bench-necst        # binarized MNIST (50k train, 10k test) and random bits, full settings
    make bench-necst-quick  # subsets and fewer epochs

For each dataset, in one run:

- NECST (100 bits for MNIST, 50 for random bits) is trained at each ε and tested at the same ε:
  the stored bits (the encoder's most likely bits) go through a BSC, and the decoder's mean is
  compared with the data;
- the baseline is one discrete VAE with a uniform prior over half as many bits, trained
  without noise (on random bits its prior term is weighted 0 by default: with it, the
  bound's optimum is a code that carries nothing, since a stored bit of a random string
  saves no more reconstruction than it costs in KL); its bits are LDPC-encoded to the same length (regular, column weight 3, no
  4-cycles), flipped by the same BSC, decoded by 50 iterations of belief propagation (the
  ``ldpc`` package), and decoded by the VAE's decoder.

Distortion is reported three ways per pixel: binary cross-entropy (nats), squared error of
the decoder mean, and the fraction of wrong pixels (the mean rounded).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# the paper's Fig. 3 table (distortion at ε = 0.0, 0.1, ..., 0.5)
PAPER = {
    ("mnist", "NECST"): [0.039, 0.052, 0.066, 0.091, 0.125, 0.131],
    ("mnist", "VAE+LDPC"): [0.047, 0.064, 0.094, 0.120, 0.144, 0.150],
    ("random-bits", "NECST"): [0.291, 0.357, 0.407, 0.456, 0.500, 0.498],
    ("random-bits", "VAE+LDPC"): [0.352, 0.375, 0.411, 0.442, 0.470, 0.502],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="mnist,random-bits")
    ap.add_argument("--eps", default="0,0.1,0.2,0.3,0.4,0.5")
    ap.add_argument("--epochs", type=int, default=20, help="Epochs of every MNIST model.")
    ap.add_argument("--bits-epochs", type=int, default=200, help="Epochs of every random-bits model.")
    ap.add_argument("--vae-beta", type=float, default=1.0, help="Weight of the VAE's uniform-prior term on MNIST.")
    ap.add_argument("--bits-vae-beta", type=float, default=0.0,
                    help="The same on random bits, where at 1 the VAE learns a code that carries nothing.")
    ap.add_argument("--limit-train", type=int)
    ap.add_argument("--limit-test", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models-dir", type=Path, default=ROOT / "results" / "necst_models",
                    help="Where the trained models are kept and reused (one weights file per model).")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "necst_distortion.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import load_data, machine, train_model, update_readme, write_results

    from dnastore import __version__
    from dnastore.codecs.infer import necst_codes, necst_decode
    from dnastore.codecs.ldpc_code import LDPC
    from dnastore.codecs.necst import NECSTConfig, channel_bits, distortion

    eps_list = [float(e) for e in args.eps.split(",")]
    rows = []
    t0 = time.perf_counter()
    for name in args.datasets.split(","):
        train, test = load_data(name, args.limit_train, args.limit_test, args.seed)
        bits, epochs = (100, args.epochs) if name == "mnist" else (50, args.bits_epochs)
        shape = tuple(train.shape[1:])
        print(f"{name}: {len(train)} train, {len(test)} test, {bits} bits", flush=True)
        x = test.astype(np.float64) / 255.0
        beta = args.vae_beta if name == "mnist" else args.bits_vae_beta
        vae = train_model(NECSTConfig(bits=bits // 2, image_shape=shape, eps=0.0, prior="uniform", beta=beta), train,
                          epochs, args.seed, print, args.models_dir, f"{name}-vae")
        code = LDPC.regular(bits, bits // 2, 3, args.seed)
        vae_bits = necst_codes(vae, test)
        sent = code.encode(vae_bits)
        for eps in eps_list:
            rng = np.random.default_rng([args.seed, int(round(eps * 1000))])
            model = train_model(NECSTConfig(bits=bits, image_shape=shape, eps=eps), train, epochs, args.seed, print,
                                args.models_dir, f"{name}-necst-eps{eps:.2f}")
            y = channel_bits(necst_codes(model, test), "bsc", eps, rng)
            d = distortion(x, necst_decode(model, y))
            received = channel_bits(sent, "bsc", eps, rng).astype(np.uint8)
            t = time.perf_counter()
            msg = code.decode(received, eps)
            bp_s = time.perf_counter() - t
            d_vae = distortion(x, necst_decode(vae, msg))
            for method, dd, extra in (("NECST", d, {}),
                                      ("VAE+LDPC", d_vae, {"ldpc_bit_errors": float((msg != vae_bits).mean()),
                                                           "ldpc_word_errors": float((msg != vae_bits).any(1).mean()),
                                                           "bp_seconds": bp_s})):
                paper = PAPER.get((name, method))
                row = {"dataset": name, "method": method, "eps": eps, "bits": bits,
                       **{k: float(v.mean()) for k, v in dd.items()}, **extra,
                       "paper": paper[eps_list.index(eps)] if paper and len(eps_list) == 6 else None}
                rows.append(row)
                print(f"  {name:11s} eps {eps:.1f} {method:9s} BCE {row['bce']:.4f}  MSE {row['mse']:.4f}  "
                      f"wrong {row['wrong']:.4f}  paper {row['paper']}", flush=True)

    result = {"benchmark": "necst_distortion", "version": __version__, "seed": args.seed,
              "epochs": {"mnist": args.epochs, "random-bits": args.bits_epochs},
              "vae_beta": {"mnist": args.vae_beta, "random-bits": args.bits_vae_beta},
              "limit_train": args.limit_train, "limit_test": args.limit_test, "rows": rows,
              "seconds": time.perf_counter() - t0, "machine": machine()}
    write_results(args.out, result)
    plot(rows, args.out.with_suffix(".png"))

    lines = [f"Distortion per pixel against BSC ε, test sets ({args.limit_test or 'all'} images), seed {args.seed}; "
             f"{args.epochs} epochs per MNIST model, {args.bits_epochs} per random-bits model. "
             "Each cell: squared error / binary cross-entropy (nats) / fraction of wrong pixels; "
             "the paper's value below.", "",
             "| dataset | method | " + " | ".join(f"ε = {e:.1f}" for e in eps_list) + " |",
             "| --- | --- | " + " | ".join("---" for _ in eps_list) + " |"]
    for name in args.datasets.split(","):
        for method in ("NECST", "VAE+LDPC"):
            rs = [r for r in rows if r["dataset"] == name and r["method"] == method]
            cells = [f"{r['mse']:.3f} / {r['bce']:.3f} / {r['wrong']:.3f}" for r in rs]
            lines.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
            pap = PAPER.get((name, method))
            if pap and len(eps_list) == 6:
                lines.append("| | paper | " + " | ".join(f"{v:.3f}" for v in pap) + " |")
    table = "\n".join(lines)
    print(table)
    if args.limit_test is None and args.limit_train is None:
        update_readme(args.readme, "necst-distortion", table)


def plot(rows, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for method, style in (("NECST", "-o"), ("VAE+LDPC", "-s")):
            rs = [r for r in rows if r["dataset"] == name and r["method"] == method]
            metric = "mse" if name == "mnist" else "wrong"
            ax.plot([r["eps"] for r in rs], [r[metric] for r in rs], style, label=f"{method} (ours)")
            if all(r["paper"] is not None for r in rs):
                ax.plot([r["eps"] for r in rs], [r["paper"] for r in rs], style, alpha=0.35, label=f"{method} (paper)")
        ax.set_title(name)
        ax.set_xlabel("BSC ε")
        ax.set_ylabel("squared error per pixel" if name == "mnist" else "fraction of wrong bits")
        ax.legend(fontsize=8)
    fig.tight_layout()
    from common import save_figure
    save_figure(fig, path)


if __name__ == "__main__":
    main()
