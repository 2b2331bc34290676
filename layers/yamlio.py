"""Reading the project's YAML files with libyaml's C parser when PyYAML has it.

The service reads a dozen YAML files (strings, styles, settings) while it starts; the
pure-Python parser takes several times as long for the same result (safe types only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """YAML text as Python values (safe types only), like yaml.safe_load."""
    return yaml.load(text, Loader=SAFE_LOADER)


def read(path: Path) -> Any:
    """A UTF-8 YAML file as Python values (safe types only)."""
    return load(Path(path).read_text(encoding="utf-8"))
