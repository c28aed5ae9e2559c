"""What the benchmark scripts share: writing results and README tables."""

from __future__ import annotations

import json
from pathlib import Path

from symmetrykit.runs import atomic_write_text

README = Path(__file__).resolve().parents[1] / "README.md"


def update_readme_section(begin: str, end: str, table: str, readme: Path = README) -> None:
    """Replace the text between the ``begin`` and ``end`` markers, atomically."""
    text = readme.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{readme} has no table markers {begin} … {end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(readme, f"{head}{begin}\n{table}\n{end}{tail}")


def write_results(path: str | Path, meta: dict, summary: list[dict], rows: list[dict]) -> Path:
    """The benchmark's JSON (metadata, per-cell summary, every run), written atomically."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps({"meta": meta, "summary": summary, "runs": rows},
                                      indent=2, default=float))
    return out
