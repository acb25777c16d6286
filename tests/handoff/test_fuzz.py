"""Fuzzing the three doors a stranger's bytes come in by: QR codes, roster files, manifests.

A seeded generator (reproducible: the seed is in the failure message) builds payloads from the
real formats and then damages them: wrong types, deep nesting, odd encodings, control
characters, huge fields, cut and flipped bytes. Nothing may come out but the declared error
types (``QrPayloadError``, ``RosterError``, a manifest's list of problems): no other exception,
no traceback, and every case in bounded work (input sizes are capped, nothing loops on input).

Default run: 100,000 QR payloads, 3,000 rosters and 3,000 manifests (rosters and manifests go
through files and cost more each). ``KIOSK_FUZZ_SCALE=34`` runs ≥ 100,000 of each
(``bench/fuzz.sh``).
"""

from __future__ import annotations

import codecs
import json
import os
import random
import string

import pytest
from handoff_fixtures import make_id_number

from kiosk.handoff.export import manifest as mf
from kiosk.handoff.qr import QrPayloadError, parse_qr_payload
from kiosk.handoff.roster import RosterError, parse_roster

SCALE = float(os.environ.get("KIOSK_FUZZ_SCALE", "1"))
N_QR = max(100_000, int(3_000 * SCALE))
N_ROSTER = int(3_000 * SCALE)
N_MANIFEST = int(3_000 * SCALE)

NASTY = ["\x00", "\x1b[2J", "\u202e", "\ufeff", "\ud800", "..", "/", "\\", "<script>", "'; DROP",
         "=HYPERLINK(", "%00", "%E5%BC", "\n", "\r\n", "\t", "张三", "·", "𠀀", "X", "x", "{",
         "[", "]", "}", ":", "=", "&", ";", "|", ",", "\"", " ", "1" * 60, "é"]
KEYS = ["sid", "学号", "student_id", "name", "姓名", "id_number", "身份证号", "班级", "学院",
        "class", "college", "x", "", "SID", "Name"]


def _text(rng: random.Random, n: int = 12) -> str:
    parts = []
    for _ in range(rng.randrange(n)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(NASTY))
        elif r < 0.7:
            parts.append(rng.choice(string.digits) * rng.randrange(1, 12))
        else:
            parts.append("".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(4))))
    return "".join(parts)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randrange(4)):
        op = rng.randrange(4)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1 and data:
            del data[rng.randrange(len(data)):]
        elif op == 2:
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = _text(rng, 3).encode("utf-8", "surrogatepass")
        elif data:
            pos = rng.randrange(len(data))
            data[pos:pos] = data[pos:pos + rng.randrange(1, 20)] * rng.randrange(2, 30)
    return bytes(data)


def qr_payload(rng: random.Random) -> bytes | str:
    sid = rng.choice(["2020000001", "2020" + _text(rng, 3), _text(rng, 4)])
    name, idn = rng.choice(["张三", _text(rng, 4)]), rng.choice([make_id_number(), _text(rng, 3)])
    kind = rng.randrange(6)
    if kind == 0:
        doc = {rng.choice(KEYS): rng.choice([sid, name, idn, 1, 1.5, None, True, [sid], {"a": sid}])
               for _ in range(rng.randrange(5))}
        text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.1:
            d = rng.randrange(1, 2000)
            text = "[" * d + text + "]" * d if rng.random() < 0.5 else "{" + "\"a\":{" * d
    elif kind == 1:
        host = rng.choice(["form.example.edu.cn", "[::1", "[::1]", "[", "]", "x:99999", "@", ""])
        text = f"{rng.choice(['http', 'https', 'HTTP'])}://{host}/p?sid={sid}&name={name}" \
               f"&id_number={idn}#{_text(rng, 2)}"
    elif kind == 2:
        sep = rng.choice(";&|,\n")
        text = sep.join(f"{rng.choice(KEYS)}{rng.choice(['=', '', '=='])}{v}"
                        for v in (sid, name, idn)[:rng.randrange(1, 4)])
    elif kind == 3:
        text = sid
    else:
        text = _text(rng, 20)
    if rng.random() < 0.3:
        return _mutate(rng, text.encode("utf-8", "surrogatepass"))
    if rng.random() < 0.2:
        return text.encode(rng.choice(["gb18030", "utf-16", "latin-1", "utf-8"]), "replace")
    return text


def test_fuzz_qr_payloads_only_raise_qr_payload_error():
    rng = random.Random(10_2026)
    refused = 0
    for n in range(N_QR):
        payload = qr_payload(rng)
        try:
            parse_qr_payload(payload)
        except QrPayloadError as exc:
            assert exc.message.zh and exc.message.en
            refused += 1
        except Exception as exc:      # noqa: BLE001 - the point: nothing else may come out
            pytest.fail(f"payload #{n} {payload!r:.300}: {type(exc).__name__}: {exc}")
    print(f"\nQR fuzz: {N_QR} payloads, {refused} refused, {N_QR - refused} accepted")
    assert 0 < refused < N_QR


