"""Prints what a script sees of how it was started, then a lot of output."""
import json
import sys


def describe():
    return {
        "argv": sys.argv,
        "name": __name__,
        "path0": sys.path[0],
        "file": globals().get("__file__"),
        "main_is_me": sys.modules["__main__"].__dict__ is globals(),
    }


def chatter(n):
    for i in range(n):
        print("line %d: h\u00e9llo \u2713" % i)


if __name__ == "__main__":
    print(json.dumps(describe(), sort_keys=True))
    chatter(2000)
    sys.stdout.write("no newline at the end")
