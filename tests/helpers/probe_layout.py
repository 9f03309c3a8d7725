"""Layout facts of the running CPython that its installed headers do not show.

Usage: python probe_layout.py DICT_KEYS_OFFSET NAME...

tests/test_remote.py checks src/strop/_engine/pyoffsets.h against each
CPython's headers (tests/c/probe_offsets.c); where 3.8 to 3.10 keep a struct in
a private header (PyModuleObject before 3.10, the dict key table before
3.11), this finds the field on live objects with ctypes instead, and prints
"name value" lines as the C probe does.  DICT_KEYS_OFFSET is
offsetof(PyDictObject, ma_keys), which the headers do show.  Exits 1 when a
field cannot be found unambiguously.
"""
import ctypes
import sys
import types

WORD = ctypes.sizeof(ctypes.c_void_p)


def word(addr):
    return ctypes.c_ssize_t.from_address(addr).value


def module_dict():
    m = types.ModuleType("probe")
    found = [off for off in range(2 * WORD, 8 * WORD, WORD) if word(id(m) + off) == id(m.__dict__)]
    return found


def dict_keys_fields(keys_at):
    ks = [object() for _ in range(3)]
    vs = [object() for _ in range(3)]
    d = {}
    for k, v in zip(ks, vs):
        d[k] = v
    keys = word(id(d) + keys_at)
    words = [word(keys + i * WORD) for i in range(8)]
    size = [i * WORD for i in range(1, 8) if words[i] == 8]  # a new dict has 8 slots
    nentries = [i * WORD for i in range(1, 8) if words[i] == 3]
    layouts = []
    for indices in range(2 * WORD, 10 * WORD, WORD):
        first = keys + indices + 8  # 8 one-byte indices
        for entry in (2 * WORD, 3 * WORD, 4 * WORD):
            if all(word(first + n * entry + entry - 2 * WORD) == id(ks[n])
                   and word(first + n * entry + entry - WORD) == id(vs[n]) for n in range(3)):
                layouts.append((indices, entry))
    return size, nentries, layouts


def main():
    keys_at = int(sys.argv[1])
    wanted = sys.argv[2:]
    size, nentries, layouts = dict_keys_fields(keys_at)
    facts = {
        "module_dict": module_dict(),
        "dictkeys_size": size,
        "dictkeys_nentries": nentries,
        "dictkeys_indices": [layout[0] for layout in layouts],
        "dictkeys_general_entry": [layout[1] for layout in layouts],
    }
    status = 0
    for name in wanted:
        values = facts.get(name, [])
        if len(values) != 1:
            print(f"{name} not found unambiguously: {values}", file=sys.stderr)
            status = 1
            continue
        print(f"{name} {values[0]}")
    return status


if __name__ == "__main__":
    sys.exit(main())
