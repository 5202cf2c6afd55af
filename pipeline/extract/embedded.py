"""Framework state embedded in a page, parsed safely: Next.js, Nuxt, Apollo, Redux-style stores.

JavaScript front-ends ship the data a page renders as JSON inside the HTML, so a page whose
visible body is an empty ``<div id="__next">`` often still carries its whole article:

- ``<script id="__NEXT_DATA__" type="application/json">{...}</script>`` (Next.js),
- ``<script id="__NUXT_DATA__" type="application/json">[...]</script>`` (Nuxt 3, in the
  "devalue" flat-array encoding: values refer to each other by index),
- ``window.__NUXT__ = {...}`` (Nuxt 2 as a literal) and Nuxt 2's usual
  ``window.__NUXT__=(function(a,b){return {...}}(x,y))`` (read by :mod:`.jsliteral`, never run),
  ``window.__APOLLO_STATE__ = {...}``,
  ``window.__INITIAL_STATE__ = {...}``, ``window.__PRELOADED_STATE__ = {...}`` (Redux and
  friends), also as ``= JSON.parse("...")``.

Nothing is ever evaluated: an assignment's object literal is read with a JSON parser
(``raw_decode``, which stops where the value ends), Nuxt 2's function form with a parser of
the literal subset devalue emits, and anything else that is JavaScript rather than JSON
(a literal with unquoted keys or ``undefined`` outside that function, computed values,
state built by calls) is given up on. Scripts over :data:`MAX_STATE_CHARS` are skipped, and nesting deeper than the JSON
parser's recursion limit is caught, so a hostile page costs at most one bounded parse.
The scripts must be collected before the pre-clean drops every non-JSON-LD script.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.jsliteral import NotLiteral, parse_nuxt_function

#: A state script larger than this is skipped (the biggest real article states are ~1-2 MB).
MAX_STATE_CHARS = 5_000_000
#: Scripts scanned for ``window.X =`` assignments (a page can have hundreds of tiny ones).
MAX_SCRIPTS = 400
#: Nesting followed when a devalue payload is rebuilt (real payloads nest ~20 deep).
MAX_DEVALUE_DEPTH = 80

SCRIPT_IDS = ("__NEXT_DATA__", "__NUXT_DATA__")
ASSIGNED_NAMES = ("__NUXT__", "__APOLLO_STATE__", "__INITIAL_STATE__", "__PRELOADED_STATE__")
_ASSIGNMENT = re.compile(
    r"(?:window|self|globalThis)\s*(?:\.\s*|\[\s*[\"'])("
    + "|".join(ASSIGNED_NAMES)
    + r")(?:[\"']\s*\])?\s*=(?!=)\s*"
)
_JSON_PARSE = re.compile(r"JSON\.parse\(\s*")
_DECODER = json.JSONDecoder(strict=False)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


@dataclass(frozen=True)
class StateScript:
    """The raw text of one embedded-state script, kept until it is needed."""

    name: str  # __NEXT_DATA__, __NUXT_DATA__, __APOLLO_STATE__, ...
    text: str


def find_state_scripts(tree: HtmlElement) -> list[StateScript]:
    """Embedded-state scripts of the page, in document order (cheap: no parsing yet)."""
    found: list[StateScript] = []
    scanned = 0
    for script in tree.iter("script"):
        text = script.text
        if not text or len(text) > MAX_STATE_CHARS:
            continue
        if "ld+json" in (script.get("type") or "").lower():
            continue
        script_id = script.get("id") or ""
        if script_id in SCRIPT_IDS:
            found.append(StateScript(script_id, text))
            continue
        scanned += 1
        if scanned > MAX_SCRIPTS:
            continue
        for name in ASSIGNED_NAMES:
            if name in text:
                found.append(StateScript(name, text))
                break
    return found


def _decode_at(text: str, start: int) -> Any:
    """The JSON value starting at ``text[start]``; ValueError when it is not JSON."""
    try:
        value, _end = _DECODER.raw_decode(text, start)
    except RecursionError as exc:  # pathological nesting: give up on this script only
        raise ValueError("too deeply nested") from exc
    return value


def _string_state(literal: Any) -> Any:
    """State shipped as a string: JSON text (``JSON.parse("...")``) or base64 of it."""
    if not isinstance(literal, str) or len(literal) > MAX_STATE_CHARS:
        return None
    text = literal.strip()
    if text[:1] not in ("{", "[") and _BASE64.fullmatch(text[:200]):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    return json.loads(text, strict=False) if text[:1] in ("{", "[") else None


def _assigned_value(text: str) -> Any:
    """The value assigned to a known ``window.X``, if it is JSON (or ``JSON.parse("...")``).

    Also read: a string of JSON or base64-encoded JSON (``window.__APOLLO_STATE__="eyJ..."``),
    and a script that is one JSON document holding the name as a key.
    """
    for match in _ASSIGNMENT.finditer(text):
        start = match.end()
        parse_call = _JSON_PARSE.match(text, start)
        try:
            if parse_call is not None:
                return _string_state(_decode_at(text, parse_call.end()))  # a "..." JS string is JSON
            if text[start : start + 1] in ("{", "["):
                return _decode_at(text, start)
            if text[start : start + 1] == '"':
                return _string_state(_decode_at(text, start))
            if text[start : start + 1] == "(":  # Nuxt 2: (function(a,b){return {...}}(x,y))
                return parse_nuxt_function(text, start)
        except (ValueError, RecursionError, NotLiteral):
            continue  # JavaScript, not JSON: give up on this assignment cleanly
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):  # <script type="application/json">{"__PRELOADED_STATE__": ...}
        try:
            return _decode_at(stripped, 0)
        except (ValueError, RecursionError):
            return None
    return None


def unflatten_devalue(values: list[Any]) -> Any:
    """Rebuild a Nuxt 3 payload (devalue's flat array) into plain nested JSON values.

    In that encoding element 0 is the root, numbers inside arrays and objects are indices
    into the flat array, negative numbers are special values (undefined, NaN, ...), and an
    array starting with a string is a typed value (``["Reactive", 5]``, ``["Date", "..."]``,
    ``["Set", 1, 2]``, ``["Map", k, v, ...]``). Shared and cyclic references are rebuilt once.
    """
    built: dict[int, Any] = {}

    def hydrate(index: Any, depth: int) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or index < 0 or index >= len(values):
            return None  # undefined, holes, NaN, infinities, or a broken index
        if index in built:
            return built[index]
        if depth > MAX_DEVALUE_DEPTH:
            return None
        value = values[index]
        if isinstance(value, dict):
            obj: dict[str, Any] = {}
            built[index] = obj
            for key, ref in value.items():
                obj[key] = hydrate(ref, depth + 1)
            return obj
        if isinstance(value, list):
            if value and isinstance(value[0], str):
                return _typed(value, index, depth)
            items: list[Any] = []
            built[index] = items
            items.extend(hydrate(ref, depth + 1) for ref in value)
            return items
        built[index] = value
        return value

    def _typed(value: list[Any], index: int, depth: int) -> Any:
        tag, args = value[0], value[1:]
        if tag in ("Date", "BigInt", "URL", "RegExp"):
            result: Any = args[0] if args and isinstance(args[0], str) else None
        elif tag == "Set":
            result = [hydrate(ref, depth + 1) for ref in args]
        elif tag in ("Map", "null"):  # Map: key and value indices; null-prototype: literal keys
            result = {}
            for i in range(0, len(args) - 1, 2):
                key = args[i] if tag == "null" else hydrate(args[i], depth + 1)
                result[str(key)] = hydrate(args[i + 1], depth + 1)
        elif len(args) == 1:  # Reactive, ShallowReactive, Ref, a custom reviver: the wrapped value
            result = hydrate(args[0], depth + 1)
        else:
            result = None
        built[index] = result
        return result

    return hydrate(0, 0) if values else None


def parse_state(script: StateScript) -> Any:
    """The JSON value of one state script, or None when it is not (safely) JSON."""
    try:
        if script.name in SCRIPT_IDS:
            value = _decode_at(script.text.strip(), 0)
            if script.name == "__NUXT_DATA__" and isinstance(value, list):
                return unflatten_devalue(value)
            return value
        return _assigned_value(script.text)
    except (ValueError, RecursionError):
        return None
