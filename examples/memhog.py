"""The memory chapter's example: a report that peaks, a cache that leaks.

    strop mem examples/memhog.py
"""
import json

CACHE = []


def load_rows(n):
    return [{"id": i, "name": "row%d" % i, "tags": ["a", "b"]} for i in range(n)]


def render(rows):
    return "\n".join(json.dumps(row) for row in rows)


def remember(text):
    CACHE.append(text[:200000])


def report():
    rows = load_rows(20000)
    text = render(rows)
    remember(text)
    return len(text)


def main():
    for _ in range(3):
        report()


if __name__ == "__main__":
    main()
