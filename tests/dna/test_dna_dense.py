"""The denser code as it stands (issue 19, library path): 1.6 bits/nt net, a round trip,
distinct strands for equal payloads, and repairs of an error in the index bases and of an
indel."""

import numpy as np

from dnastore.dna import dense
from dnastore.dna.constrained import Constraints, satisfied
from dnastore.io.seqio import encode_bases


def test_round_trip_density_and_constraints(rng):
    data = rng.integers(0, 256, 30000).astype(np.uint8).tobytes()
    strands, man = dense.encode(data)
    assert man["density"]["bits_per_nt_without_primers"] > 1.55
    lay = dense.DenseLayout()
    cores = encode_bases("".join(s[20:-20] for s in strands)).reshape(len(strands), lay.core_nt)
    assert satisfied(cores, Constraints(), encode_bases(lay.primers[0]), encode_bases(lay.primers[1])).all()
    back, erased, st = dense.decode([(s, 1) for s in strands], man)
    assert back == data and not erased.any() and st["valid"] == len(strands)


def test_equal_payloads_make_distinct_strands():
    strands, man = dense.encode(bytes(20000))
    cores = [s[20:-20] for s in strands]
    assert len(set(cores)) == len(cores)
    a, b = (np.frombuffer(c.encode(), np.uint8) for c in cores[5:7])
    assert (a == b).mean() < 0.5
    assert dense.decode([(s, 1) for s in strands], man)[0] == bytes(20000)


def test_errors_in_the_index_bases_and_indels_are_repaired(rng):
    data = rng.integers(0, 256, 4000).astype(np.uint8).tobytes()
    strands, man = dense.encode(data, redundancy=0)
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    bad = []
    for i, s in enumerate(strands):
        j = 20 + 4 + int(rng.integers(0, 12)) if i % 3 == 0 else 20 + int(rng.integers(0, 200))
        if i % 3 == 2:
            s = s[:j] + s[j + 1:]                      # a deletion
        else:
            s = s[:j] + swap[s[j]] + s[j + 1:]        # a substitution (in the index bases for i % 3 == 0)
        bad.append((s, 1))
    back, erased, st = dense.decode(bad, man)
    assert back == data and not erased.any()
    assert st["index_repaired"] > 0 and st["indel_repaired"] > 0 and st["failed"] == 0
