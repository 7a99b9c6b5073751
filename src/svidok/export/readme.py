"""README.txt of a package: how the receiving institution checks every part of it with
standard tools, in plain words (tests run the commands it gives)."""

from __future__ import annotations

from typing import Any

_TEXT = """\
SVIDOK EVIDENCE PACKAGE
=======================

Case:            {reference}
Export:          {export} (ledger entry {entry})
Recipient:       {recipient}
Purpose:         {purpose}
Items:           {items} (and {records} linked records: incidents, people, places, sources)
Ledger entries:  {entries}, each with its proof against checkpoint {origin} at {size}
Protected values in clear: {protected}

This folder is a BagIt bag (RFC 8493). It holds the original files exactly as they were
collected, what the archive's custody ledger says about each of them, and the proofs that
let you check all of it yourself, offline, without Svidok and without trusting the people
who sent it. The one thing you must get from elsewhere is the archive's PUBLIC KEY, through
a channel its keeper does not control (their website, a letter, a previous handover). Its
key ID is {key_id}; the key itself is in data/key/log.vkey. A package made by someone else
with another key would check out just as well against that other key: the comparison of
the key is what ties this package to the archive.

WHAT IS WHERE
  data/originals/<sha256>.<ext>        each original file, bit for bit, named by its SHA-256
  data/items/<id>/metadata.json        one item: its fields, status and assessments, links,
                                       acquisitions (who collected it, when, from where),
                                       extracted metadata, and every access (custody)
  data/items/<id>/receipt.tlog-proof   proof that the item's acquisition is in the ledger
  data/records/<id>.json               incidents, people, places and sources linked to items
  data/items.csv, data/records.csv     the same, one line each, for spreadsheets
  data/items.geojson, data/records.geojson   the same with positions, for QGIS
  data/ledger/entries.jsonl            the ledger entries about these items, verbatim
  data/ledger/proofs/<n>.tlog-proof    for each entry, its proof (C2SP tlog-proof)
  data/checkpoint/checkpoint.txt       the signed checkpoint all proofs lead to
  data/checkpoint/signed-text.txt      the part of it that is signed
  data/checkpoint/signature.bin        its Ed25519 signature (64 bytes)
  data/checkpoint/timestamps/<tsa>.tsr RFC 3161 timestamps of checkpoint.txt by independent
                                       time-stamping authorities, each with <tsa>.pem: the
                                       certificates the archive trusts for that authority
  data/key/log.vkey, data/key/log-public-key.pem   the archive's public key (two forms)
  data/export.json                     what was exported, to whom and why
  data/verify_package.py               the check below, as a script you can read
  data/package_format.py               its part that computes what the entries say
  data/timestamp_token.py              its part that checks the RFC 3161 timestamps

CHECKING IT
1. Every file is the one the package lists (run in this folder):
     sha256sum -c manifest-sha256.txt
     sha512sum -c manifest-sha512.txt
   or with the Library of Congress tool:  bagit.py --validate .

2. The checkpoint is signed by the archive's key (OpenSSL 1.1.1 or newer):
     openssl pkeyutl -verify -pubin -inkey data/key/log-public-key.pem -rawin \\
       -in data/checkpoint/signed-text.txt -sigfile data/checkpoint/signature.bin
   It must say "Signature Verified Successfully". Check that the PEM key is the key the
   archive published (`openssl pkey -pubin -in data/key/log-public-key.pem -text`).

{timestamps}
3. Everything else: each ledger entry is in the signed ledger (its inclusion proof leads to
   the checkpoint's root hash, RFC 9162), each original is the file its acquisition entry
   names, and every metadata file, CSV and GeoJSON says exactly what the signed entries
   say. With Python 3.11 or newer and the package `cryptography`
   (pip install cryptography):
     python3 data/verify_package.py . --key "PUBLISHED KEY"
   It ends with PACKAGE INTACT, or lists each problem in plain words.

WHAT THE PROOFS MEAN
- An entry's proof shows it is part of the ledger the archive signed at checkpoint {size}.
  If you hold a checkpoint the archive published earlier or later, the archive can show
  that both belong to one unbroken ledger (`svidok verify --against`).
- Times in entries are what the archive's computer clock said. The order of entries is
  proven; a time is proven only by a checkpoint that was published, or time-stamped by a
  third party, at that time: an RFC 3161 timestamp in data/checkpoint/timestamps/ proves
  that this very checkpoint, and so every entry it covers, existed no later than the time
  the authority signed.
- Protected values (identities and contacts of witnesses and victims) are held in the
  ledger only sealed (encrypted). They are listed by name under "sealed_fields" and not
  given here{protected_note}.
- The formats are specified in Svidok's docs/formats.md (section "Packages").
"""


_STAMPS = """\
   The checkpoint's time (RFC 3161 timestamps by independent authorities), each with:
{commands}
   Each must say "Verification: OK". The token proves that checkpoint.txt existed no later
   than its "Time stamp" (`openssl ts -reply -in FILE.tsr -text` shows it). Check that the
   .pem file holds the certificate the authority itself publishes.
"""
_NO_STAMPS = """\
   This package carries no RFC 3161 timestamp of its checkpoint (data/checkpoint/timestamps/
   is empty): the checkpoint's signature is proven, its time is not.
"""


def _stamps_text(names: list[str]) -> str:
    if not names:
        return _NO_STAMPS
    where = "data/checkpoint/timestamps"
    commands = "\n".join(
        f"     openssl ts -verify -in {where}/{n}.tsr \\\n"
        f"       -data data/checkpoint/checkpoint.txt -CAfile {where}/{n}.pem"
        for n in names
    )
    return _STAMPS.format(commands=commands)


def readme(
    export: dict[str, Any],
    origin: str,
    vkey: str,
    entries: int,
    timestamps: list[str] | None = None,
) -> str:
    protected = bool(export.get("protected_included"))
    return _TEXT.format(
        timestamps=_stamps_text(timestamps or []),
        reference=export["case"]["reference"],
        export=export["export"],
        entry=export["export_entry"],
        recipient=" ".join(str(export["recipient"]).split()),
        purpose=" ".join(str(export["purpose"]).split()),
        items=len(export["items"]),
        records=len(export["records"]),
        entries=entries,
        origin=origin,
        size=export["checkpoint_size"],
        protected="yes" if protected else "no",
        key_id=vkey.split("+")[1] if vkey.count("+") >= 2 else "?",
        protected_note=(
            ", except where the exporter included them in clear under \"protected\" in a "
            "metadata file (those values cannot be proven by this package)"
            if protected
            else ""
        ),
    )
