import json
import sys


def report():
    print(json.dumps({"argv": sys.argv, "name": __name__, "path0": sys.path[0],
                      "package": __package__, "spec": __spec__.name if __spec__ else None}))


report()
