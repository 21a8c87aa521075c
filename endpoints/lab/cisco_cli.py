"""The tshell's own command-line grammar, as the codec reads it (protocols/cisco.md §2.3).

Written for the simulator from the notes, on purpose apart from any client's tokenizer:
a client that quotes or splits wrongly must be refused here as a codec refuses it.

- A path is space-separated words; a number after a word is that word's index
  (`SIP Proxy 1 Address`); everything is case-insensitive.
- A value after `: ` is a bare word or a double-quoted string in which `\\"` is a quote
  and `\\\\` a backslash (jsxapi escapes quotes so; cisco.md §2.3).
- A command's parameters are `Key: value` pairs; a key may repeat (arrays).
- Any line may end in ` | resultId="<id>"`, which the answer echoes (XML/JSON modes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

Token = tuple[str, int | None]

_RESULT_ID = re.compile(r'\s*\|\s*resultid\s*=\s*"([^"]*)"\s*$', re.IGNORECASE)
_KEY = re.compile(r"[A-Za-z][\w.]*:")


class CliSyntaxError(ValueError):
    """A line the codec cannot read (an index where none fits, an open quote)."""


def split_result_id(line: str) -> tuple[str, str | None]:
    """`xStatus SIP | resultId="7"` -> (`xStatus SIP`, `7`); (line, None) when untagged."""
    match = _RESULT_ID.search(line)
    if match is None:
        return line, None
    return line[:match.start()], match.group(1)


def path_tokens(text: str) -> list[Token]:
    """`SIP Proxy 1 Address` -> [(SIP, None), (Proxy, 1), (Address, None)]."""
    tokens: list[Token] = []
    for word in text.split():
        if word.isdecimal():
            if not tokens or tokens[-1][1] is not None:
                raise CliSyntaxError(f"an index without its element: {word}")
            tokens[-1] = (tokens[-1][0], int(word))
        else:
            tokens.append((word, None))
    return tokens


def read_value(text: str) -> tuple[str, str]:
    """The value at the start of `text` and what follows it.

    A quoted value ends at the first unescaped quote; a bare one at the first blank."""
    text = text.lstrip(" \t")
    if not text.startswith('"'):
        word, _, rest = text.partition(" ")
        return word, rest
    value: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '"\\':
            value.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(value), text[index + 1:]
        value.append(char)
        index += 1
    raise CliSyntaxError("a quoted value is not closed")


def config_value(text: str) -> str:
    """The whole value of `xConfiguration <path>: <value>`; a bare value may hold blanks."""
    stripped = text.strip(" \t")
    if stripped.startswith('"'):
        value, rest = read_value(stripped)
        if rest.strip():
            raise CliSyntaxError("text after a quoted value")
        return value
    return stripped


@dataclass
class CommandLine:
    """`xCommand Dial Number: "a" Protocol: Sip` as words and parameters."""

    words: list[str]
    params: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        """A parameter's value by name, matched case-insensitively (the xAPI is)."""
        for key, values in self.params.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None


def command_line(text: str) -> CommandLine:
    """Words up to the first `Key:`, then `Key: value` pairs."""
    words: list[str] = []
    params: dict[str, list[str]] = {}
    rest = text.strip()
    while rest:
        key = _KEY.match(rest)
        if key is None:
            if params:
                raise CliSyntaxError(f"a value without its parameter name: {rest.split()[0]}")
            word, _, rest = rest.partition(" ")
            words.append(word)
            rest = rest.lstrip()
            continue
        value, rest = read_value(rest[key.end():])
        params.setdefault(key.group(0)[:-1], []).append(value)
        rest = rest.lstrip()
    return CommandLine(words, params)


def xpath(root: str, tokens: list[Token]) -> str:
    """The XPath a codec names in its errors: `Configuration/SIP/Proxy[1]/Address`."""
    return "/".join([root, *(name if index is None else f"{name}[{index}]" for name, index in tokens)])


def loose_xpath(root: str, text: str) -> str:
    """The XPath of a path the codec could not read, built word by word."""
    parts: list[str] = []
    for word in text.split():
        if word.isdecimal() and parts:
            parts[-1] += f"[{word}]"
        else:
            parts.append(word)
    return "/".join([root, *parts])
