"""python -m strop"""
import sys

from .cli import main

sys.exit(main())
