import sys


def finish(code):
    print("exiting with", code)
    sys.exit(code)


if __name__ == "__main__":
    arg = sys.argv[1]
    finish(None if arg == "none" else int(arg) if arg.lstrip("-").isdigit() else arg)
