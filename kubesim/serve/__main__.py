"""``python -m kubesim.serve``: the same as ``kubesim serve``."""

from __future__ import annotations

import sys

from kubesim.serve.cli import main

if __name__ == "__main__":
    sys.exit(main())
