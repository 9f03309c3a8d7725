"""Build of strop's C engine.

Environment switches:
  STROP_WERROR=1    turn warnings into errors (CI does).
  STROP_SANITIZE=1  build with AddressSanitizer and UndefinedBehaviorSanitizer.
"""
import glob
import os

from setuptools import Extension, setup

cflags = [
    "-std=c11",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wno-missing-field-initializers",
    "-fvisibility=hidden",
]
ldflags = []
if os.environ.get("STROP_WERROR") == "1":
    cflags.append("-Werror")
if os.environ.get("STROP_SANITIZE") == "1":
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
    cflags += san + ["-fno-sanitize-recover=undefined"]
    ldflags += san
else:
    cflags.append("-O2")

sources = sorted(glob.glob(os.path.join("src", "strop", "_engine", "*.c")))

setup(
    ext_modules=[
        Extension(
            "strop._engine",
            sources=sources,
            include_dirs=[os.path.join("src", "strop", "_engine")],
            libraries=["z"],  # zlib, for pprof's gzip
            extra_compile_args=cflags,
            extra_link_args=ldflags,
        )
    ]
)
