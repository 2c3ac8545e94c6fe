"""MinHash signatures of word shingles (datasketch, imported on first use), their LSH
band keys and the Jaccard similarity two signatures estimate."""

from __future__ import annotations

import functools
import operator
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..text import fold_words
from .features import Thresholds

if TYPE_CHECKING:
    from datasketch import MinHash


def minhash(text: str, num_perm: int = 96) -> bytes:
    """The MinHash signature of ``text``'s word shingles; empty under eight shingles."""
    shingles = _shingles(text)
    if len(shingles) < 8:
        return b""
    made = _minhash_template(num_perm).copy()
    made.update_batch([s.encode("utf-8") for s in shingles])
    return bytes(made.hashvalues.astype("<u4").data)


def prepare(thresholds: Thresholds = Thresholds()) -> None:
    """Import datasketch and make the MinHash permutations and LSH shape now, so that
    processes forked later inherit them."""
    _minhash_template(thresholds.num_perm)
    _bands(thresholds.copy_jaccard, thresholds.num_perm)


@functools.cache
def _minhash_template(num_perm: int) -> MinHash:
    # imported here: datasketch pulls in scipy (about 1 s), which `fetch` never needs
    from datasketch import MinHash

    # One set of permutations for all: making them is most of a MinHash's cost. crc32 is a
    # stable hash, so signatures stored by one run compare with the next run's.
    return MinHash(num_perm=num_perm, hashfunc=zlib.crc32)


@functools.cache
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) of the LSH index datasketch would build for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(signature: bytes, thresholds: Thresholds = Thresholds()) -> list[bytes]:
    """The LSH band keys of a signature: two similar texts likely share one."""
    if not signature:
        return []
    bands, rows = _bands(thresholds.copy_jaccard, thresholds.num_perm)
    width = 4 * rows
    return [bytes([n]) + signature[n * width : (n + 1) * width] for n in range(bands)]


def jaccard(a: bytes, b: bytes) -> float:
    """The Jaccard similarity two MinHash signatures estimate (0 when one is empty)."""
    if not a or len(a) != len(b):
        return 0.0
    return _agreement(memoryview(a).cast("I"), memoryview(b).cast("I"))


def _agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of positions where two signatures of the same length hold the same value."""
    return int(sum(map(operator.eq, a, b))) / len(a)


def _shingles(text: str, size: int = 3) -> set[str]:
    words = fold_words(text)
    return {" ".join(words[i : i + size]) for i in range(max(0, len(words) - size + 1))}
