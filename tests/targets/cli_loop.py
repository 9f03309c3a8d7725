"""Spins until interrupted (gives up after 60 s so it can never be left behind)."""
import sys
import time


def spin():
    total = 0
    for i in range(1000):
        total += i
    return total


def loop():
    deadline = time.monotonic() + 60
    print("ready", flush=True)
    while time.monotonic() < deadline:
        spin()


if __name__ == "__main__":
    loop()
    sys.exit(0)
