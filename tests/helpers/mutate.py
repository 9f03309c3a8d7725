"""Damaged copies of real profile files, as a hostile or broken upload would be.

mutations(data, rng) yields one mutated copy at a time; each is one or two of:
bits flipped, bytes set, a 32-bit field set to a value readers must not trust
(2**31 - 1, -1, 2**30, ...), truncation, bytes inserted or deleted, a span
copied elsewhere.  Gzipped input (pprof) is mutated inside the gzip layer as
well, and gzipped again, so that the protobuf reader is reached (a changed
byte of the compressed stream mostly stops at the CRC).  Used by
tests/test_readers_bounded.py and bench/mutate_readers.py.
"""
import gzip
import struct

INTERESTING_INT32 = (0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x40000000, 0x10000000, 0x00FFFFFF,
                     0x0000FFFF, 0, 1, 255, 256, 65536)


def _mutate_bytes(data, rng):
    data = bytearray(data)
    if not data:
        return bytes([rng.randrange(256)])
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.randrange(7)
        n = len(data)
        if n == 0:
            break
        if kind == 0:  # bit flips
            for _ in range(rng.randrange(1, 8)):
                i = rng.randrange(n)
                data[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # bytes set
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(n)] = rng.randrange(256)
        elif kind == 2 and n >= 4:  # a length or count field
            i = rng.randrange(n - 3)
            data[i:i + 4] = struct.pack("<I", rng.choice(INTERESTING_INT32))
        elif kind == 3:  # truncation
            del data[rng.randrange(n):]
        elif kind == 4:  # insertion
            i = rng.randrange(n + 1)
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif kind == 5:  # deletion
            i = rng.randrange(n)
            del data[i:i + rng.randrange(1, 16)]
        else:  # a span copied elsewhere
            i, j = rng.randrange(n), rng.randrange(n)
            data[j:j] = data[i:i + rng.randrange(1, 64)]
    return bytes(data)


def mutate(data, rng):
    """One damaged copy of `data`."""
    if data[:2] == b"\x1f\x8b" and rng.random() < 0.75:
        inner = gzip.decompress(data)
        return gzip.compress(_mutate_bytes(inner, rng), compresslevel=1, mtime=0)
    return _mutate_bytes(data, rng)
