"""Neural communication over Gaussian and bandwidth-limited channels (seed 002, Figs. 4, 5, 7).

    make bench-bandwidth        # 50k MNIST training images, full β grid
    make bench-bandwidth-quick  # 10k training images, fewer epochs and β values (< 15 min)
    python pipelines/bandwidth.py --dataset faces.zarr ...   # a user's 32×32 colour folder

Experiment 1 (Fig. 4 and appendix D): joint versus separate coding over the AWGN channel at
five SNRs, a ``latent``-dimensional source code sent in ``channel-dims`` channel uses, with a
log-scale β grid for both systems. The separate system is a source β-VAE per β and a channel
autoencoder per SNR trained on N(0, I) samples only; the joint system is the same networks
trained end to end through the channel, one per (β, SNR). Reported: per-pixel squared error
on the test images (L2 distortion), for every β and for the best β per SNR.

Experiment 3 (appendix C): joint models through the relaxed binary channel at several
temperatures, each tested on the relaxed channel and on the hard BSC.

Experiment 2 (Fig. 5): joint models over the bandwidth-limited channel at SNR 0 dB (SNR 1),
a 100-dimensional code in 5 bands, B uniform on 1..5 in training. Three models: Gaussian
prior, learned autoregressive prior, learned prior with an auxiliary-latent decoder. Reported
against the bandwidth used at test: distortion, and FID on the shipped MNIST classifier's
features (MNIST only) between the test images and their reconstructions, plus the FID of two
halves of real test images (the floor).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def load_images(dataset: Path | None, limit_train: int | None, limit_test: int | None, seed: int):
    """(train, test, name) uint8 images: MNIST's train/test splits, or a dataset Zarr (from
    ``dnastore dataset``) split 90/10 after a seeded shuffle."""
    if dataset is None:
        from dnastore.data.mnist import load_mnist
        return load_mnist("train")[0][:limit_train], load_mnist("test")[0][:limit_test], "mnist"
    from dnastore.io.artifacts import read_dataset
    images = read_dataset(dataset)[0]
    order = np.random.default_rng(seed).permutation(len(images))
    cut = max(1, len(images) // 10)
    return images[order[cut:]][:limit_train], images[order[:cut]][:limit_test], Path(dataset).name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, help="A dataset Zarr (dnastore dataset); default MNIST.")
    ap.add_argument("--limit-train", type=int)
    ap.add_argument("--limit-test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--snrs", default="-10,-5,0,5,10", help="SNRs of experiment 1, dB.")
    ap.add_argument("--betas", default="0.001,0.01,0.1,1", help="β grid of experiment 1 (log scale).")
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--channel-dims", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--band-beta", type=float, default=0.01, help="β of the bandwidth models.")
    ap.add_argument("--band-snr", type=float, default=0.0, help="SNR of experiment 2, dB (0 dB = SNR 1).")
    ap.add_argument("--aux", type=int, default=16, help="Dimensions of the auxiliary latent V.")
    ap.add_argument("--aux-beta", type=float, default=0.3, help="Weight of the KL of V.")
    ap.add_argument("--warmup", type=float, default=0.5,
                    help="Fraction of the epochs the auxiliary-latent model trains with v = 0 first.")
    ap.add_argument("--temperatures", default="0.1,0.3,1,3", help="Relaxation temperatures of experiment 3.")
    ap.add_argument("--experiments", default="1,2,3")
    ap.add_argument("--update", action="store_true",
                    help="Keep the results of the experiments not run now from the existing --out file.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bandwidth.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    from common import machine, update_readme, write_results

    from dnastore import __version__

    args.out.parent.mkdir(parents=True, exist_ok=True)
    train, test, name = load_images(args.dataset, args.limit_train, args.limit_test, args.seed)
    print(f"{name}: {len(train)} training, {len(test)} test images of shape {train.shape[1:]}", flush=True)
    t0 = time.perf_counter()
    result = {"benchmark": "bandwidth", "version": __version__, "seed": args.seed, "dataset": name,
              "train_images": len(train), "test_images": len(test), "epochs": args.epochs,
              "hidden": args.hidden, "machine": machine()}
    exps = args.experiments.split(",")
    if args.update and args.out.is_file():
        import json
        old = json.loads(args.out.read_text())
        keep = {"1": "joint_vs_separate", "2": "bandwidth", "3": "relaxed_binary"}
        for e, k in keep.items():
            if e not in exps and k in old:
                result[k] = old[k]
        result["seconds_kept"] = old.get("seconds", 0.0) + old.get("seconds_kept", 0.0)
    if "1" in exps:
        result["joint_vs_separate"] = joint_vs_separate(args, train, test)
    if "2" in exps:
        result["bandwidth"] = bandwidth_sweep(args, train, test, name)
    if "3" in exps:
        result["relaxed_binary"] = relaxed_binary(args, train, test)
    result["seconds"] = time.perf_counter() - t0 + result.pop("seconds_kept", 0.0)
    write_results(args.out, result)
    plot(result, args.out.with_suffix(".png"))
    table = readme_table(result)
    print(table)
    if args.limit_train is None and args.dataset is None:
        update_readme(args.readme, "bandwidth", table)
    print(f"{result['seconds']:.0f} s; wrote {args.out}")


def joint_vs_separate(args, train, test) -> dict:
    from flax import nnx

    from dnastore.codecs.jscc import (
        JSCC,
        JSCCConfig,
        communicate,
        mse,
        reconstruct_source,
    )
    from dnastore.codecs.jscc_train import Fitter, join_halves, train_separate_channel
    snrs = [float(s) for s in args.snrs.split(",")]
    betas = [float(b) for b in args.betas.split(",")]
    steps = max(1, len(train) // 100)

    def cfg(beta, snr):
        return JSCCConfig(image_shape=tuple(train.shape[1:]), latent=args.latent, channel_dims=args.channel_dims,
                          snr_db=snr, hidden=args.hidden, beta=beta)
    rows, sources, channels = [], {}, {}
    for beta in betas:
        t = time.perf_counter()
        m = JSCC(cfg(beta, 0.0), nnx.Rngs(args.seed))
        fit = Fitter(m, "source", seed=args.seed)
        for _ in range(args.epochs):
            r = fit.train_epoch(train)
        sources[beta] = m
        print(f"  source VAE β={beta:g}: KL {r['kl']:.1f} nats, {time.perf_counter() - t:.0f} s", flush=True)
    for snr in snrs:
        channels[snr] = train_separate_channel(cfg(1.0, snr), args.epochs, steps, args.seed)
        for beta in betas:
            t = time.perf_counter()
            sep = join_halves(cfg(beta, snr), sources[beta], channels[snr])
            joint = JSCC(cfg(beta, snr), nnx.Rngs(args.seed))
            fit = Fitter(joint, "joint", seed=args.seed)
            for _ in range(args.epochs):
                r = fit.train_epoch(train)
            row = {"snr_db": snr, "beta": beta,
                   "joint": mse(test, communicate(joint, test, args.seed)),
                   "separate": mse(test, communicate(sep, test, args.seed)),
                   "source_only": mse(test, reconstruct_source(sources[beta], test)),
                   "joint_kl": r["kl"]}
            rows.append(row)
            print(f"  SNR {snr:5.1f} dB β={beta:<6g} joint {row['joint']:.4f}  separate {row['separate']:.4f}  "
                  f"(source VAE alone {row['source_only']:.4f}) {time.perf_counter() - t:.0f} s", flush=True)
    best = []
    for snr in snrs:
        rs = [r for r in rows if r["snr_db"] == snr]
        j = min(rs, key=lambda r: r["joint"])
        s = min(rs, key=lambda r: r["separate"])
        best.append({"snr_db": snr, "joint": j["joint"], "joint_beta": j["beta"], "separate": s["separate"],
                     "separate_beta": s["beta"]})
    return {"snrs": snrs, "betas": betas, "latent": args.latent, "channel_dims": args.channel_dims,
            "rows": rows, "best": best}


def bandwidth_sweep(args, train, test, name) -> dict:
    from flax import nnx

    from dnastore.codecs.jscc import JSCC, JSCCConfig, communicate, mse
    from dnastore.codecs.jscc_train import Fitter
    mnist = name == "mnist" or tuple(train.shape[1:]) == (28, 28)
    clf = None
    if mnist:
        from dnastore.metrics.classifier import load_classifier
        from dnastore.metrics.fid import fid_from_features
        clf = load_classifier()
        real = clf.features(test)
    base = dict(image_shape=tuple(train.shape[1:]), latent=100, channel_dims=100, n_parts=5, snr_db=args.band_snr,
                hidden=args.hidden, beta=args.band_beta)
    models = {"gaussian prior": JSCCConfig(**base),
              "learned prior": JSCCConfig(**base, prior="learned"),
              "learned prior + aux. latents": JSCCConfig(**base, prior="learned", aux=args.aux, aux_beta=args.aux_beta)}
    rows, grids = [], {}
    for label, cfg in models.items():
        t = time.perf_counter()
        m = JSCC(cfg, nnx.Rngs(args.seed))
        fit = Fitter(m, "joint", seed=args.seed)
        warm = int(round(args.warmup * args.epochs)) if cfg.aux else 0
        for ep in range(args.epochs):
            fit.train_epoch(train, use_aux=ep >= warm)
        for b in range(1, cfg.n_parts + 1):
            rec = communicate(m, test, args.seed, bandwidth=b)
            row = {"model": label, "bandwidth": b, "mse": mse(test, rec), "fid": None}
            if clf is not None:
                row["fid"] = fid_from_features(real, clf.features(_to_uint8(rec)))
            rows.append(row)
            grids.setdefault(label, []).append(_to_uint8(rec[:10]))
        print(f"  {label}: " + "  ".join(f"B={r['bandwidth']} {r['mse']:.4f}" + (f"/FID {r['fid']:.1f}" if r["fid"] is not None else "")
                                         for r in rows if r["model"] == label) + f"  {time.perf_counter() - t:.0f} s", flush=True)
    out = {"snr_db": args.band_snr, "code": 100, "parts": 5, "beta": args.band_beta, "aux": args.aux,
           "aux_beta": args.aux_beta, "warmup": args.warmup, "rows": rows}
    if clf is not None:
        half = len(test) // 2
        out["fid_real_halves"] = fid_from_features(real[:half], real[half:])
    save_grid(test[:10], grids["learned prior"], grids["learned prior + aux. latents"],
              args.out.with_name(args.out.stem + "_grid.png"))
    return out


def relaxed_binary(args, train, test) -> dict:
    """Experiment 3 (appendix C): joint models through the relaxed BSC(0.1) with 100 bits at
    several temperatures; tested on the relaxed channel they were trained on and on the hard
    BSC they are meant for."""
    from flax import nnx

    from dnastore.codecs.jscc import JSCC, JSCCConfig, communicate, mse
    from dnastore.codecs.jscc_train import Fitter
    rows = []
    for temp in [float(t) for t in args.temperatures.split(",")]:
        t = time.perf_counter()
        cfg = JSCCConfig(image_shape=tuple(train.shape[1:]), latent=args.latent, channel_dims=100, hidden=args.hidden,
                         beta=args.band_beta, channel="relaxed-bsc", eps=0.1, temperature=temp)
        m = JSCC(cfg, nnx.Rngs(args.seed))
        fit = Fitter(m, "joint", seed=args.seed)
        for _ in range(args.epochs):
            fit.train_epoch(train)
        row = {"temperature": temp, "relaxed": mse(test, communicate(m, test, args.seed, hard=False)),
               "hard": mse(test, communicate(m, test, args.seed))}
        rows.append(row)
        print(f"  relaxed BSC(0.1), T = {temp:g}: {row['relaxed']:.4f} on the relaxed channel, {row['hard']:.4f} "
              f"on the hard BSC  {time.perf_counter() - t:.0f} s", flush=True)
    return {"eps": 0.1, "bits": 100, "rows": rows}


def _to_uint8(rec: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rec * 255.0), 0, 255).astype(np.uint8)


def save_grid(source: np.ndarray, plain: list[np.ndarray], aux: list[np.ndarray], path: Path) -> None:
    """Appendix A: the sent images, then their reconstructions at B = 1..5 (left: learned prior,
    right: with auxiliary latents)."""
    from PIL import Image

    def block(rows):
        return np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    left, right = block([source] + plain), block([source] + aux)
    gap = np.full((left.shape[0], 8) + left.shape[2:], 255, np.uint8)
    img = np.concatenate([left, gap, right], axis=1)
    big = Image.fromarray(img).resize((img.shape[1] * 2, img.shape[0] * 2), Image.NEAREST)
    tmp = path.with_name(f".{path.name}.tmp.png")
    big.save(tmp)
    tmp.replace(path)


def readme_table(result: dict) -> str:
    lines = [f"{result['dataset']}: {result['train_images']} training and {result['test_images']} test images, "
             f"{result['epochs']} epochs per model, MLPs of {result['hidden']} units, seed {result['seed']}; "
             f"{result['seconds'] / 60:.0f} min on this machine.", ""]
    if "joint_vs_separate" in result:
        e = result["joint_vs_separate"]
        lines += [f"**Joint vs separate, AWGN** ({e['latent']}-dim source code, {e['channel_dims']} channel uses; "
                  "squared error per pixel, best β of the grid per system):", "",
                  "| SNR (dB) | joint | separate | separate − joint | β joint | β separate |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for b in e["best"]:
            lines.append(f"| {b['snr_db']:g} | {b['joint']:.4f} | {b['separate']:.4f} | "
                         f"{b['separate'] - b['joint']:+.4f} | {b['joint_beta']:g} | {b['separate_beta']:g} |")
        lines += ["", "Every β (appendix D): joint / separate", "",
                  "| β | " + " | ".join(f"{s:g} dB" for s in e["snrs"]) + " |",
                  "| --- | " + " | ".join("---" for _ in e["snrs"]) + " |"]
        for beta in e["betas"]:
            cells = [next(f"{r['joint']:.4f} / {r['separate']:.4f}" for r in e["rows"]
                          if r["beta"] == beta and r["snr_db"] == s) for s in e["snrs"]]
            lines.append(f"| {beta:g} | " + " | ".join(cells) + " |")
    if "bandwidth" in result:
        bw = result["bandwidth"]
        labels = list(dict.fromkeys(r["model"] for r in bw["rows"]))
        lines += ["", f"**Bandwidth-limited AWGN** (SNR {bw['snr_db']:g} dB, {bw['code']}-dim code in {bw['parts']} "
                  f"bands, β {bw['beta']:g}; squared error per pixel / FID on the MNIST classifier's features"
                  + (f"; FID of two halves of the real test set: {bw['fid_real_halves']:.1f}" if "fid_real_halves" in bw else "")
                  + "):", "",
                  "| model | " + " | ".join(f"B = {b}" for b in range(1, bw["parts"] + 1)) + " |",
                  "| --- | " + " | ".join("---" for _ in range(bw["parts"])) + " |"]
        for label in labels:
            rs = [r for r in bw["rows"] if r["model"] == label]
            lines.append(f"| {label} | " + " | ".join(
                f"{r['mse']:.4f}" + (f" / {r['fid']:.1f}" if r["fid"] is not None else "") for r in rs) + " |")
    if "relaxed_binary" in result:
        rb = result["relaxed_binary"]
        lines += ["", f"**Relaxed binary channel** ({rb['bits']} bits, BSC ε = {rb['eps']}; squared error per pixel "
                  "on the relaxed channel of training and on the hard BSC):", "",
                  "| temperature | relaxed channel | hard BSC |", "| --- | --- | --- |"]
        lines += [f"| {r['temperature']:g} | {r['relaxed']:.4f} | {r['hard']:.4f} |" for r in rb["rows"]]
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = []
    if "joint_vs_separate" in result:
        panels += ["joint_vs_separate", "beta"]
    if "bandwidth" in result:
        panels.append("bandwidth")
        if any(r["fid"] is not None for r in result["bandwidth"]["rows"]):
            panels.append("fid")
    if "relaxed_binary" in result:
        panels.append("relaxed")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "joint_vs_separate":
            e = result["joint_vs_separate"]
            ax.plot(e["snrs"], [b["joint"] for b in e["best"]], "-o", color="C0", label="joint")
            ax.plot(e["snrs"], [b["separate"] for b in e["best"]], "-s", color="C3", label="separate")
            ax.set_xlabel("SNR (dB)"), ax.set_ylabel("squared error per pixel"), ax.set_title("best β (Fig. 4)")
        elif panel == "beta":
            e = result["joint_vs_separate"]
            cmap = plt.get_cmap("viridis")
            for i, beta in enumerate(e["betas"]):
                c = cmap(i / max(1, len(e["betas"]) - 1))
                rs = [r for r in e["rows"] if r["beta"] == beta]
                ax.plot([r["snr_db"] for r in rs], [r["joint"] for r in rs], "-o", color=c, label=f"joint β={beta:g}")
                ax.plot([r["snr_db"] for r in rs], [r["separate"] for r in rs], "--s", color=c, label=f"separate β={beta:g}")
            ax.set_xlabel("SNR (dB)"), ax.set_ylabel("squared error per pixel"), ax.set_title("every β (app. D)")
        elif panel == "relaxed":
            rb = result["relaxed_binary"]["rows"]
            ax.plot([r["temperature"] for r in rb], [r["relaxed"] for r in rb], "-o", color="C2", label="relaxed channel")
            ax.plot([r["temperature"] for r in rb], [r["hard"] for r in rb], "-s", color="C1", label="hard BSC")
            ax.set_xscale("log"), ax.set_xlabel("temperature"), ax.set_ylabel("squared error per pixel")
            ax.set_title("relaxed BSC(0.1) (app. C)")
        else:
            bw = result["bandwidth"]
            key = "mse" if panel == "bandwidth" else "fid"
            for i, label in enumerate(dict.fromkeys(r["model"] for r in bw["rows"])):
                rs = [r for r in bw["rows"] if r["model"] == label]
                ax.plot([r["bandwidth"] for r in rs], [r[key] for r in rs], "-o", color=f"C{i}", label=label)
            if key == "fid" and "fid_real_halves" in bw:
                ax.axhline(bw["fid_real_halves"], color="grey", ls=":", label="real vs real")
            ax.set_xlabel("bandwidth B (bands received)")
            ax.set_ylabel("squared error per pixel" if key == "mse" else "FID (MNIST classifier features)")
            ax.set_title("Fig. 5 left" if key == "mse" else "Fig. 5 right")
        ax.legend(fontsize=7)
    fig.tight_layout()
    from common import save_figure
    save_figure(fig, path)


if __name__ == "__main__":
    main()
