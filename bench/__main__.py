"""`python -m bench [name ...]`: run the bench modules (all, or those named) and print one table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Mapping, Sequence

import bench


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, object]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    cells = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    names = [m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")]
    selected = [n for n in names if not argv or n in argv]
    rows: list[dict[str, object]] = []
    for name in selected:
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        rows.extend({"bench": name, **row} for row in module.run())
    print(format_table(rows) if rows else "no benchmark rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
