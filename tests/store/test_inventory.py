"""Strict inventory parsing: each OCFL 1.1 rule broken alone is reported with its code."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.store.inventory import (
    first_version,
    format_created,
    parse_inventory,
    parse_sidecar,
    path_elements_problem,
    sidecar_bytes,
)

D1 = "a" * 64
D2 = "b" * 64
GOOD: dict[str, Any] = {
    "id": "sha256:" + D1,
    "type": "https://ocfl.io/1.1/spec/#inventory",
    "digestAlgorithm": "sha256",
    "head": "v2",
    "manifest": {D1: ["v1/content/original"], D2: ["v2/content/thumb.jpg"]},
    "versions": {
        "v1": {
            "created": "2024-05-01T12:00:00Z",
            "state": {D1: ["original"]},
            "message": "first",
            "user": {"name": "a", "address": "mailto:a@example.org"},
        },
        "v2": {
            "created": "2024-05-02T12:00:00.5+02:00",
            "state": {D1: ["original"], D2: ["thumbs/thumb.jpg"]},
            "message": "second",
            "user": {"name": "a"},
        },
    },
}


def codes(doc: Any, **kwargs: Any) -> set[str | None]:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    _, problems = parse_inventory(raw, **kwargs)
    return {p.spec_code for p in problems if p.severity == "error"}


def changed(path: list[str | int], value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def test_good_inventory() -> None:
    inventory, problems = parse_inventory(json.dumps(GOOD).encode(), expected_spec="1.1")
    assert problems == [] and inventory is not None
    assert inventory.version_names() == ["v1", "v2"]
    assert inventory.logical_state("v2") == {"original": D1, "thumbs/thumb.jpg": D2}
    assert inventory.content_path_for(D2.upper()) == "v2/content/thumb.jpg"
    assert json.loads(inventory.to_bytes()) == GOOD


CASES: list[tuple[str, Any, str]] = [
    ("not JSON", b"{", "E033"),
    ("byte-order mark", b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), "E033"),
    ("NaN", json.dumps(GOOD).replace('"first"', "NaN").encode(), "E033"),
    (
        "not UTF-8",
        json.dumps(GOOD).replace("first", "fi\udcffrst").encode("utf-8", "surrogateescape"),
        "E033",
    ),
    ("array", [], "E033"),
    ("no id", changed(["id"], delete=True), "E036"),
    ("empty id", changed(["id"], ""), "E037"),
    ("no head", changed(["head"], delete=True), "E036"),
    ("no manifest", changed(["manifest"], delete=True), "E041"),
    ("bad type", changed(["type"], "https://ocfl.io/9.9/spec/#inventory"), "E038"),
    ("md5 for content", changed(["digestAlgorithm"], "md5"), "E025"),
    ("unknown key", changed(["extra"], 1), "E102"),
    ("unknown version key", changed(["versions", "v1", "extra"], 1), "E102"),
    ("content dir with slash", changed(["contentDirectory"], "a/b"), "E017"),
    ("content dir dots", changed(["contentDirectory"], ".."), "E018"),
    ("head not last", changed(["head"], "v1"), "E040"),
    ("version v0", changed(["versions", "v0"], GOOD["versions"]["v1"]), "E046"),
    ("version name", changed(["versions", "version3"], GOOD["versions"]["v1"]), "E046"),
    ("no created", changed(["versions", "v1", "created"], delete=True), "E048"),
    ("created without zone", changed(["versions", "v1", "created"], "2024-05-01T12:00:00"), "E049"),
    ("created minutes only", changed(["versions", "v1", "created"], "2024-05-01T12:00Z"), "E049"),
    ("created impossible", changed(["versions", "v1", "created"], "2024-02-30T12:00:00Z"), "E049"),
    ("message not string", changed(["versions", "v1", "message"], 5), "E094"),
    ("user without name", changed(["versions", "v1", "user"], {"address": "x"}), "E054"),
    ("state digest unknown", changed(["versions", "v1", "state"], {"c" * 64: ["x"]}), "E050"),
    ("logical path ..", changed(["versions", "v1", "state"], {D1: ["../original"]}), "E052"),
    ("logical path /", changed(["versions", "v1", "state"], {D1: ["/original"]}), "E052"),
    ("logical conflict", changed(["versions", "v2", "state", D2], ["original/x"]), "E095"),
    ("logical twice", changed(["versions", "v1", "state"], {D1: ["a", "a"]}), "E095"),
    ("content path ..", changed(["manifest", D1], ["v1/content/../../x"]), "E099"),
    ("content path outside content", changed(["manifest", D1], ["v1/original"]), "E042"),
    ("content path unknown version", changed(["manifest", D1], ["v7/content/original"]), "E042"),
    ("content path conflict", changed(["manifest", D2], ["v1/content/original/x"]), "E101"),
    ("digest twice by case", changed(["manifest", D1.upper()], ["v2/content/x"]), "E096"),
    ("digest not hex", changed(["manifest", "xyz"], ["v2/content/x"]), "E096"),
    ("manifest unused", changed(["manifest", "c" * 64], ["v2/content/x"]), "E107"),
    ("fixity unknown path", changed(["fixity"], {"md5": {"0" * 32: ["v9/content/x"]}}), "E057"),
    ("fixity not object", changed(["fixity"], []), "E111"),
    (
        "fixity dup",
        changed(
            ["fixity"],
            {"md5": {"a" * 32: ["v1/content/original"], "A" * 32: ["v2/content/thumb.jpg"]}},
        ),
        "E097",
    ),
]


@pytest.mark.parametrize(("name", "doc", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_rule(name: str, doc: Any, code: str) -> None:
    assert code in codes(doc), name


def test_declared_version_must_match_type() -> None:
    assert "E038" in codes(GOOD, expected_spec="1.0")


def test_zero_padded_versions() -> None:
    doc = copy.deepcopy(GOOD)
    doc["versions"] = {"v01": doc["versions"]["v1"], "v02": doc["versions"]["v2"]}
    doc["head"] = "v02"
    doc["manifest"] = {D1: ["v01/content/original"], D2: ["v02/content/thumb.jpg"]}
    assert codes(doc) == set()
    doc["versions"]["v3"] = doc["versions"].pop("v02")
    doc["head"] = "v3"
    doc["manifest"][D2] = ["v3/content/thumb.jpg"]
    assert "E012" in codes(doc)


def test_sidecar_format() -> None:
    raw = b"{}"
    line = sidecar_bytes(raw, "sha256")
    assert parse_sidecar(line) == parse_sidecar(line.replace(b"  ", b"\t")) != None  # noqa: E711
    assert parse_sidecar(b"abc inventory.json\n") == "abc"
    assert parse_sidecar(b"abc  inventory.jsonx\n") is None
    assert parse_sidecar(b"inventory.json\n") is None


def test_format_created() -> None:
    assert format_created(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    with pytest.raises(ValueError):
        format_created(datetime(2024, 1, 2))


def test_first_version_round_trips() -> None:
    inv = first_version(
        object_id="sha256:" + D1,
        digest_algorithm="sha256",
        digest=D1,
        logical_path="original.mp4",
        created=datetime(2024, 1, 1, tzinfo=UTC),
        message="m",
        user_name="u",
        user_address=None,
    )
    parsed, problems = parse_inventory(inv.to_bytes(), expected_spec="1.1")
    assert problems == [] and parsed == inv


SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", ".."))


@given(st.lists(SEGMENT, min_size=1, max_size=4).map("/".join))
@settings(max_examples=200, deadline=None)
def test_safe_paths_are_accepted_and_round_trip(path: str) -> None:
    assert path_elements_problem(path) is None
    doc = changed(["versions", "v1", "state"], {D1: [path]})
    inventory, problems = parse_inventory(json.dumps(doc, ensure_ascii=False).encode())
    assert inventory is not None and not [p for p in problems if p.severity == "error"]
    assert inventory.logical_state("v1") == {path: D1}


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_unsafe_paths_never_pass(path: str) -> None:
    parts = path.split("/")
    unsafe = (
        path == ""
        or any(p in ("", ".", "..") for p in parts)
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
        or any(0xD800 <= ord(c) <= 0xDFFF for c in path)
    )
    assert (path_elements_problem(path) is not None) == unsafe


@given(
    logical=st.lists(SEGMENT, min_size=1, max_size=3).map("/".join),
    message=st.text(max_size=40),
    user=st.text(min_size=1, max_size=20),
    address=st.none() | st.text(max_size=20),
)
@settings(max_examples=300, deadline=None)
def test_written_bytes_are_those_of_the_standard_encoder(
    logical: str, message: str, user: str, address: str | None
) -> None:
    # orjson writes inventories; the bytes must stay those of json.dumps(indent=2, ...)
    inv = first_version(
        object_id="sha256:" + D1,
        digest_algorithm="sha256",
        digest=D1,
        logical_path=logical,
        created=datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
        message=message,
        user_name=user,
        user_address=address,
    )
    expected = json.dumps(inv.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        expected_bytes = expected.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: refused either way
        with pytest.raises(UnicodeEncodeError):
            inv.to_bytes()
        return
    assert inv.to_bytes() == expected_bytes


def test_a_lone_surrogate_is_refused_as_before() -> None:
    inv = first_version(
        object_id="sha256:" + D1,
        digest_algorithm="sha256",
        digest=D1,
        logical_path="original",
        created=datetime(2024, 1, 1, tzinfo=UTC),
        message="half a pair \ud800",
        user_name="u",
        user_address=None,
    )
    with pytest.raises(UnicodeEncodeError):
        inv.to_bytes()
