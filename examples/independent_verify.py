"""Check a Svidok archive without Svidok: stdlib + `cryptography`, written from docs/formats.md.

  independent_verify.py HOME|LEDGER_DIR [--key VKEY] [--against CHECKPOINT]... [--no-content]
  independent_verify.py --receipt FILE --key VKEY
Exit 0: everything checked is intact; 1: problems, each printed on its own line.
"""
import argparse, base64, hashlib, json, re, sys  # noqa: E401, I001
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TYPES = {"init", "key", "acquisition", "extraction", "derivative", "derivative.failed",
         "intake.skip", "verification"}
TYPES |= {  # casework (docs/formats.md, "Casework entries")
    "user.create", "user.update", "case.create", "case.update", "member.grant",
    "member.revoke", "record.create", "record.update", "link.add", "link.remove",
    "assessment", "access", "token.create", "token.revoke", "export",
}
TYPES |= {"perceptual_hash", "duplicate.decision"}  # docs/formats.md, "Near-duplicates"
TYPES |= {"text.failed", "search.read"}  # docs/formats.md, "Search"
TYPES |= {"capture"}  # docs/formats.md, "Web captures"
MEMBERS = {"svidok": int, "index": int, "type": str, "time": str, "actor": str, "tool": str,
           "host": str, "data": dict}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
b64 = lambda s: base64.b64decode(s, validate=True)  # noqa: E731
H = lambda *parts: hashlib.sha256(b"".join(parts)).digest()  # noqa: E731
problems: list[str] = []

def need(ok, why):  # not `assert`: python -O must not switch the checks off
    if not ok:
        raise ValueError(why)

def mth(leaves):  # RFC 9162 section 2.1.1: the Merkle Tree Hash of a list of leaf hashes
    if len(leaves) <= 1:
        return leaves[0] if leaves else H()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return H(b"\x01", mth(leaves[:k]), mth(leaves[k:]))

def jcs(v):  # RFC 8785: keys in UTF-16 order, numbers printed as ECMAScript does (3.2.2.3)
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ",".join(map(jcs, v)) + "]"
    need(type(v) is not int or abs(v) < 2**53, "an integer outside the I-JSON range")
    if not isinstance(v, float) or (v.is_integer() and abs(v) < 2**53):
        return json.dumps(int(v) if isinstance(v, float) else v, ensure_ascii=False)
    _, ds, e = Decimal(repr(abs(v))).normalize().as_tuple()  # shortest round-trip digits
    d, n = "".join(map(str, ds)), len(ds) + e  # |v| = 0.d * 10**n
    s = (d.ljust(n, "0")[:n] + ("." + d[n:]) * (len(d) > n) if 0 < n <= 21
         else "0." + "0" * -n + d if -6 < n <= 0
         else f"{d[0]}{'.' * (len(d) > 1)}{d[1:]}e{'+' if n > 0 else '-'}{abs(n - 1)}")
    return "-" * (v < 0) + s

def vkey(text):  # <name>+<hex8 key ID>+<base64(0x01 || 32-byte Ed25519 public key)>
    name, kid, raw = text.strip().split("+", 2)
    raw = b64(raw)
    need(raw[:1] == b"\x01" and len(raw) == 33, "not an Ed25519 verifier key")
    need(H(name.encode(), b"\n", raw)[:4].hex() == kid, "the key ID does not match the key")
    return name, bytes.fromhex(kid), raw[1:]

def checkpoint(note, key):  # C2SP signed-note holding a C2SP tlog-checkpoint -> (size, root)
    (name, kid, pub), good = key, 0
    body, _, sigs = note.rpartition("\n\n")
    for signer, _, sig in (s.removeprefix("\u2014 ").partition(" ") for s in sigs.splitlines()):
        if signer == name and b64(sig)[:4] == kid:  # every one must verify: raises if forged
            Ed25519PublicKey.from_public_bytes(pub).verify(b64(sig)[4:], (body + "\n").encode())
            good += 1
    lines = body.split("\n")
    need(good and lines[0] == name and re.fullmatch(r"0|[1-9]\d*", lines[1]), "not signed")
    return int(lines[1]), b64(lines[2])

