"""Extraction of the generated sample set gives exactly the values the generator wrote."""

from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path
from types import ModuleType

import pytest

from svidok.intake.detect import detect_media_type, extension_for
from svidok.intake.extract import ExtractorPool, extract_in_process

from .conftest import check_record


def test_samples_are_deterministic_and_small(make_samples: ModuleType, tmp_path: Path) -> None:
    first = make_samples.make_all(tmp_path / "a")
    second = make_samples.make_all(tmp_path / "b")
    digests_a = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in first}
    digests_b = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in second}
    assert digests_a == digests_b
    assert len(first) == 8
    assert sum(p.stat().st_size for p in first) < 5_000_000
    again = make_samples.make_all(tmp_path / "a")  # idempotent in place
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in again} == digests_a


def test_sample_media_types(samples: Path) -> None:
    expected = {
        "bucha-street.jpg": "image/jpeg",
        "mariupol-convoy.mp4": "video/mp4",
        "incident-report.pdf": "application/pdf",
        "witness-statement.txt": "text/plain",
        "voice-note.wav": "audio/x-wav",
    }
    for name, media_type in expected.items():
        assert detect_media_type(samples / name) == media_type
        assert extension_for(media_type) == Path(name).suffix.replace(".jpeg", ".jpg")


@pytest.mark.parametrize("index", range(4))
def test_photo_exif_gps_and_time(samples: Path, make_samples: ModuleType, index: int) -> None:
    name, _seed, gps, when, make, model = make_samples.PHOTOS[index]
    result = extract_in_process(samples / name)
    data = check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status, result.errors) == ("image/jpeg", "complete", ())
    assert (meta["format"], meta["width"], meta["height"], meta["mode"]) == (
        "JPEG",
        1024,
        768,
        "RGB",
    )
    assert (meta["make"], meta["model"]) == (make, model)
    assert meta["image_data_complete"] is True
    original = meta["datetime_original"]
    assert isinstance(original, dict)
    if when.tzinfo is not None:
        offset = when.isoformat()[-6:]
        assert original["value"] == when.strftime("%Y-%m-%dT%H:%M:%S") + ".250" + offset
        assert original["offset"] == offset
        assert "note" not in original
    else:
        assert original == {
            "value": "2022-05-19T13:30:00.250",
            "raw": "2022:05:19 13:30:00",
            "offset": None,
            "note": "no offset",
        }
    if gps is None:
        assert "gps" not in meta
    else:
        position = meta["gps"]
        assert isinstance(position, dict)
        assert position["latitude"] == pytest.approx(gps[0], abs=1e-6)
        assert position["longitude"] == pytest.approx(gps[1], abs=1e-6)
        assert position["altitude"] == pytest.approx(gps[2])
        stamp = position["timestamp"]
        assert isinstance(stamp, dict)
        assert stamp["value"] == when.astimezone(UTC).isoformat()
    exif = meta["exif"]
    assert isinstance(exif, dict)
    assert exif["IFD0"]["Make"] == make  # type: ignore[index]
    assert "DateTimeOriginal" in exif["Exif"]  # type: ignore[operator]
    assert data["metadata"] == meta


def test_bucha_photo_exact(samples: Path) -> None:
    meta = extract_in_process(samples / "bucha-street.jpg").metadata
    assert meta["datetime_original"] == {
        "value": "2022-04-02T10:41:07.250+03:00",
        "raw": "2022:04:02 10:41:07",
        "offset": "+03:00",
    }
    assert meta["gps"] == {
        "latitude": 50.5436,
        "longitude": 30.2171,
        "altitude": 142.0,
        "timestamp": {
            "value": "2022-04-02T07:41:07+00:00",
            "raw": "2022:04:02 07:41:07",
            "offset": "+00:00",
        },
        "map_datum": "WGS-84",
    }


def test_video(samples: Path, make_samples: ModuleType) -> None:
    result = extract_in_process(samples / "mariupol-convoy.mp4")
    check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status, result.errors) == ("video/mp4", "complete", ())
    assert meta["duration"] == pytest.approx(2.5, abs=0.05)
    assert meta["creation_time"] == {
        "value": "2022-03-16T07:20:11+00:00",
        "raw": "2022-03-16T07:20:11.000000Z",
        "offset": "+00:00",
    }
    gps = meta["gps"]
    assert isinstance(gps, dict)
    assert (gps["latitude"], gps["longitude"]) == (47.0951, 37.5413)
    streams = meta["streams"]
    assert isinstance(streams, list) and len(streams) == 1
    video = streams[0]
    assert isinstance(video, dict)
    assert video["type"] == "video"
    assert video["codec"] in ("h264", "mpeg4")
    assert (video["width"], video["height"], video["frame_rate"]) == (320, 240, 10.0)
    assert video["frames"] == 25


def test_pdf(samples: Path, make_samples: ModuleType) -> None:
    result = extract_in_process(samples / "incident-report.pdf")
    check_record(result)
    meta = result.metadata
    expected = make_samples.PDF
    assert (result.media_type, result.status, result.errors) == ("application/pdf", "complete", ())
    assert meta["page_count"] == 2
    assert meta["pdf_version"] == "1.4"
    assert meta["encrypted"] is False
    for key in ("title", "author", "creator", "producer"):
        assert meta[key] == expected[key]
    assert meta["creation_date"] == {
        "value": "2022-04-03T09:15:00+03:00",
        "raw": "D:20220403091500+03'00'",
        "offset": "+03:00",
    }
    assert meta["modification_date"] == {
        "value": "2022-04-04T12:00:00+00:00",
        "raw": "D:20220404120000Z",
        "offset": "+00:00",
    }


def test_transcript(samples: Path, make_samples: ModuleType) -> None:
    result = extract_in_process(samples / "witness-statement.txt")
    check_record(result)
    meta = result.metadata
    text = make_samples.TRANSCRIPT_TEXT
    assert (result.media_type, result.status) == ("text/plain", "complete")
    assert meta["encoding"] == "utf-8"
    assert meta["bom"] is None
    assert meta["line_endings"] == "LF"
    assert meta["lines"] == text.count("\n")
    assert meta["characters"] == len(text)
    assert meta["complete"] is True
    assert meta["cyrillic_language_hint"] == "uk"
    scripts = meta["scripts"]
    assert isinstance(scripts, dict) and set(scripts) == {"Cyrillic", "Latin"}


def test_audio(samples: Path) -> None:
    result = extract_in_process(samples / "voice-note.wav")
    check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status) == ("audio/x-wav", "complete")
    assert meta["duration"] == pytest.approx(2.0)
    streams = meta["streams"]
    assert isinstance(streams, list)
    assert streams[0] == {
        "index": 0,
        "type": "audio",
        "codec": "pcm_s16le",
        "duration": 2.0,
        "bit_rate": 256000,
        "sample_rate": 16000,
        "channels": 1,
        "channel_layout": streams[0]["channel_layout"],  # type: ignore[index]
    }


def test_pool_gives_the_same_records(samples: Path, pool: ExtractorPool) -> None:
    paths = sorted(samples.iterdir())
    futures = [pool.submit(p) for p in paths]
    for path, future in zip(paths, futures, strict=True):
        assert future.result(timeout=60).to_json() == extract_in_process(path).to_json()
