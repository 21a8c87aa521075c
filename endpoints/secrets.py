"""Secrets that never render: device and SIP passwords.

A `Secret` resolves its value lazily (from the environment, a file, or a literal) and
shows itself only as ``********`` in repr, str, format, logging and JSON.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MASK = "********"


class SecretError(Exception):
    """A secret could not be resolved (missing variable or file). Names the source, never a value."""


class Secret:
    """A password whose value is read only through `reveal()`."""

    __slots__ = ("_env", "_file", "_literal", "_origin", "_value")

    def __init__(
        self,
        literal: str | None = None,
        *,
        env: str | None = None,
        file: str | Path | None = None,
        origin: str = "",
    ) -> None:
        if sum(x is not None for x in (literal, env, file)) != 1:
            raise ValueError("a secret needs exactly one of a literal, env or file")
        self._literal = literal
        self._env = env
        self._file = Path(file) if file is not None else None
        self._origin = origin
        self._value: str | None = None  # read once: a fleet run reveals each secret many times

    @property
    def source(self) -> str:
        """Where the value comes from, safe to print (`env:NAME`, `file:PATH`, `inline`)."""
        if self._env is not None:
            return f"env:{self._env}"
        if self._file is not None:
            return f"file:{self._file}"
        return "inline"

    def reveal(self) -> str:
        """The clear-text value; call only where it is sent to a device."""
        if self._value is None:
            self._value = self._read()
        return self._value

    def _read(self) -> str:
        if self._literal is not None:
            return self._literal
        if self._env is not None:
            try:
                return os.environ[self._env]
            except KeyError:
                raise SecretError(
                    f"{self._origin}environment variable {self._env} is not set"
                ) from None
        assert self._file is not None
        try:
            return self._file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SecretError(
                f"{self._origin}cannot read secret file {self._file}: {exc.strerror}"
            ) from None

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self.reveal() == other.reveal()

    def __hash__(self) -> int:
        return hash(self.source)

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not serialisable")


def redact(text: str, secrets: list[Secret] | tuple[Secret, ...]) -> str:
    """Replace every resolvable secret value in text by the mask (defence in depth).

    Longest first, so that a secret containing another is masked whole."""
    values = set()
    for secret in secrets:
        try:
            values.add(secret.reveal())
        except SecretError:
            continue
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
