"""strop's reference workload: the "stone" that turns seconds into units that
hold on any computer.

One stone is one pass of the loop in `run`: a fixed mix of what ordinary Python
code spends its time on (integer arithmetic and branches, list indexing, a
function call walking objects' attributes, a dict update, string building,
float arithmetic, tuple packing).  It is written in Python on purpose: it
measures this interpreter on this machine, so that a cost in kstones means the
same share of "what this Python can do" everywhere.

The workload is versioned: a change to `run` that changes its speed must bump
VERSION, because costs in kstones recorded under one version do not compare
with another's.  It is strop's own workload, not the stdlib's old pystone.
"""

VERSION = 1


class _Link:
    __slots__ = ("weight", "next")

    def __init__(self, weight, next=None):
        self.weight = weight
        self.next = next


def _weigh(link, factor):
    total = 0
    while link is not None:
        total += link.weight * factor
        link = link.next
    return total


def run(loops):
    """Runs `loops` stones and returns a checksum (so that nothing is idle work).

    The checksum depends only on `loops`: tests use it to prove the work ran."""
    chain = _Link(3, _Link(5, _Link(7)))
    counts = {}
    words = ("strop", "stone", "bench", "clock")
    slots = [0] * 16
    check = 0
    for i in range(loops):
        a = i & 15
        b = (a * 7 + 3) % 11
        if a > b:
            c = a - b
        else:
            c = b - a
        slots[a] = (slots[b] + c) & 0xFFFF
        check += _weigh(chain, c)
        word = words[a & 3]
        counts[word] = counts.get(word, 0) + 1
        text = word + str(c)
        check += len(text)
        x = c * 0.5 + 1.25
        check += int(x)
        p, q = b, a
        check = (check ^ (p << 1 | q)) & 0xFFFFFFF
    return check + sum(slots) + sum(counts.values())
