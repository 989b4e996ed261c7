"""``python -m processing.clickstream [--engine auto|duckdb|spark]``: one batch, counts as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from ingestion.errors import PlatformError
from ingestion.settings import load_settings
from processing import clickstream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=("auto", *clickstream.ENGINES), default="auto")
    args = parser.parse_args()
    try:
        print(json.dumps(clickstream.run(load_settings(), args.engine)))
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
