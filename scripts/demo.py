"""`make demo`: the main job end to end on the embedded default (bundled simulator + local S3 server)."""

from __future__ import annotations

import sys


def main() -> int:
    print("The demo grows with the provider; nothing end to end exists yet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
