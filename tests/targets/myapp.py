"""The chapter's example: functions that call time.sleep(0.01) in loops (about 0.45 s).

Every sleep is timed with perf_counter, so the test can compare the profile
with the time really slept, per function (REPORT, filled by main()).
"""
import time

REPORT = {"light": 0.0, "medium": 0.0, "heavy": 0.0, "main": 0.0, "sleeps": 0}
_slept = [0.0]


def light():
    t0 = time.perf_counter()
    time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    _slept[0] += elapsed
    REPORT["light"] += elapsed
    REPORT["sleeps"] += 1


def medium():
    before = _slept[0]
    light()
    light()
    REPORT["medium"] += _slept[0] - before


def heavy():
    before = _slept[0]
    for _ in range(5):
        medium()
        light()
    REPORT["heavy"] += _slept[0] - before


def main():
    for key in REPORT:
        REPORT[key] = 0
    _slept[0] = 0.0
    for _ in range(3):
        heavy()
    REPORT["main"] = _slept[0]
    return REPORT


if __name__ == "__main__":
    main()
    print("slept %.3f s in %d sleeps" % (REPORT["main"], REPORT["sleeps"]))
