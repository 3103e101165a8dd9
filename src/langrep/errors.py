"""Errors that name what is wrong with the user's input (file and line, or config key)."""

from __future__ import annotations


class LangrepError(Exception):
    """Bad input: a malformed file, a missing mirror file, a bad config value."""


class InputFormatError(LangrepError):
    """A data file does not have the expected format."""

    def __init__(self, path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
