"""The simulator's jit-compiled kernels (see :mod:`dnastore.channel.dna` for the model).

They live apart from the host code so that a run whose compiled kernels are cached
(:mod:`dnastore.aot`) never imports JAX."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from dnastore.channel.dna import N_CAT, NAME_DIGITS

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


# thinning categories of an event: three sequencing kinds (position profile, per-read factor,
# homopolymer), then the molecule's: synthesis deletion, insertion, substitution, polymerase
# substitution, aging substitution
SEQ_DEL, SEQ_INS, SEQ_SUB, SYN_DEL, SYN_INS, SYN_SUB, PCR_SUB, AGE_SUB = range(8)


@partial(jax.jit, static_argnames=("k_max", "window", "breaks", "cats", "per_read", "bursts"), keep_unused=True)
def events_kernel(seed, src, runs, lens, rates, bm, hps, prof, subt, trunc_cdf, trunc_mode, cut, seq_bound, mol_bound,
                  read_sd, rcap, slope, rc_fraction, burst_cdf, first, k_max, window, breaks, cats, per_read, bursts):
    """The events of reads ``first``.. from their source strands ``src`` ((B, L) base codes,
    4 beyond ``lens``): per read its orientation, a per-read error factor, the window of the
    molecule that survives (truncated synthesis, breakage) and up to ``k_max`` events, each
    with its output column ``opos``, its length change ``step`` (+1 insertion, -1 deletion)
    and its ``code`` (1..3: substitution of the base b by b + code mod 4; 5 + b: inserted
    base b).

    Randomness is counter-based: every draw is a hash of (seed, read number, slot), so a read
    is the same whatever batch it is computed in. Events are sparse, so they are drawn as
    events rather than per base: each read gets a Poisson number (at most ``k_max``) of
    candidate positions at rate -ln(1 - p_max) per base, where p_max bounds the read's total
    error rate at any base (``mol_bound`` + read factor x ``seq_bound``), drawn already sorted
    (exponential spacings); a candidate at column j then becomes an event of category c with
    probability rate_c(j) / p_max (thinning), else nothing. rate_c(j) is the category's rate
    (``rates``) times its factor for the base there (``bm``) and for the homopolymer it sits
    in (1 + ``hps`` x (run - 1), the run from the strands' ``runs``), and for sequencing kinds
    the cycle's profile (``prof``), the linear ``slope`` and the read's factor. A
    substitution's new base follows the category's spectrum (``subt``: cumulative rows per
    from-base; synthesis, PCR and aging act on the molecule, so a reverse read sees them
    complemented). Synthesis deletions remove bursts of bases (``burst_cdf``)."""
    B, L = src.shape
    K = k_max
    smix = _seed_mix(seed)
    stream = _hash32(_hash32((first + jnp.arange(B)).astype(jnp.uint32) ^ smix) + jnp.uint32(0x27D4EB2F))
    slots = _hash32(jnp.arange(8 + 3 * K, dtype=jnp.uint32) * jnp.uint32(0x9E3779B9) + smix)
    w = _hash32(stream[:, None] ^ slots[None, :])            # (B, 8 + 3K) words
    rc = _uniform(w[:, 0]) < rc_fraction
    lens_f = lens.astype(jnp.float32)
    # the read's error factor: lognormal, mean one before the cap
    if per_read:
        u1, u2 = jnp.maximum(_uniform(w[:, 3]), 1e-7), _uniform(w[:, 4])
        z = jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos(6.2831855 * u2)
        rmult = jnp.minimum(jnp.exp(read_sd * z - 0.5 * read_sd * read_sd), rcap)
    else:
        rmult = jnp.ones((B,), jnp.float32)
    # the number of candidate events
    p_max = jnp.minimum(mol_bound + rmult * seq_bound, 0.999)
    lam = lens_f * -jnp.log1p(-p_max)
    ks = jnp.arange(K + 1, dtype=jnp.float32)
    log_pmf = ks[None, :] * jnp.log(jnp.maximum(lam, 1e-30))[:, None] - lam[:, None] - jax.lax.lgamma(ks + 1.0)[None, :]
    cdf = jnp.cumsum(jnp.exp(log_pmf), axis=1)
    n_ev = jnp.minimum((_uniform(w[:, 1])[:, None] > cdf).sum(axis=1), K)
    # their positions as sorted uniforms without a sort: with exponentials E_1..E_{n+1}, the
    # j-th smallest of n uniforms is (E_1 + .. + E_j) / (E_1 + .. + E_{n+1})
    ev = w[:, 8:].reshape(B, K, 3)
    slot = jnp.arange(K)[None, :]
    active = slot < n_ev[:, None]
    csum = jnp.cumsum(-jnp.log1p(-_uniform(ev[..., 0])), axis=1)
    total = jnp.where(n_ev > 0, jnp.take_along_axis(csum, jnp.maximum(n_ev - 1, 0)[:, None], axis=1)[:, 0], 0.0)
    total = total - jnp.log1p(-_uniform(w[:, 2]))
    at = jnp.minimum((csum / total[:, None] * lens[:, None]).astype(jnp.int32), lens[:, None] - 1)
    at = jnp.where(active, at, lens[:, None])                 # inactive slots last
    first_here = jnp.concatenate([jnp.ones((B, 1), bool), at[:, 1:] != at[:, :-1]], axis=1)
    live = active & first_here                                # one candidate per base
    # the molecule's base and homopolymer at each candidate (read columns run backwards on
    # the molecule for a reverse read)
    mcol = jnp.clip(jnp.where(rc[:, None], lens[:, None] - 1 - at, at), 0, L - 1)
    mb = jnp.minimum(jnp.take_along_axis(src, mcol, axis=1).astype(jnp.int32), 3)
    rb = jnp.where(rc[:, None], 3 - mb, mb)                   # the base as the read shows it
    frac = at / jnp.maximum(lens[:, None] - 1, 1)
    seq_mult = (1.0 + slope * (2.0 * frac - 1.0)) * prof[jnp.minimum(at, prof.shape[0] - 1)] * rmult[:, None]
    # each category's rate at each candidate, as element-wise selects (gathers from small
    # tables are slow on XLA's CPU backend). ``cats``: the categories with a rate, each with
    # whether its rate depends on the base and on the homopolymer run (static: a preset
    # compiles only the work it uses)
    if any(h for _, _, h in cats):
        run = (jnp.take_along_axis(runs, mcol, axis=1).astype(jnp.float32) - 1.0)

    def by_base(row, b):
        return jnp.where(b == 0, row[0], jnp.where(b == 1, row[1], jnp.where(b == 2, row[2], row[3])))
    u = _uniform(ev[..., 1]) * p_max[:, None]
    kind = jnp.zeros(u.shape, jnp.int32)
    acc = 0.0
    for c, on_base, on_run in cats:
        rate = rates[c] * seq_mult if c < 3 else rates[c]
        if on_base:
            rate = rate * by_base(bm[c], rb if c < 3 else mb)
        if on_run:
            rate = rate * (1.0 + hps[c] * run)
        acc = acc + rate
        kind = kind + (u >= acc).astype(jnp.int32)    # the position in cats of u's category
    out = jnp.full(kind.shape, N_CAT, jnp.int32)
    for pos in range(len(cats) - 1, -1, -1):
        out = jnp.where(kind == pos, cats[pos][0], out)
    kind = out
    kind = jnp.where(live, kind, N_CAT)                                              # N_CAT: nothing
    dele = (kind == SEQ_DEL) | (kind == SYN_DEL)
    ins = (kind == SEQ_INS) | (kind == SYN_INS)
    sub = (kind == SEQ_SUB) | (kind == SYN_SUB) | (kind == PCR_SUB) | (kind == AGE_SUB)
    # the new base of a substitution from its category's spectrum, seen in read orientation
    # (each active substitution category's cumulative row for the base, by selects)
    v = _uniform(_hash32(ev[..., 2]))
    to_b = jnp.zeros(v.shape, jnp.int32)
    for t in range(3):
        thr = 0.0
        for c, st in ((SEQ_SUB, 0), (SYN_SUB, 1), (PCR_SUB, 2), (AGE_SUB, 3)):
            if any(c == a for a, _, _ in cats):
                thr = jnp.where(kind == c, by_base(subt[st, :, t], rb if st == 0 else mb), thr)
        to_b = to_b + (v >= thr).astype(jnp.int32)
    to_read = jnp.where((kind != SEQ_SUB) & rc[:, None], 3 - to_b, to_b)
    sub_code = jnp.where(to_read == rb, 1 + (ev[..., 1] & 0xFF) % 3, (to_read - rb) % 4)
    # synthesis deletions come in bursts of consecutive bases (``burst_cdf``: cumulative
    # chance of 1, 2, .. bases); an event inside an earlier burst's span is dropped
    width = dele.astype(jnp.int32)
    if bursts:
        ub = _uniform(_hash32(ev[..., 1] ^ jnp.uint32(0x5BD1E995)))
        k = 1 + (ub[..., None] >= burst_cdf[None, None, :-1]).sum(axis=2).astype(jnp.int32)
        k = jnp.maximum(jnp.minimum(k, lens[:, None] - at), 1)
        width = jnp.where(kind == SYN_DEL, k, width)
        reach = jnp.where(kind < N_CAT, at + jnp.maximum(width, 1) - 1, -1)
        # (against the two events before: a third inside one burst's span is past one in 10^9)
        pad = jnp.full((B, 2), -1, reach.dtype)
        shifted = jnp.concatenate([pad, reach], axis=1)
        prev = jnp.maximum(shifted[:, 1:-1], shifted[:, :-2])
        keep = at > prev
        dele, ins, sub = dele & keep, ins & keep, sub & keep
        width = jnp.where(dele, width, 0)
    # output column of each event: its source column plus the insertions minus deletions before it
    step = ins.astype(jnp.int32) - width
    opos = at + jnp.cumsum(step, axis=1) - step
    code = jnp.where(sub, sub_code, jnp.where(ins, 5 + (ev[..., 2] & 3), 0)).astype(jnp.int32)
    # the surviving window of the molecule [m0, m1): truncated synthesis, then a fragment of
    # a broken one
    m0, m1 = jnp.zeros_like(lens), lens
    if window:
        miss = (_uniform(w[:, 5])[:, None] >= trunc_cdf[None, :]).sum(axis=1)
        miss = jnp.minimum(miss, jnp.maximum(lens - 1, 0)).astype(jnp.int32)
        lead = jnp.where(trunc_mode == 0, miss, jnp.where(trunc_mode == 1, 0,
                         jnp.minimum((_uniform(w[:, 6]) * (miss + 1).astype(jnp.float32)).astype(jnp.int32), miss)))
        m0, m1 = lead, lens - (miss - lead)
    if breaks:
        j = jnp.arange(L, dtype=jnp.uint32)[None, :]
        hb = _hash32((stream[:, None] + jnp.uint32(0x632BE5AB)) ^ (j * jnp.uint32(0x85EBCA77)))
        sb = jnp.minimum(src.astype(jnp.int32), 3)
        br = (_uniform(hb) < cut[sb]) & (j.astype(jnp.int32) < lens[:, None])
        cb = jnp.cumsum(br.astype(jnp.int32), axis=1)
        # the read comes from the fragment that holds a random base of the molecule (a longer
        # fragment is likelier to be sequenced; an empty one never is)
        pos = jnp.minimum((_uniform(w[:, 7]) * lens_f).astype(jnp.int32), jnp.maximum(lens - 1, 0))
        at_pos = jnp.take_along_axis(cb, pos[:, None], axis=1)[:, 0]
        on_break = jnp.take_along_axis(br, pos[:, None], axis=1)[:, 0]
        valid = j.astype(jnp.int32) < lens[:, None]

        def span(f):
            lo = jnp.where(f > 0, ((cb < f[:, None]) & valid).sum(axis=1) + 1, 0)
            return lo, ((cb < (f + 1)[:, None]) & valid).sum(axis=1)
        a0, a1 = span(at_pos - on_break.astype(jnp.int32))   # the fragment that holds pos (or ends at it)
        b0, b1 = span(at_pos)                                # the one after a broken pos
        after = on_break & (b1 - b0 > a1 - a0)
        f0, f1 = jnp.where(after, b0, a0), jnp.where(after, b1, a1)
        m0, m1 = jnp.maximum(m0, f0), jnp.minimum(m1, f1)
    m1 = jnp.maximum(m1, m0)
    # in read orientation
    w0 = jnp.where(rc, lens - m1, m0)
    w1 = jnp.where(rc, lens - m0, m1)
    inw = (at >= w0[:, None]) & (at < w1[:, None])
    n_ins, n_del = ins.sum(1), width.sum(1)
    counts = jnp.stack([(sub & inw).sum(1), (ins & inw).sum(1), jnp.where(inw, width, 0).sum(1)], axis=1)
    return rc, opos, step, code, lens + n_ins - n_del, counts, rmult, jnp.stack([w0, w1], axis=1)


def _shift_and_mark(opos, step, code, lout: int, group: int = 8, max_shift: int = 0):
    """Per output column o: C(o) = sum of step over events at or before o, and the code of the
    event at o (0 if none), as one pass over (event, column) pairs with the two packed into one
    small integer, C + M * code. The events go in groups of eight: XLA's CPU backend
    vectorises a short reduction well and a long one (nanopore's 38 slots) some ten times
    slower per term."""
    K = opos.shape[1]
    M = 1 << (2 * max(K, max_shift) + 2).bit_length()  # |C| <= max(K, max_shift) < M / 2
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


@partial(jax.jit, static_argnames=("lout", "window", "per_read", "max_shift"), keep_unused=True)
def build_kernel(seed, src, lens, rc, opos, step, code, new_len, rmult, win, qcol, q_mol, first, lout, window,
                 per_read, max_shift=0):
    """FASTQ records of reads ``first``.. from their source strands src: (B, L) base codes
    padded with 4, and the events of :func:`events_kernel` (a separate executable, so that
    XLA cannot fuse the per-event work into the per-column sums below and redo it per column).
    Output column o copies source column o - C(o), where C counts the insertions minus
    deletions placed at or before o (a sum over the few events, not a scan over the columns),
    in reverse-complement order for a reverse read; then the events' own columns are written
    (no two kept events share an output column). With a ``window`` only the columns from the
    surviving part of the molecule are kept. Returns the records and the reads' lengths."""
    B, L = src.shape
    rows = jnp.arange(B)[:, None]
    ocol = jnp.arange(lout)[None, :]
    shift, mark = _shift_and_mark(opos, step, code, lout, max_shift=max_shift)
    col = ocol - shift
    scol = jnp.clip(jnp.where(rc[:, None], lens[:, None] - 1 - col, col), 0, L - 1)
    b = jnp.take_along_axis(src, scol, axis=1).astype(jnp.int32)
    b = jnp.where(rc[:, None], 3 - b, b)
    out = jnp.where(mark >= 5, mark - 5, jnp.where(mark >= 1, (b + mark) % 4, b))
    full = jnp.minimum(new_len, lout)
    # Phred: the local error rate per column (the cycle's sequencing rate times the read's
    # factor, plus the molecule's), with noise (two hashed bytes: triangular, unit variance),
    # and low where an error sits
    # (one row for all reads unless the reads have their own factors)
    p_loc = rmult[:, None] * qcol[None, :] + q_mol if per_read else (qcol + q_mol)[None, :]
    h = _hash32((first + rows).astype(jnp.uint32) * jnp.uint32(0x9E3779B1) + ocol.astype(jnp.uint32)
                + _seed_mix(seed))
    z = ((h & 0xFF) + ((h >> 8) & 0xFF)).astype(jnp.float32) * (1.0 / 104.5) - (255.0 / 104.5)
    q = -10.0 * jnp.log10(jnp.maximum(p_loc, 1e-4)) + jnp.where(p_loc > 0, 2.0 * z, 0.0)
    q = jnp.where(mark > 0, q - 15.0 + z, q)
    q = jnp.clip(jnp.round(q), 2, 40).astype(jnp.int32)
    n = full
    if window:
        inside_full = ocol < full[:, None]
        before = ((col < win[:, :1]) & inside_full).sum(axis=1)
        n = ((col >= win[:, :1]) & (col < win[:, 1:]) & inside_full).sum(axis=1)
        take = jnp.minimum(ocol + before[:, None], lout - 1)
        out = jnp.take_along_axis(out, take, axis=1)
        q = jnp.take_along_axis(q, take, axis=1)
    inside = ocol < n[:, None]
    return _records(out, inside, q.astype(jnp.uint8), first), n