def check_receipt(text, key):  # C2SP tlog-proof with the entry's exact bytes in `extra`
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    need(lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("extra "), "no entry")
    entry, index = b64(lines[1][6:]), int(lines[2].removeprefix("index "))
    size, root = checkpoint(note, key)
    fn, sn, r = index, size - 1, H(b"\x00", entry)  # RFC 9162 section 2.1.3.2
    for p in map(b64, lines[3:]):
        need(sn > 0 and len(p) == 32, "the proof is too long or malformed")
        if fn & 1 or fn == sn:
            r = H(b"\x01", p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = H(b"\x01", r, p)
        fn, sn = fn >> 1, sn >> 1
    need(sn == 0 and r == root, "the inclusion proof does not lead to the signed root")
    need(json.loads(entry)["index"] == index, "the entry is not the one at that index")
    print(f"receipt: entry {index} is in the log of {size} entries: {entry.decode()}")

def check_store(store, entries, rehash):  # OCFL 1.1, extension 0004 (sha256, 3 tuples of 3)
    need((store / "0=ocfl_1.1").read_text() == "ocfl_1.1\n", "not an OCFL 1.1 storage root")
    found = {}
    for obj in sorted(p.parent for p in store.rglob("0=ocfl_object_*")):
        inv = json.loads(raw := (obj / "inventory.json").read_bytes())
        alg, oid, h = inv["digestAlgorithm"], inv["id"], hashlib.sha256(inv["id"].encode())
        sidecar = (obj / f"inventory.json.{alg}").read_text().split()[0]
        if sidecar != hashlib.new(alg, raw).hexdigest():
            problems.append(f"{obj}: inventory.json does not match its sidecar")
        if obj.relative_to(store).parts != (*re.findall("...", h.hexdigest()[:9]), h.hexdigest()):
            problems.append(f"{obj}: not where the storage layout puts {oid}")
        listed = {p: d.lower() for d, ps in inv["manifest"].items() for p in ps}
        on_disk = {p.relative_to(obj).as_posix() for p in obj.glob("v*/content/**/*")
                   if p.is_file()}
        problems.extend(f"{obj}/{p}: {'missing' if p in listed else 'not in the manifest'}"
                        for p in sorted(set(listed) ^ on_disk))
        for p, d in sorted((p, d) for p, d in listed.items() if p in on_disk):
            with (obj / p).open("rb") as f:
                if rehash and hashlib.file_digest(f, alg).hexdigest() != d:
                    problems.append(f"{obj}/{p}: the content does not match its digest")
            if oid == "sha256:" + d:
                found[oid] = (obj / p).stat().st_size  # the original bytes the id names
        if oid not in found:
            problems.append(f"{obj}: holds no content whose SHA-256 is its id {oid}")
    acquired = [e for e in entries if e["type"] in ("acquisition", "derivative")]
    problems.extend(f"entry {e['index']}: its object is missing or of another size"
                    for e in acquired if found.get(e["data"]["object"]) != e["data"]["size"])
    named = {e["data"]["object"] for e in acquired}
    problems.extend(f"object {o} is stored but no acquisition names it" for o in set(found) - named)
    return len(found)

def check_ledger(ledger, key, against):
    *lines, tail = (ledger / "entries.jsonl").read_bytes().split(b"\n")
    if tail:
        print(f"note: {len(tail)} bytes after the last newline are no entry (interrupted write)")
    entries, leaves, latest = [], [H(b"\x00", line) for line in lines], None
    for i, line in enumerate(lines):
        try:
            e = json.loads(line.decode("utf-8"))
            need(type(e) is dict and e.keys() == MEMBERS.keys(), "not exactly the eight members")
            need(all(type(e[k]) is t for k, t in MEMBERS.items()), "a member of the wrong type")
            need(e["svidok"] == 1 and e["index"] == i, "wrong format version or index")
            need(e["type"] in TYPES and TIME.fullmatch(e["time"]), "unknown type or bad time")
            need(jcs(e).encode("utf-8") == line, "not in RFC 8785 canonical form")
            entries.append(e)
        except Exception as exc:
            problems.append(f"entry {i}: {exc!r}")
    try:
        need(entries[0]["type"] == "init" and vkey(entries[0]["data"]["vkey"]) == key, "no")
    except Exception:
        problems.append("entry 0 is not an init entry recording the key given")
    for path in [ledger / "checkpoint", *sorted((ledger / "checkpoints").glob("*.note")), *against]:
        try:
            size, root = checkpoint(path.read_text(encoding="utf-8"), key)
            need(size <= len(leaves), f"signed at {size} entries, the ledger has {len(leaves)}")
            need(mth(leaves[:size]) == root, f"the root of the first {size} entries differs")
            latest = size if path == ledger / "checkpoint" else latest
        except Exception as exc:
            problems.append(f"checkpoint {path}: {exc!r}")
    print(f"ledger: {len(lines)} entries, the latest checkpoint covers {latest}")
    return entries

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, help="a data home, or just its ledger folder")
    ap.add_argument("--key", help="the log's published vkey (text or a file holding it)")
    ap.add_argument("--against", type=Path, action="append", default=[],
                    help="a checkpoint published earlier (repeatable): catches rollbacks")
    ap.add_argument("--receipt", type=Path, help="a receipt (C2SP tlog-proof) to check")
    ap.add_argument("--no-content", action="store_true", help="do not re-hash stored content")
    a = ap.parse_args()
    home = a.folder if a.folder and not (a.folder / "entries.jsonl").exists() else None
    keytext = a.key or (home and str(home / "keys" / "ledger.pub")) or ap.error("give --key")
    try:
        key = vkey(Path(keytext).read_text() if Path(keytext).is_file() else keytext)
        if a.receipt:
            try:
                check_receipt(a.receipt.read_text(encoding="utf-8"), key)
            except Exception as exc:
                problems.append(f"receipt {a.receipt}: {exc!r}")
        if a.folder:
            entries = check_ledger(home / "ledger" if home else a.folder, key, a.against)
            if home:
                print(f"store: {check_store(home / 'store', entries, not a.no_content)} objects")
    except Exception as exc:
        problems.append(f"cannot go on: {exc!r}")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    print("FAILED" if problems else "OK")
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
