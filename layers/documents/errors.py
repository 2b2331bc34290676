"""The one error a source document can raise."""

from __future__ import annotations

from pathlib import Path


class SourceError(Exception):
    """A source file that cannot be read or parsed: names the file and the problem."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")
