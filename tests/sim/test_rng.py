"""The counter-based generator and the bit-sliced Bernoulli words."""

import numpy as np
import pytest

from sim import rng

MASK = (1 << 64) - 1


def splitmix64_bigint(key, ctr):
    """SplitMix64 written with Python integers, independent of the numpy version."""
    z = (key + ctr * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def test_splitmix64_reference_sequence():
    # The SplitMix64 generator seeded with 0 starts e220a8397b1dcdaf, 6e789e6aa1b965f4,
    # 06c45d188009454f (published reference outputs).
    out = rng.splitmix64(np.uint64(0), np.arange(1, 4, dtype=np.uint64))
    assert [int(x) for x in out] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_splitmix64_matches_integer_arithmetic():
    keys = [0, 1, 0xDEADBEEF, MASK]
    ctrs = np.array([0, 1, 2, 12345, 2**40 + 7, MASK], dtype=np.uint64)
    for key in keys:
        got = rng.splitmix64(np.uint64(key), ctrs)
        want = [splitmix64_bigint(key, int(c)) for c in ctrs]
        assert [int(x) for x in got] == want


def test_stream_keys_differ_by_purpose_and_seed():
    keys = {int(rng.stream_key(s, p)) for s in range(4) for p in ("a", "b", "c")}
    assert len(keys) == 12
    assert rng.stream_key(5, "a") == rng.stream_key(5, "a")


def test_prob_to_fixed_edges():
    got = rng.prob_to_fixed([0.0, 0.5, 0.25, 1.0])
    assert [int(x) for x in got] == [0, 1 << 63, 1 << 62, MASK]
    with pytest.raises(ValueError):
        rng.prob_to_fixed([1.5])
    with pytest.raises(ValueError):
        rng.prob_to_fixed([np.nan])


def bernoulli_words(P_lanes, n_words, key):
    """Draw n_words words whose lane j is Bernoulli(P_lanes[j] / 2**64)."""
    shifts = np.arange(63, -1, -1, dtype=np.uint64)
    planes = np.zeros(64, dtype=np.uint64)
    for lane, P in enumerate(P_lanes):
        bits = (np.uint64(P) >> shifts) & np.uint64(1)
        planes |= bits << np.uint64(lane)
    ctr = np.arange(n_words, dtype=np.uint64) * np.uint64(64)
    res = np.zeros(n_words, dtype=np.uint64)
    und = np.full(n_words, MASK, dtype=np.uint64)
    for k in range(64):
        r = rng.splitmix64(np.uint64(key), ctr + np.uint64(k))
        res, und = rng.bernoulli_step(res, und, planes[k], r)
    assert not und.any()
    return np.unpackbits(res.view(np.uint8), bitorder="little").reshape(n_words, 64)


@pytest.mark.parametrize("p", [0.5, 0.05, 0.3, 0.9, 1e-3, 0.6180339887])
def test_bernoulli_word_frequency(p):
    n = 20_000
    bits = bernoulli_words([int(rng.prob_to_fixed(p))] * 64, n, key=17)
    freq = bits.mean()
    se = np.sqrt(p * (1 - p) / bits.size)
    assert abs(freq - p) <= 4 * se


def test_bernoulli_per_lane_probabilities_and_independence():
    n = 20_000
    ps = np.linspace(0.0, 1.0, 64)
    bits = bernoulli_words([int(x) for x in rng.prob_to_fixed(ps)], n, key=3)
    freq = bits.mean(axis=0)
    se = np.sqrt(ps * (1 - ps) / n)
    assert np.all(np.abs(freq - ps) <= 4 * se + 1e-12)
    assert freq[0] == 0.0 and freq[-1] == 1.0
    # neighbouring lanes of one word are independent
    a, b = bits[:, 20].astype(float), bits[:, 21].astype(float)
    corr = np.corrcoef(a, b)[0, 1]
    assert abs(corr) <= 4 / np.sqrt(n)


def test_generator_streams_are_reproducible():
    a = rng.generator(1, "x").random(5)
    b = rng.generator(1, "x").random(5)
    c = rng.generator(1, "y").random(5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