def roster_bytes(rng: random.Random) -> bytes:
    header = ["学号", "姓名", "身份证号", "学院", "班级"]
    if rng.random() < 0.3:
        rng.shuffle(header)
    if rng.random() < 0.2:
        header[rng.randrange(len(header))] = _text(rng, 2)
    delim = rng.choice([",", ";", "\t", "|"])
    lines = [rng.choice(["", "2026届毕业生名单", _text(rng, 3)])] if rng.random() < 0.2 else []
    lines.append(delim.join(header))
    for i in range(rng.randrange(0, 30)):
        row = [f"2020{i:06d}", rng.choice(["张三", "李四", _text(rng, 3)]),
               rng.choice([make_id_number(seq=i), _text(rng, 3)]), _text(rng, 2), _text(rng, 2)]
        if rng.random() < 0.2:
            row = row[:rng.randrange(len(row))]
        if rng.random() < 0.1:
            row.append('"' + _text(rng, 3))             # an unclosed quote
        lines.append(delim.join(row))
    text = rng.choice(["\n", "\r\n", "\r"]).join(lines)
    enc = rng.choice(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-be"])
    data = text.encode(enc, "replace")
    if enc == "utf-16-be" and rng.random() < 0.5:
        data = codecs.BOM_UTF16_BE + data
    return _mutate(rng, data) if rng.random() < 0.5 else data


def test_fuzz_rosters_only_raise_roster_error():
    rng = random.Random(20_2026)
    refused = loaded = 0
    for n in range(N_ROSTER):
        data = roster_bytes(rng)
        try:
            roster = parse_roster(data)
        except RosterError as exc:
            assert exc.message.zh and exc.message.en
            refused += 1
            continue
        except Exception as exc:      # noqa: BLE001
            pytest.fail(f"roster #{n} {data[:300]!r}: {type(exc).__name__}: {exc}")
        loaded += len(roster)
        for line, reason in roster.rejected:
            assert isinstance(line, int) and reason
    print(f"\nroster fuzz: {N_ROSTER} rosters, {refused} refused whole, {loaded} students loaded")
    assert refused and loaded


def _odd(rng: random.Random, good):
    return rng.choice([good, None, 1, -1, 1.5, True, "", [good], {"x": good}, _text(rng, 3),
                       "../../x.jpg", "/etc/passwd", "x" * 5000])


def manifest_bytes(rng: random.Random) -> bytes:
    photos = []
    for i in range(rng.randrange(0, 12)):
        e = {"student_id": f"2020{i % 7:06d}", "name": "张三", "id_number": make_id_number(seq=i),
             "college": "", "class_name": "", "file": f"{i % 9}.jpg", "captured_at":
             "2026-06-01T09:00:00+08:00", "verdict": "pass", "sha256": "0" * 64, "size": 30000,
             "booth_id": "b1", "checks": [{"id": "x", "status": "warn"}], "history": []}
        for k in rng.sample(list(e), rng.randrange(0, 4)):
            e[k] = _odd(rng, e[k])
        if rng.random() < 0.1:
            del e[rng.choice(list(e))]
        photos.append(e if rng.random() > 0.05 else _odd(rng, e))
    doc = {"format": mf.FORMAT, "booth_id": _odd(rng, "b1"), "date": _odd(rng, "2026-06-01"),
           "photos": photos if rng.random() > 0.1 else _odd(rng, photos),
           "staged": _odd(rng, ["a.jpg"])}
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.05:
        depth = rng.choice([100, 5000, 100_000])
        text = '{"photos":' + "[" * depth + "]" * depth + "}"
    data = text.encode("utf-8", "surrogatepass")       # a lone surrogate: invalid UTF-8 too
    return _mutate(rng, data) if rng.random() < 0.3 else data


def test_fuzz_manifests_never_raise(tmp_path):
    rng = random.Random(30_2026)
    folder = tmp_path / "export"
    folder.mkdir()
    damaged = entries = 0
    for n in range(N_MANIFEST):
        data = manifest_bytes(rng)
        (folder / mf.MANIFEST_JSON).write_bytes(data)
        try:
            manifest, problems = mf.load(folder)
            manifest.to_json()
            manifest.to_csv()
        except Exception as exc:      # noqa: BLE001 - a manifest is never a crash
            pytest.fail(f"manifest #{n} {data[:300]!r}: {type(exc).__name__}: {exc}")
        damaged += bool(problems)
        entries += len(manifest.entries)
        for e in manifest.entries.values():
            assert e.verdict in ("pass", "warn", "fail")
            assert all(isinstance(getattr(e, f), str) for f in ("student_id", "name", "file"))
    print(f"\nmanifest fuzz: {N_MANIFEST} manifests, {damaged} with problems, {entries} entries")
    assert damaged and entries
