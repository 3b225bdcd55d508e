"""Helpers of the benchmark pipelines: the results JSON (written atomically) and the README
blocks between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers."""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform()}


def write_results(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)


def update_readme(readme: Path, marker: str, table: str) -> bool:
    """Replace the block between the markers; True when the README changed."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    new = re.sub(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    if new == text:
        return False
    readme.write_text(new)
    print(f"updated {readme}")
    return True
