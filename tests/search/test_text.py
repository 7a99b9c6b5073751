"""Text extraction for search: PDF text and plain-text transcripts read in an isolated
worker, stored as ``text`` derivatives, indexed with their items, failures recorded as
``text.failed`` (not tried again unless asked), and the index made again from the stored
texts by ``svidok rebuild``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import run_ingest
from search.kit import OPERATOR, casework
from svidok.catalog import schema as s
from svidok.derive.store import derivatives_of
from svidok.derive.text import MAX_CHARS, extract_text, make_texts, text_kind
from svidok.home import Home
from svidok.rebuild import rebuild
from svidok.search.service import Filters, search
from svidok.verify import verify


def pdf_with_text(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` in Helvetica (ASCII), with a correct xref."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


TRANSCRIPT = (
    "Стенограма допиту свідка. Свідок розповів про обстріл Ірпеня 5 березня.\n"
    "Він бачив колону техніки біля Гостомеля і в селі Ягідне.\n"
)


def _keys(home: Home, query: str, ids: dict[str, str]) -> set[str]:
    names = {v: k for k, v in ids.items()}
    with home.catalog.engine.connect() as conn:
        found = search(conn, OPERATOR, query, Filters(), limit=200)
    return {names.get(h.record, h.record) for h in found.hits}


@pytest.fixture()
def evidence(home: Home, tmp_path: Path) -> dict[str, str]:
    """Items for a PDF, a transcript, a broken PDF and a picture; their record ids by name,
    and their objects as ``<name>:object``."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "statement.pdf").write_bytes(pdf_with_text(
        ["Statement on the Yablunska Street killings", "recorded in Bucha, April 2022"]))
    (folder / "transcript.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    report = run_ingest(home, folder)
    assert report.ok, [(o.status, o.reason) for o in report.outcomes]
    objects = {o.display.rsplit("/", 1)[-1]: str(o.object_id) for o in report.outcomes}
    work = casework(home)
    case = work.create_case(OPERATOR, {"reference": "TEXT-1", "title": "Texts"}).id
    ids = {}
    for name, obj in objects.items():
        ids[name] = work.create(OPERATOR, case, "item", {
            "title": f"File {name.split('.')[0]}", "object": obj, "item_kind": "document"}).id
        ids[f"{name}:object"] = obj
    return ids


def test_texts_are_extracted_stored_indexed_and_failures_recorded(
    home: Home, evidence: dict[str, str]
) -> None:
    assert _keys(home, "Yablunska", evidence) == set()
    report = make_texts(home, "tester")
    assert report.originals == 3 and report.extracted == 2
    assert [obj for obj, _why in report.failed] == [evidence["broken.pdf:object"]]
    assert "could not be read" in report.failed[0][1]
    assert _keys(home, "Yablunska", evidence) == {"statement.pdf"}
    assert _keys(home, '"Yablunska Street"', evidence) == {"statement.pdf"}
    assert _keys(home, "Ягідне", evidence) == {"transcript.txt"}
    assert _keys(home, "Yahidne", evidence) == {"transcript.txt"}
    assert _keys(home, "Гостомел*", evidence) == {"transcript.txt"}
    assert _keys(home, "statement", evidence) == {"statement.pdf"}  # the file name
    made = derivatives_of(home, evidence["statement.pdf:object"])
    assert [(d["kind"], d["media_type"], d["logical_path"]) for d in made] == [
        ("text", "text/plain", "text.txt")]
    assert made[0]["params"]["pages"] == 1 and made[0]["params"]["truncated"] is False
    with home.catalog.engine.connect() as conn:
        failed = conn.execute(select(s.entries.c.object_id).where(
            s.entries.c.type == "text.failed")).scalars().all()
    assert failed == [evidence["broken.pdf:object"]]
    again = make_texts(home, "tester")
    assert (again.extracted, again.unchanged, again.failed) == (0, 3, [])
    retried = make_texts(home, "tester", retry=True)
    assert retried.extracted == 0 and len(retried.failed) == 1


def test_rebuild_reads_the_stored_texts_back_without_extracting(
    home: Home, evidence: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_texts(home, "tester")
    import svidok.derive.text as text_module

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("rebuild must not extract again")

    monkeypatch.setattr(text_module, "extract_text", refuse)
    with home.catalog.engine.begin() as conn:
        conn.execute(s.search_texts.delete())
    rebuild(home)
    assert _keys(home, "Yablunska", evidence) == {"statement.pdf"}
    assert _keys(home, "Ягідне", evidence) == {"transcript.txt"}
    report = verify(home)
    assert report.ok, report.problems


def test_extraction_is_bounded_and_never_raises(tmp_path: Path) -> None:
    assert text_kind("application/pdf") == "pdf"
    assert text_kind("text/plain; charset=utf-8") == "plain"
    assert text_kind("image/jpeg") is None
    big = tmp_path / "big.txt"
    big.write_text("слово " * (MAX_CHARS // 3), encoding="utf-8")
    got, errors = extract_text(big, "text/plain")
    assert errors == [] and got is not None
    assert len(got.text) == MAX_CHARS and got.truncated
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("Ірпінь".encode("utf-16"))
    got, errors = extract_text(utf16, "text/plain")
    assert got is not None and got.text == "Ірпінь"
    got, errors = extract_text(tmp_path / "missing.pdf", "application/pdf")
    assert got is None and errors and "could not be read" in errors[0]
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(pdf_with_text(["x"]))
    got, errors = extract_text(slow, "application/pdf", timeout=0.001)
    assert got is None and errors


def test_cli_search_index_and_search(home_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from svidok.cli import app

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "t.txt").write_text(TRANSCRIPT, encoding="utf-8")
    with Home.open(home_path) as home:
        run_ingest(home, folder)
        with home.catalog.engine.connect() as conn:
            obj = conn.execute(select(s.objects.c.id)).scalar_one()
        work = casework(home)
        case = work.create_case(OPERATOR, {"reference": "CLI-1", "title": "CLI"}).id
        work.create(OPERATOR, case, "item", {"title": "Transcript", "object": obj})
    runner = CliRunner()
    done = runner.invoke(app, ["search-index", "--home", str(home_path), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["extracted"] == 1
    found = runner.invoke(app, ["search", "Yahidne", "--home", str(home_path), "--json",
                                "--case", "CLI-1", "--kind", "item"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)["hits"]
    assert [h["label"] for h in hits] == ["Transcript"]
    assert any(seg["match"] and seg["text"] == "Ягідне" for seg in hits[0]["snippet"])
    shown = runner.invoke(app, ["search", "Ягідне", "--home", str(home_path)])
    assert shown.exit_code == 0 and "[Ягідне]" in shown.output
    for bad, message in (
        (["x" * 10_000], "too long"), (["Bucha", "--near", "north"], "LAT,LON"),
        (["Bucha", "--radius", "5"], "needs near"), (["Bucha", "--from", "yesterday"], "ISO"),
        (["Bucha", "--case", "nope"], "no such case"), (["", "--limit", "0"], "limit"),
        (["B*"], "at least 2"),
    ):
        refused = subprocess.run(
            [sys.executable, "-m", "svidok", "search", *bad, "--home", str(home_path)],
            capture_output=True, text=True, timeout=120, check=False)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and message in refused.stderr
        assert "Traceback" not in refused.stderr


def test_rebuild_leaves_out_a_text_missing_from_the_store(
    home: Home, evidence: dict[str, str]
) -> None:
    import shutil

    make_texts(home, "tester")
    made = derivatives_of(home, evidence["statement.pdf:object"])[0]
    shutil.rmtree(home.store.content_info(made["object"]).path)
    rebuild(home)  # no error: the index has what the store still holds
    assert _keys(home, "Yablunska", evidence) == set()
    assert _keys(home, "Ягідне", evidence) == {"transcript.txt"}
    assert not verify(home).ok  # the store's loss is reported by verify


def test_the_servers_background_job_extracts_the_text_of_an_upload(
    home: Home, evidence: dict[str, str]
) -> None:
    from svidok.derive.jobs import PreviewJobs

    jobs = PreviewJobs(home, "tester")
    jobs.start(catch_up=False)
    jobs.submit([evidence["transcript.txt:object"]])
    jobs.stop(timeout=120)
    assert jobs.state(evidence["transcript.txt:object"]) is not None
    kinds = [d["kind"] for d in derivatives_of(home, evidence["transcript.txt:object"])]
    assert kinds == ["text"]
    assert _keys(home, "Yahidne", evidence) == {"transcript.txt"}
    assert _keys(home, "Yablunska", evidence) == set()  # only the object asked for


def test_cli_shows_record_text_as_text_never_as_console_markup(home_path: Path) -> None:
    from typer.testing import CliRunner

    from svidok.cli import app

    title = "[bold]Yahidne[/bold] school [link=http://example.invalid]basement[/link] [yahidne]"
    with Home.open(home_path) as home:
        work = casework(home)
        case = work.create_case(OPERATOR, {"reference": "CLI-2", "title": "Markup"}).id
        work.create(OPERATOR, case, "incident", {"title": title})
    shown = CliRunner().invoke(app, ["search", "basement", "--home", str(home_path)])
    assert shown.exit_code == 0, shown.output
    assert title in shown.output.replace("\n", " ")  # the label, exactly as written
    assert "[link=http://example.invalid][basement][/link] [yahidne]" in shown.output  # marked
