"""strop: profiling and speed-testing toolkit for Python, with a C engine."""
__version__ = "0.1.0"
