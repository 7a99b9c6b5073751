"""The Extraction record's JSON guarantees, and the time and position parsers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from svidok.errors import ExtractionError
from svidok.intake.detect import EMPTY, OCTET_STREAM, detect_media_type, extension_for, normalise
from svidok.intake.extract import Extraction
from svidok.intake.extract_model import (
    MAX_LIST,
    MAX_STRING,
    clean_metadata,
    memory_message,
    timeout_message,
)
from svidok.intake.extract_times import exif_time, gps_time, iso_time, parse_iso6709, pdf_date


def _record(metadata: dict[str, object]) -> Extraction:
    return Extraction("image/jpeg", "complete", metadata, (), "svidok-extract/1 (test)")  # type: ignore[arg-type]


def test_values_become_plain_json() -> None:
    meta = _record(
        {
            "surrogate": "a\udcffb",
            "nul": "x\x00y",
            "nan": math.nan,
            "inf": -math.inf,
            "huge": 1 << 80,
            "bytes": b"Canon\x00\x00",
            "binary": b"\x00\x01\xff",
            "tuple": (1, 2.5, None),
            "keys": {1: "one", ("a",): "tuple"},
            "ok": True,
        }
    ).metadata
    assert meta["surrogate"] == "a\ufffdb"
    assert meta["nul"] == "x\ufffdy"
    assert meta["nan"] is None and meta["inf"] is None
    assert meta["huge"] == str(1 << 80)
    assert meta["bytes"] == "Canon"
    assert meta["binary"] == "hex:0001ff"
    assert meta["tuple"] == [1, 2.5, None]
    assert meta["keys"] == {"1": "one", "('a',)": "tuple"}
    assert meta["ok"] is True
    text = json.dumps(meta, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")


def test_bounds_and_truncation_notes() -> None:
    nested: dict[str, object] = {}
    cursor = nested
    for _ in range(20):
        cursor["deeper"] = {}
        cursor = cursor["deeper"]  # type: ignore[assignment]
    meta = _record(
        {
            "long": "x" * (MAX_STRING + 500),
            "list": list(range(MAX_LIST + 10)),
            "exif": {"IFD0": {"MakerNote": "y" * 1000}},
            "nested": nested,
        }
    ).metadata
    assert len(meta["long"]) == MAX_STRING  # type: ignore[arg-type]
    assert meta["list"] == list(range(MAX_LIST))
    assert len(meta["exif"]["IFD0"]["MakerNote"]) == 256  # type: ignore[index]
    notes = meta["truncated"]
    assert isinstance(notes, list)
    assert f"long: text cut to {MAX_STRING} of {MAX_STRING + 500} characters" in notes
    assert f"list: kept {MAX_LIST} of {MAX_LIST + 10} items" in notes
    assert "exif.IFD0.MakerNote: text cut to 256 of 1000 characters" in notes
    assert any("nested too deeply" in str(n) for n in notes)


def test_whole_record_is_bounded() -> None:
    meta = _record(
        {
            "exif": {f"tag{i}": "z" * 250 for i in range(250)},
            "tags": {f"t{i}": "w" * 1000 for i in range(100)},
            "width": 10,
        }
    ).metadata
    assert len(json.dumps(meta)) < 70 * 1024
    assert meta["width"] == 10
    assert any("dropped, the metadata exceeded 64 KiB" in str(n) for n in meta["truncated"])  # type: ignore[union-attr]


def test_cleaning_is_idempotent() -> None:
    first = _record({"long": "x" * 5000, "list": list(range(100)), "s": "\udc80"})
    again = Extraction.from_json(first.to_json())
    assert again == first
    assert again.to_json() == first.to_json()
    assert clean_metadata(first.metadata) == first.metadata


def test_errors_are_bounded_text() -> None:
    record = Extraction("x/y", "partial", {}, tuple(f"e{i}\x00" for i in range(100)), "n")
    assert len(record.errors) == 32
    assert record.errors[0] == "e0\ufffd"
    assert record.errors[-1] == "… and 69 more errors"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"media_type": "a/b"},
        {"media_type": "a/b", "status": "great", "metadata": {}, "errors": [], "extractor": "x"},
        {"media_type": "a/b", "status": "complete", "metadata": [], "errors": [], "extractor": "x"},
        {
            "media_type": "a/b",
            "status": "complete",
            "metadata": {},
            "errors": [1],
            "extractor": "x",
        },
    ],
)
def test_from_json_rejects_malformed_records(bad: object) -> None:
    with pytest.raises(ExtractionError):
        Extraction.from_json(bad)


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError):
        Extraction("a/b", "done", {}, (), "x")  # type: ignore[arg-type]


def test_messages() -> None:
    assert timeout_message(30.0) == "metadata extraction took longer than 30 s and was stopped"
    assert timeout_message(0.25) == "metadata extraction took longer than 0.25 s and was stopped"
    assert memory_message(1 << 30) == (
        "metadata extraction ran out of its 1 GiB memory allowance and was stopped"
    )
    assert "1.5 GiB" in memory_message(3 << 29)
    assert "256 MiB" in memory_message(256 << 20)


@pytest.mark.parametrize(
    ("raw", "offset", "subsec", "value", "note"),
    [
        ("2022:03:05 10:42:17", "+02:00", None, "2022-03-05T10:42:17+02:00", None),
        ("2022:03:05 10:42:17", "-05:30", "5", "2022-03-05T10:42:17.5-05:30", None),
        ("2022:03:05 10:42:17", "Z", None, "2022-03-05T10:42:17+00:00", None),
        ("2022:03:05 10:42:17", None, "123", "2022-03-05T10:42:17.123", "no offset"),
        (
            "2022:03:05 10:42:17\x00",
            "+25:00",
            None,
            "2022-03-05T10:42:17",
            "no usable offset (offset tag was '+25:00')",
        ),
        ("2022-03-05T10:42:17", None, None, "2022-03-05T10:42:17", "no offset"),
        ("    :  :     :  :  ", None, None, None, "blank date"),
        ("0000:00:00 00:00:00", None, None, None, "blank date"),
        ("2022:02:30 10:00:00", None, None, None, "impossible date"),
        ("yesterday", None, None, None, "not an EXIF date"),
    ],
)
def test_exif_time(
    raw: str, offset: str | None, subsec: str | None, value: str | None, note: str | None
) -> None:
    result = exif_time(raw, offset, subsec)
    assert result["value"] == value
    assert result["raw"] == raw
    assert result.get("note") == note


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2022-02-24T05:04:33+0200", "2022-02-24T05:04:33+02:00"),
        ("2022-02-24T03:04:33.000000Z", "2022-02-24T03:04:33+00:00"),
        ("2022-02-24T03:04:33.250000Z", "2022-02-24T03:04:33.250000+00:00"),
        ("2022-02-24 03:04", "2022-02-24T03:04:00"),
        ("24/02/2022", None),
    ],
)
def test_iso_time(raw: str, value: str | None) -> None:
    assert iso_time(raw)["value"] == value


@pytest.mark.parametrize(
    ("raw", "value", "offset"),
    [
        ("D:20220403091500+03'00'", "2022-04-03T09:15:00+03:00", "+03:00"),
        ("D:20220403091500-04'30", "2022-04-03T09:15:00-04:30", "-04:30"),
        ("D:20220403091500Z00'00'", "2022-04-03T09:15:00+00:00", "+00:00"),
        ("D:20220403091500", "2022-04-03T09:15:00", None),
        ("20220403", "2022-04-03T00:00:00", None),
        ("D:20221403091500", None, None),
        ("Saturday", None, None),
    ],
)
def test_pdf_date(raw: str, value: str | None, offset: str | None) -> None:
    result = pdf_date(raw)
    assert (result["value"], result["offset"]) == (value, offset)


def test_gps_time() -> None:
    assert gps_time("2022:04:02", (7.0, 41.0, 7.5)) == {
        "value": "2022-04-02T07:41:07.5+00:00",
        "raw": "2022:04:02 07:41:07.5",
        "offset": "+00:00",
    }
    assert gps_time(None, (7.0, 41.0, 7.0))["note"] == "time only, no date"  # type: ignore[index]
    assert gps_time("2022:04:02", (25.0, 0.0, 0.0))["value"] is None  # type: ignore[index]
    assert gps_time("2022:04:02", None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+50.5436+030.2171/", (50.5436, 30.2171, None)),
        ("+50.5436+030.2171+142.000/", (50.5436, 30.2171, 142.0)),
        ("-33.8688+151.2093-12.5CRSWGS_84/", (-33.8688, 151.2093, -12.5)),
        ("+5032.616+03013.026/", (50.5436, 30.2171, None)),
        ("+503236.96+0301301.56/", (50.5436, 30.2171, None)),
        ("+50.5436+30.2171/", (50.5436, 30.2171, None)),
    ],
)
def test_iso6709(raw: str, expected: tuple[float, float, float | None]) -> None:
    result = parse_iso6709(raw)
    assert result is not None
    assert result["latitude"] == pytest.approx(expected[0], abs=1e-6)
    assert result["longitude"] == pytest.approx(expected[1], abs=1e-6)
    assert result["altitude"] == expected[2]


@pytest.mark.parametrize("raw", ["", "garbage", "+95.0+030.0/", "+50.0+190.0/", "+5.0.1+3/"])
def test_iso6709_invalid(raw: str) -> None:
    assert parse_iso6709(raw) is None


def test_detect_by_content_not_name(tmp_path: Path, samples: Path) -> None:
    disguised = tmp_path / "holiday.txt"
    disguised.write_bytes((samples / "incident-report.pdf").read_bytes())
    assert detect_media_type(disguised) == "application/pdf"
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert detect_media_type(empty) == EMPTY
    assert detect_media_type(tmp_path) == "inode/directory"
    with pytest.raises(FileNotFoundError):
        detect_media_type(tmp_path / "missing")


def test_normalise_and_extensions() -> None:
    assert normalise("inode/x-empty") == EMPTY
    assert normalise("application/x-empty") == EMPTY
    assert normalise("Text/Plain; charset=utf-8") == "text/plain"
    assert normalise("data") == OCTET_STREAM
    table = {
        "image/jpeg": ".jpg",
        "video/mp4": ".mp4",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
        "video/quicktime": ".mov",
        "image/heic": ".heic",
        "audio/x-wav": ".wav",
        "image/png": ".png",
        "application/x-unknown": "",
        "": "",
        OCTET_STREAM: "",
        EMPTY: "",
    }
    for media_type, extension in table.items():
        assert extension_for(media_type) == extension
