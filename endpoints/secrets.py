"""Secrets that never render: device and SIP passwords.

A `Secret` resolves its value lazily (from the environment, a file, or a literal) and
shows itself only as ``********`` in repr, str, format, logging and JSON.

A secret that cannot be used raises `SecretError`, an `InputError` that names the line
where the secret is written and its key, once: callers re-raise it as it is.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from endpoints.errors import InputError

MASK = "********"
MAX_SECRET_BYTES = 64 * 1024  # a password, a key or a token; more is the wrong file


class SecretError(InputError):
    """A secret could not be resolved (missing variable, unreadable or empty file). Never carries a value."""


class Secret:
    """A password whose value is read only through `reveal()`."""

    __slots__ = ("_env", "_file", "_key", "_literal", "_origin", "_value")

    def __init__(
        self,
        literal: str | None = None,
        *,
        env: str | None = None,
        file: str | Path | None = None,
        origin: str = "",
        key: str = "",
    ) -> None:
        """`origin` is where the secret is written (`inventory.yaml:12`), `key` its dotted key."""
        if sum(x is not None for x in (literal, env, file)) != 1:
            raise ValueError("a secret needs exactly one of a literal, env or file")
        self._literal = literal
        self._env = env
        self._file = Path(file) if file is not None else None
        self._origin = origin.rstrip(": ")
        self._key = key
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
            value = os.environ.get(self._env)
            if value is None:
                raise self._error(f"environment variable {self._env} is not set")
            if not value:
                raise self._error(f"environment variable {self._env} is empty (an empty password is written '')")
            return value
        assert self._file is not None
        return self._read_file(self._file)

    def _read_file(self, path: Path) -> str:
        try:
            with open(path, "rb") as stream:
                data = stream.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise self._error(f"cannot read secret file {path}: {exc.strerror}") from None
        if len(data) > MAX_SECRET_BYTES:
            raise self._error(f"secret file {path} is larger than {MAX_SECRET_BYTES // 1024} KiB; is it the right file?")
        try:
            value = data.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise self._error(f"secret file {path} is not UTF-8 text") from None
        if not value:
            raise self._error(f"secret file {path} is empty (an empty password is written '')")
        if value.startswith("$ANSIBLE_VAULT;"):
            raise self._error(f"secret file {path} is encrypted with ansible-vault, which endpoints does not "
                              "decrypt: write the clear value into a file readable only by you")
        return value

    def _error(self, message: str) -> SecretError:
        file, _, line = self._origin.rpartition(":")
        if not line.isdigit():
            file, line = self._origin, ""
        return SecretError(message, file=file, line=int(line) if line else None, key=self._key)

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
