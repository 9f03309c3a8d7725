"""A package run with -m: python -m cli_pkg runs cli_pkg/__main__.py."""
