"""Showing untrusted names safely: every control, bidirectional and invisible character is
made visible as an escape, so a file name cannot reorder, hide or forge what a terminal,
log or report shows. The exact bytes are kept elsewhere (ledger path values)."""

from __future__ import annotations

import base64
import unicodedata

from svidok.ledger.entries import JSONValue

_BIDI_AND_INVISIBLE = frozenset(
    [
        0x061C,
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2028,
        0x2029,
        0x202A,
        0x202B,
        0x202C,
        0x202D,
        0x202E,
        0x2060,
        0x2066,
        0x2067,
        0x2068,
        0x2069,
        0xFEFF,
    ]
)


def escape_text(text: str) -> str:
    """``text`` with backslashes doubled and unsafe characters as ``\\xNN``/``\\uNNNN``."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif (
            code < 0x20
            or 0x7F <= code < 0xA0
            or code in _BIDI_AND_INVISIBLE
            or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        ):
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    return "".join(out)


def escape_bytes(raw: bytes) -> str:
    """Display form of a file-system name: UTF-8 where valid, ``\\xNN`` for other bytes."""
    return escape_text(raw.decode("utf-8", "surrogateescape"))


def path_value(raw: bytes) -> dict[str, JSONValue]:
    """The ledger's value for a file-system path: exact, even when it is not UTF-8.

    ``{"utf8": "..."}`` when the bytes are valid UTF-8, otherwise
    ``{"b64": "<base64 of the exact bytes>", "display": "<escaped form>"}``.
    """
    try:
        return {"utf8": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode("ascii"), "display": escape_bytes(raw)}


def path_bytes(value: JSONValue) -> bytes:
    """The exact bytes of a ledger path value (inverse of ``path_value``)."""
    if isinstance(value, dict):
        if isinstance(value.get("utf8"), str):
            return str(value["utf8"]).encode("utf-8")
        if isinstance(value.get("b64"), str):
            return base64.b64decode(str(value["b64"]), validate=True)
    raise ValueError("not a path value")
