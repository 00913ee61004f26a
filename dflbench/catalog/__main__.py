"""``python -m dflbench.catalog [--write]``: check catalog.json against the registries (exit 1 and
say what differs when it is stale), or rewrite it from them."""

from __future__ import annotations

import argparse
import json
import sys

from dflbench.catalog import PATH, WRITE_COMMAND
from dflbench.catalog._build import build, differences, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dflbench.catalog", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {PATH.name} from the registries")
    args = parser.parse_args(argv)
    built = build()
    if args.write:
        PATH.write_text(render(built), encoding="utf-8")
        print(f"wrote {PATH}")
        return 0
    changes = differences(built, json.loads(PATH.read_text(encoding="utf-8")))
    for line in changes:
        print(line)
    if changes:
        print(f"{PATH.name} is stale: run {WRITE_COMMAND}")
        return 1
    print(f"{PATH.name} equals the registries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
