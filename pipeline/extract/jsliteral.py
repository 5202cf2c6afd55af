"""Nuxt 2's ``window.__NUXT__=(function(a,b,...){return {...}}(...))``, read without running it.

Nuxt 2 serialises its state with *devalue*: an immediately-invoked function whose parameters
stand for repeated values and whose body returns an object literal in JavaScript (unquoted
keys, ``void 0``, single-quoted strings), sometimes after statements that fill in shared or
cyclic objects (``a.items=[b,c];``). This module parses exactly that subset of JavaScript
into Python values, with the arguments substituted for the parameters:

- literals: objects (bare, quoted and numeric keys), arrays (holes allowed), strings in
  either quote with JavaScript escapes, numbers, ``true``/``false``/``null``/``undefined``/
  ``void 0``, ``new Date("...")`` (its string), ``Infinity``/``NaN`` (None);
- identifiers: the function's parameters (unknown names are None);
- statements before ``return``: ``name.key=value;`` / ``name[0]=value;`` / ``name["k"]=value;``.

Anything else (calls, operators, spread, template literals, getters, a function body that
computes) raises :class:`NotLiteral` and the script is given up on. Nothing is evaluated;
the parse is linear in the input, and its nesting is bounded by :data:`MAX_NESTING`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Deeper literals than this are refused (real Nuxt states nest ~20 deep).
MAX_NESTING = 200


class NotLiteral(ValueError):
    """The text is JavaScript beyond the literal subset this parser reads."""


@dataclass(frozen=True)
class _Ref:
    name: str


_SPACE = re.compile(r"(?:\s+|/\*.*?\*/|//[^\n]*)*", re.S)
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_STRING = {
    '"': re.compile(r'"((?:[^"\\\n]++|\\.)*+)"', re.S),
    "'": re.compile(r"'((?:[^'\\\n]++|\\.)*+)'", re.S),
}
_BODY_MARK = re.compile(r"[{}\"']")
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|\n|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": ""}
_RETURN = re.compile(r"return\b")
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "undefined": None}


def _unescape(match: re.Match[str]) -> str:
    esc = match.group(1)
    if esc.startswith("u{"):
        return chr(min(int(esc[2:-1], 16), 0x10FFFF))
    if esc[0] in "ux" and len(esc) > 1:
        return chr(int(esc[1:], 16))
    if esc.isdigit() and esc != "0":
        return chr(int(esc, 8))
    return _SIMPLE_ESCAPES.get(esc, esc)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        found = _SPACE.match(self.text, self.pos)
        if found is not None:
            self.pos = found.end()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def expect(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.pos):
            raise NotLiteral(f"expected {token!r} at {self.pos}")
        self.pos += len(token)

    def accept(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def ident(self) -> str:
        self.skip()
        found = _IDENT.match(self.text, self.pos)
        if found is None:
            raise NotLiteral(f"expected a name at {self.pos}")
        self.pos = found.end()
        return found.group(0)

    def string(self) -> str:
        found = _STRING[self.text[self.pos]].match(self.text, self.pos)
        if found is None:
            raise NotLiteral(f"unterminated string at {self.pos}")
        self.pos = found.end()
        return _ESCAPE.sub(_unescape, found.group(1))

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise NotLiteral("nested too deeply")
        char = self.peek()
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char in _STRING:
            return self.string()
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            raw = number.group(0)
            if raw.lstrip("-").lower().startswith("0x"):
                return int(raw, 16)
            return json.loads(raw) if re.fullmatch(r"-?\d+", raw) else float(raw)
        word = self.ident()
        if word in _WORDS:
            return _WORDS[word]
        if word in ("Infinity", "NaN"):
            return None
        if word == "void":
            self.value(depth + 1)
            return None
        if word == "new" and self.ident() == "Date":
            self.expect("(")
            when = self.value(depth + 1)
            self.expect(")")
            return when if isinstance(when, str) else None
        if self.peek() in ("(", ".", "[", "`") or word in ("function", "new", "this"):
            raise NotLiteral(f"{word!r} is code, not a literal")
        return _Ref(word)

    def object(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        while not self.accept("}"):
            char = self.peek()
            if char in _STRING:
                key = self.string()
            elif (number := _NUMBER.match(self.text, self.pos)) is not None:
                self.pos = number.end()
                key = number.group(0)
            else:
                key = self.ident()
            self.expect(":")
            out[key] = self.value(depth + 1)
            if not self.accept(","):
                self.expect("}")
                break
        return out

    def array(self, depth: int) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        while not self.accept("]"):
            if self.peek() == ",":  # a hole
                self.pos += 1
                out.append(None)
                continue
            out.append(self.value(depth + 1))
            if not self.accept(","):
                self.expect("]")
                break
        return out


def _resolve(value: Any, env: dict[str, Any]) -> Any:
    """``value`` (acyclic: as parsed) with every parameter reference replaced by its value."""
    if isinstance(value, _Ref):
        return env.get(value.name)
    if isinstance(value, dict):
        return {k: _resolve(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env) for v in value]
    return value


def _statement(parser: _Parser, env: dict[str, Any]) -> None:
    """``name.key=value;`` / ``name[index]=value;`` (also chained: ``a.b.c=...``)."""
    target: Any = env.get(parser.ident())
    path: list[Any] = []
    while parser.peek() in (".", "["):
        if parser.accept("."):
            path.append(parser.ident())
        else:
            parser.expect("[")
            path.append(parser.value())
            parser.expect("]")
    parser.expect("=")
    value = _resolve(parser.value(), env)
    parser.accept(";")
    if not path:
        raise NotLiteral("assignment to a bare name")
    for key in path[:-1]:
        target = target.get(str(key)) if isinstance(target, dict) else None
    last = path[-1]
    if isinstance(target, dict):
        target[str(last)] = value
    elif isinstance(target, list) and isinstance(last, int) and 0 <= last < len(target) + 1000:
        target.extend([None] * (last + 1 - len(target)))
        target[last] = value


def parse_nuxt_function(text: str, start: int = 0) -> Any:
    """The state returned by ``(function(a,b){...return {...}}(x,y))`` at ``text[start]``.

    Both invocation spellings are read: ``(function(){...}(...))`` and ``(function(){...})(...)``.
    Raises :class:`NotLiteral` for anything outside the documented subset.
    """
    parser = _Parser(text)
    parser.pos = start
    parser.expect("(")
    parser.expect("function")
    parser.expect("(")
    params: list[str] = []
    while not parser.accept(")"):
        params.append(parser.ident())
        if not parser.accept(","):
            parser.expect(")")
            break
    parser.expect("{")
    body_start = parser.pos
    # The body refers to the arguments, which follow it: skip the body once to read them.
    depth = 0
    while True:
        found = _BODY_MARK.search(parser.text, parser.pos)
        if found is None:
            raise NotLiteral("unterminated function body")
        parser.pos = found.start()
        char = found.group(0)
        if char in _STRING:
            parser.string()
            continue
        parser.pos += 1
        if char == "{":
            depth += 1
        elif depth == 0:
            break
        else:
            depth -= 1
    wrapped = parser.accept(")")  # (function(){...})(args) rather than (function(){...}(args))
    parser.expect("(")
    args = _arguments(parser)
    if not wrapped:
        parser.expect(")")
    env = {name: _resolve(args[i], {}) if i < len(args) else None for i, name in enumerate(params)}
    body = _Parser(text)
    body.pos = body_start
    body.skip()
    while _RETURN.match(body.text, body.pos) is None:
        _statement(body, env)
        body.skip()
    body.expect("return")
    return _resolve(body.value(), env)


def _arguments(parser: _Parser) -> list[Any]:
    args: list[Any] = []
    while not parser.accept(")"):
        args.append(parser.value())
        if not parser.accept(","):
            parser.expect(")")
            break
    return args
