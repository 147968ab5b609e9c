"""Counter-based seeding and the xoshiro256** generator, for numba kernels.

Every history gets its own stream: its 256-bit xoshiro256** state is filled by splitmix64 from a hash
of (seed, history index). Results therefore do not depend on which thread ran which history, nor on
the number of threads. References: Blackman and Vigna, ACM TOMS 47 (2021) 36,
doi:10.1145/3460772 (xoshiro256**); Steele, Lea and Flood, OOPSLA 2014, doi:10.1145/2660193.2660195
(splitmix64).
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_TWO53_INV = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def seed_history(seed, history, state):
    """Fill ``state`` (uint64[4]) for history number ``history`` of a run with ``seed``."""
    x = _mix(np.uint64(seed) * _GOLDEN + np.uint64(0x632BE59BD9B4E019))
    x = _mix(x ^ (np.uint64(history) * _M2 + _GOLDEN))
    for i in range(4):
        x = x + _GOLDEN
        state[i] = _mix(x)
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:  # pragma: no cover
        state[0] = _GOLDEN


@njit(cache=True, inline="always")
def next_u64(s):
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """A double in the open interval (0, 1)."""
    return ((next_u64(s) >> np.uint64(11)) + 0.5) * _TWO53_INV


@njit(cache=True)
def uniforms(seed, history, n):
    """``n`` uniforms of one history's stream (for tests)."""
    s = np.empty(4, dtype=np.uint64)
    seed_history(seed, history, s)
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(s)
    return out
