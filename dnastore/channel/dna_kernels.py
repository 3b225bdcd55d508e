"""The simulator's jit-compiled kernels (see :mod:`dnastore.channel.dna` for the model).

They live apart from the host code so that a run whose compiled kernels are cached
(:mod:`dnastore.aot`) never imports JAX."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from dnastore.channel.dna import NAME_DIGITS

_U24 = 1.0 / (1 << 24)


def _ascii(code):
    """Base code (0..3, 4 = N) to its ASCII letter, by selects rather than a table gather."""
    return jnp.where(code == 0, 65, jnp.where(code == 1, 67, jnp.where(code == 2, 71,
                     jnp.where(code == 3, 84, 78)))).astype(jnp.uint8)


def _records(out, inside, q, first):
    """FASTQ record bytes, one row per read: ``@rNNNNNNNN\\n SEQ \\n+\\n QUAL \\n`` with
    zeros where a read is shorter than the row; dropping the zeros gives the file's text."""
    B, lout = out.shape
    num = first + jnp.arange(B, dtype=jnp.int32)
    pw = jnp.asarray([10 ** (NAME_DIGITS - 1 - d) for d in range(NAME_DIGITS)], dtype=jnp.int32)
    digits = (48 + (num[:, None] // pw[None, :]) % 10).astype(jnp.uint8)
    head = jnp.concatenate([jnp.full((B, 1), ord("@"), jnp.uint8), jnp.full((B, 1), ord("r"), jnp.uint8),
                            digits, jnp.full((B, 1), 10, jnp.uint8)], axis=1)
    seq = jnp.where(inside, _ascii(out), 0).astype(jnp.uint8)
    qual = jnp.where(inside, q + 33, 0).astype(jnp.uint8)
    plus = jnp.broadcast_to(jnp.asarray([10, ord("+"), 10], jnp.uint8), (B, 3))
    return jnp.concatenate([head, seq, plus, qual, jnp.full((B, 1), 10, jnp.uint8)], axis=1)


def _hash32(x):
    """A 32-bit integer mix (lowbias32): cheap per-element pseudo-randomness."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def _seed_mix(seed):
    """The seed's contribution to every hashed draw."""
    return seed.astype(jnp.uint32) * jnp.uint32(0x85EBCA77)


def _uniform(w):
    """A uint32 word to a float32 uniform on [0, 1) from its top 24 bits."""
    return (w >> 8).astype(jnp.float32) * _U24


@partial(jax.jit, static_argnames=("k_max",))
def events_kernel(seed, lens, p_sub, p_ins, p_del, s_sub, s_del, slope, rc_fraction, first, k_max):
    """The sequencing events of reads ``first``.. (one per entry of lens, the source strand
    lengths): per read its orientation and up to ``k_max`` events, each with its output
    column ``opos``, its length change ``step`` (+1 insertion, -1 deletion) and its ``code``
    (1 + r: substitution of the base b by b + 1 + r mod 4; 5 + b: inserted base b).

    Randomness is counter-based: every draw is a hash of (seed, read number, slot), so a read
    is the same whatever batch it is computed in. Events are sparse, so they are drawn as
    events rather than per base: each read gets a Poisson number (at most ``k_max``) of
    candidate positions at rate -ln(1 - p_max) per base, drawn already sorted (exponential
    spacings), so that after merging repeats a base holds a candidate with probability p_max;
    a candidate at column j becomes a deletion, insertion or substitution with probabilities
    p_del(j), p_ins(j), p_sub(j) over p_max (thinning), else nothing. Sequencing rates rise
    along the read (``slope``); the synthesis rates ``s_sub``, ``s_del`` do not."""
    B, = lens.shape
    K = k_max
    smix = _seed_mix(seed)
    stream = _hash32(_hash32((first + jnp.arange(B)).astype(jnp.uint32) ^ smix) + jnp.uint32(0x27D4EB2F))
    slots = _hash32(jnp.arange(3 + 3 * K, dtype=jnp.uint32) * jnp.uint32(0x9E3779B9) + smix)
    w = _hash32(stream[:, None] ^ slots[None, :])            # (B, 3 + 3K) words
    rc = _uniform(w[:, 0]) < rc_fraction
    # the number of candidate events
    p_max = jnp.minimum((p_sub + p_ins + p_del) * (1.0 + slope) + s_sub + s_del, 0.999)
    lam = lens.astype(jnp.float32) * -jnp.log1p(-p_max)
    ks = jnp.arange(K + 1, dtype=jnp.float32)
    log_pmf = ks[None, :] * jnp.log(jnp.maximum(lam, 1e-30))[:, None] - lam[:, None] - jax.lax.lgamma(ks + 1.0)[None, :]
    cdf = jnp.cumsum(jnp.exp(log_pmf), axis=1)
    n_ev = jnp.minimum((_uniform(w[:, 1])[:, None] > cdf).sum(axis=1), K)
    # their positions as sorted uniforms without a sort: with exponentials E_1..E_{n+1}, the
    # j-th smallest of n uniforms is (E_1 + .. + E_j) / (E_1 + .. + E_{n+1})
    ev = w[:, 3:].reshape(B, K, 3)
    slot = jnp.arange(K)[None, :]
    active = slot < n_ev[:, None]
    csum = jnp.cumsum(-jnp.log1p(-_uniform(ev[..., 0])), axis=1)
    total = jnp.where(n_ev > 0, jnp.take_along_axis(csum, jnp.maximum(n_ev - 1, 0)[:, None], axis=1)[:, 0], 0.0)
    total = total - jnp.log1p(-_uniform(w[:, 2]))
    at = jnp.minimum((csum / total[:, None] * lens[:, None]).astype(jnp.int32), lens[:, None] - 1)
    at = jnp.where(active, at, lens[:, None])                 # inactive slots last
    first_here = jnp.concatenate([jnp.ones((B, 1), bool), at[:, 1:] != at[:, :-1]], axis=1)
    live = active & first_here                                # one candidate per base
    frac = at / jnp.maximum(lens[:, None] - 1, 1)
    mult = 1.0 + slope * (2.0 * frac - 1.0)
    u = _uniform(ev[..., 1]) * p_max
    t_del = p_del * mult + s_del
    t_ins = t_del + p_ins * mult
    dele = live & (u < t_del)
    ins = live & ~dele & (u < t_ins)
    sub = live & ~dele & ~ins & (u < t_ins + p_sub * mult + s_sub)
    # output column of each event: its source column plus the insertions minus deletions before it
    step = ins.astype(jnp.int32) - dele.astype(jnp.int32)
    opos = at + jnp.cumsum(step, axis=1) - step
    code = jnp.where(sub, 1 + (ev[..., 1] & 0xFF) % 3, jnp.where(ins, 5 + (ev[..., 2] & 3), 0)).astype(jnp.int32)
    n_ins, n_del = ins.sum(1), dele.sum(1)
    counts = jnp.stack([sub.sum(1), n_ins, n_del], axis=1)
    return rc, opos, step, code, lens + n_ins - n_del, counts


def _shift_and_mark(opos, step, code, lout: int, group: int = 8):
    """Per output column o: C(o) = sum of step over events at or before o, and the code of the
    event at o (0 if none), as one pass over (event, column) pairs with the two packed into one
    small integer, C + M * code. The events go in groups of eight: XLA's CPU backend
    vectorises a short reduction well and a long one (nanopore's 38 slots) some ten times
    slower per term."""
    K = opos.shape[1]
    M = 1 << (2 * K + 2).bit_length()                 # |C| <= K < M / 2
    dt = jnp.int16 if 9 * M < 2 ** 15 else jnp.int32
    ocol = jnp.arange(lout, dtype=dt)[None, None, :]
    opos, step, code = opos.astype(dt), step.astype(dt), (code * M).astype(dt)
    zero = jnp.zeros((), dt)
    packed = 0
    for g in range(0, K, group):
        o, s, c = (x[:, g:g + group].T[:, :, None] for x in (opos, step, code))
        packed = packed + jnp.sum(jnp.where(o <= ocol, s, zero) + jnp.where(o == ocol, c, zero), axis=0, dtype=dt)
    packed = packed.astype(jnp.int32)
    shift = (packed + M // 2) % M - M // 2
    return shift, (packed - shift) // M


@partial(jax.jit, static_argnames=("lout",))
def build_kernel(seed, src, lens, rc, opos, step, code, new_len, p_tot, s_err, slope, first, lout):
    """FASTQ records of reads ``first``.. from their source strands src: (B, L) base codes
    padded with 4, and the events of :func:`events_kernel` (a separate executable, so that
    XLA cannot fuse the per-event work into the per-column sums below and redo it per column).
    Output column o copies source column o - C(o), where C counts the insertions minus
    deletions placed at or before o (a sum over the few events, not a scan over the columns),
    in reverse-complement order for a reverse read; then the events' own columns are written
    (no two kept events share an output column)."""
    B, L = src.shape
    rows = jnp.arange(B)[:, None]
    ocol = jnp.arange(lout)[None, :]
    shift, mark = _shift_and_mark(opos, step, code, lout)
    col = ocol - shift
    scol = jnp.clip(jnp.where(rc[:, None], lens[:, None] - 1 - col, col), 0, L - 1)
    b = jnp.take_along_axis(src, scol, axis=1).astype(jnp.int32)
    b = jnp.where(rc[:, None], 3 - b, b)
    out = jnp.where(mark >= 5, mark - 5, jnp.where(mark >= 1, (b + mark) % 4, b))
    inside = ocol < jnp.minimum(new_len, lout)[:, None]
    # Phred: the local error rate per column, with noise (two hashed bytes: triangular, unit
    # variance), and low where an error sits
    ofrac = jnp.arange(lout) / max(L - 1, 1)
    p_loc = p_tot * (1.0 + slope * (2.0 * jnp.minimum(ofrac, 1.0) - 1.0)) + s_err
    h = _hash32((first + rows).astype(jnp.uint32) * jnp.uint32(0x9E3779B1) + ocol.astype(jnp.uint32)
                + _seed_mix(seed))
    z = ((h & 0xFF) + ((h >> 8) & 0xFF)).astype(jnp.float32) * (1.0 / 104.5) - (255.0 / 104.5)
    q = (-10.0 * jnp.log10(jnp.maximum(p_loc, 1e-4)))[None, :] + jnp.where((p_loc > 0)[None, :], 2.0 * z, 0.0)
    q = jnp.where(mark > 0, q - 15.0 + z, q)
    q = jnp.clip(jnp.round(q), 2, 40).astype(jnp.uint8)
    return _records(out, inside, q, first)
