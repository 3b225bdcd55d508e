"""Decoding time: NECST's decoder against belief propagation on a rate-1/2 LDPC code, for the
same number of transmitted bits (the NECST paper's Fig. 3 right / section 5.4).

    make bench-necst-speed

Both decode the same kind of input: 100-bit words from a BSC with ε = 0.1. NECST's decoder
(the shipped MNIST model, jit-compiled, one forward pass) turns a word into an image; BP (the
``ldpc`` package's C++ BpDecoder, product-sum, at most 50 iterations, stopping early once
every check holds) turns a word into its 50 message bits, before any source decoder runs,
which favours LDPC. Batched: all words in one call (NECST) or one decoder object over all of
them (BP, which has no batch call, so its two rows differ only by noise). Unbatched: one
word per call. Both are timed in the same
run, the best of three repeats; the ratio is what counts, as the machine is shared.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=10_000, help="Words decoded in the batched runs.")
    ap.add_argument("--single", type=int, default=1000, help="Words decoded one at a time.")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--weights", default="necst-mnist-b100-bsc0.1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "necst_speed.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()

    import jax
    from common import machine, update_readme, write_results
    from flax import nnx

    from dnastore import __version__
    from dnastore.codecs.ldpc_code import LDPC
    from dnastore.codecs.weights import load_weights

    w = load_weights(args.weights)
    model, bits = w.model, w.config.bits
    code = LDPC.regular(bits, bits // 2, 3, args.seed)
    rng = np.random.default_rng(args.seed)
    msgs = rng.integers(0, 2, (args.words, bits // 2))
    received = code.encode(msgs) ^ (rng.random((args.words, bits)) < args.eps).astype(np.uint8)
    y = received.astype(np.float32)

    graphdef, state = nnx.split(model)
    # the weights are closed over (constants of the compiled function), so a call passes one
    # array: the per-call cost is the decoder, not the flattening of its parameters
    decode = jax.jit(lambda y: nnx.merge(graphdef, state).decode(y))

    decode(y).block_until_ready()  # compile both shapes first
    decode(y[:1]).block_until_ready()
    necst_batched = best_of(lambda: decode(y).block_until_ready())
    necst_single = best_of(lambda: [decode(y[i:i + 1]).block_until_ready() for i in range(args.single)])
    from ldpc import BpDecoder
    bp = BpDecoder(code.h, error_rate=args.eps, max_iter=50, bp_method="product_sum",
                   input_vector_type="received_vector")
    bp_batched = best_of(lambda: [bp.decode(word) for word in received])
    bp_single = best_of(lambda: [bp.decode(received[i].copy()) for i in range(args.single)])
    per = {"necst_batched_us": 1e6 * necst_batched / args.words, "bp_batched_us": 1e6 * bp_batched / args.words,
           "necst_single_us": 1e6 * necst_single / args.single, "bp_single_us": 1e6 * bp_single / args.single}
    result = {"benchmark": "necst_speed", "version": __version__, "seed": args.seed, "eps": args.eps, "bits": bits,
              "words": args.words, "single_words": args.single, "weights": w.digest, **per,
              "speedup_batched": per["bp_batched_us"] / per["necst_batched_us"],
              "speedup_single": per["bp_single_us"] / per["necst_single_us"],
              "devices": [str(d) for d in jax.devices()], "machine": machine()}
    write_results(args.out, result)
    table = "\n".join([
        f"{bits}-bit words from a BSC with ε = {args.eps}; microseconds per word, best of three, one run "
        f"({jax.devices()[0].platform.upper()}, {machine().get('cpus', '?')} cores).", "",
        "| decoder | batched | one word per call |", "| --- | --- | --- |",
        f"| NECST decoder (to an image) | {per['necst_batched_us']:.1f} | {per['necst_single_us']:.1f} |",
        f"| LDPC belief propagation, ≤ 50 iterations (to message bits) | {per['bp_batched_us']:.1f} | "
        f"{per['bp_single_us']:.1f} |",
        f"| speed-up of NECST | {result['speedup_batched']:.1f}x | {result['speedup_single']:.1f}x |"])
    print(table)
    update_readme(args.readme, "necst-speed", table)


if __name__ == "__main__":
    main()
