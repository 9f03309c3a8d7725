"""Built-in functions and methods of C types, called from Python and from C."""


def keyfunc(word):
    return word[-1]


def main():
    words = "the quick brown fox jumps over the lazy dog".split()
    out = []
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
        out.append(len(w))
    out.append(" ".join(sorted(words, key=len)))
    out.append(",".join(sorted(words, key=keyfunc)))
    out.append(sorted(words, key=lambda w: (len(w), w)))
    out.append(max(words, key=len))
    out.append(min(words, key=keyfunc))
    ordered = list(words)
    ordered.sort(key=str.upper)
    ordered.sort(reverse=True)
    out.append(ordered)
    out.append(list(map(str.upper, words)))
    out.append(list(map(keyfunc, words)))
    out.append([k for k, v in counts.items() if v > 1])
    out.append(isinstance(words, list) and hasattr(words, "append"))
    out.append(getattr(counts, "get")("fox"))
    out.append("{}-{}".format(*words[:2]))
    out.append(abs(-3) + sum([1, 2, 3]) + round(2.5))
    buf = []
    for i in range(5):
        buf.append(str(i))
    buf.extend(["x", "y"])
    out.append("".join(buf))
    out.append(dict.fromkeys("abc"))
    return out


if __name__ == "__main__":
    print(main())
