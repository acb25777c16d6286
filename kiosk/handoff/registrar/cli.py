"""``kiosk registrar``: the registrar office's commands.

::

    kiosk registrar verify STICK_OR_FOLDER [--key FILE] [--no-image-checks] [--json] [--jobs N]
    kiosk registrar merge EXPORT... --out DIR [--key FILE] [--jobs N]

``verify`` prints one line per student (student number, name, masked ID-card number, file,
checksum, identity, verifier verdict) and exits 0 when nothing failed, 1 when something did,
2 on bad usage. ``merge`` writes the batch folder and prints what was merged, the conflicts and
the rejected files; it exits 0 when every photo found was usable, 1 when some were rejected.
Both use every core by default (``--jobs``) and show their progress on stderr. Everything
printed that came from a stick (names, file names, problems) has its control characters
escaped, so a hostile name cannot drive the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from kiosk.message import Message


def register(subparsers) -> None:
    """Add ``registrar verify`` and ``registrar merge`` to the ``kiosk`` command."""
    p = subparsers.add_parser("registrar", help="verify and merge USB exports (registrar office)",
                              description="Tools for the registrar's office: verify what a "
                                          "booth exported, merge the exports of several booths.")
    sub = p.add_subparsers(dest="registrar_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])

    v = sub.add_parser("verify", help="verify every photo of an export against its manifest",
                       description="Checks every file with the engine's verifier, its SHA-256 "
                                   "against the manifest, and the identity sealed in the file "
                                   "against the manifest; prints a per-student table.")
    v.add_argument("path", metavar="STICK_OR_FOLDER")
    v.add_argument("--key", metavar="FILE", help="registrar's key file; without it identities "
                                                 "are reported as not checked")
    v.add_argument("--no-image-checks", action="store_true",
                   help="file rules only, no face analysis (fast)")
    v.add_argument("--json", action="store_true", help="one JSON object per student")
    v.add_argument("--config", metavar="FILE", help="config file")
    _jobs_arg(v)
    v.set_defaults(func=cmd_verify)

    m = sub.add_parser("merge", help="merge the exports of several booths into one batch",
                       description="One photo per student (the newest accepted wins); "
                                   "conflicts are listed on screen and in conflicts.csv.")
    m.add_argument("exports", nargs="+", metavar="EXPORT")
    m.add_argument("--out", required=True, metavar="DIR", help="batch folder to write")
    m.add_argument("--key", metavar="FILE", help="registrar's key file (checks the identities)")
    m.add_argument("--config", metavar="FILE", help="config file")
    _jobs_arg(m)
    m.set_defaults(func=cmd_merge)


def _jobs_arg(p) -> None:
    from kiosk.handoff.registrar.pool import default_jobs
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=f"worker processes (default: every core, here {default_jobs()})")


def _jobs(args) -> int:
    from kiosk.handoff.registrar.pool import default_jobs
    if args.jobs is None:
        return default_jobs()
    if args.jobs < 1:
        raise _usage("--jobs 至少为 1", "--jobs must be at least 1")
    return args.jobs


def term(text) -> str:
    """``text`` safe for a terminal: control and format characters (escape sequences, bidi
    overrides, line breaks) shown as escapes instead of acting."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
                   else ch.encode("unicode_escape").decode("ascii") for ch in str(text))


def _usage(zh: str, en: str):
    from kiosk.cli import UsageError
    return UsageError(Message(zh, en))


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.cli import load_cli_config, load_key_arg
    from kiosk.handoff.registrar.verify import verify_export
    path = Path(args.path)
    if not path.exists():
        raise _usage(f"找不到：{path}", f"not found: {path}")
    config = load_cli_config(args)
    key = load_key_arg(args.key, required=False)
    folders = verify_export(path, key=key, config=config, jobs=_jobs(args),
                            image_checks=not args.no_image_checks, progress=True)
    if not folders:
        raise _usage(f"{path} 中没有导出文件夹（manifest.json）",
                     f"no export folder (manifest.json) in {path}")
    failed = False
    for fc in folders:
        failed |= not fc.ok
        if args.json:
            for r in fc.rows:
                print(json.dumps({"folder": str(fc.folder), "student_id": r.student_id,
                                  "name": r.name, "id_number": r.id_number, "file": r.file,
                                  "checksum_ok": r.checksum_ok, "identity_ok": r.identity_ok,
                                  "verdict": r.verdict, "status": r.status,
                                  "backdrop": r.backdrop, "needs_look": r.needs_look,
                                  "problems": r.problems}, ensure_ascii=False))
            # problems of the folder itself (stray photos, a manifest.csv that disagrees) are
            # no student's row: stderr, so stdout stays one object per student
            for p in [*fc.problems, *fc.notes]:
                print(f"kiosk: {term(fc.folder)}: {term(p)}", file=sys.stderr)
            continue
        print_folder(fc)
    if key is None and not args.json:
        print("注意：没有密钥，未核对文件内的身份 / note: no key given, identities not checked")
    return 1 if failed else 0


def print_folder(fc) -> None:
    print(f"\n{term(fc.folder)}  ({len(fc.rows)} 张 photos)")
    header = ["学号", "姓名", "身份证号", "文件 file", "校验 sha", "身份 id", "检查 check",
              "背景 backdrop", "复核 look", "结果"]
    rows = [header]
    for r in fc.rows:
        rows.append([term(r.student_id), term(r.name), term(_masked(r.id_number)), term(r.file),
                     _mark(r.checksum_ok), _mark(r.identity_ok), r.verdict, r.backdrop or "-",
                     "需人工复核" if r.needs_look else "-", r.status.upper()])
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    for r in fc.rows:
        for p in r.problems:
            print(f"  ! {term(r.student_id)}: {term(p)}")
        for why in r.needs_look:
            print(f"  ? {term(r.student_id)}: 需人工复核 needs a look: {term(why)}")
    for p in fc.problems:
        print(f"  ! {term(p)}")
    for note in fc.notes:
        print(f"  ? {term(note)}")


def _masked(id_number: str) -> str:
    from kiosk.photo.student import mask_id_number
    try:
        return mask_id_number(id_number)
    except Exception:      # noqa: BLE001 - a damaged manifest's number: show nothing of it
        return "*" * len(id_number)


def _mark(value: bool | None) -> str:
    return {True: "ok", False: "BAD", None: "-"}[value]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def cmd_merge(args: argparse.Namespace) -> int:
    from kiosk.cli import UsageError, load_cli_config, load_key_arg
    from kiosk.handoff.registrar.merge import CONFLICTS_CSV, MergeError, merge_exports
    missing = [p for p in args.exports if not Path(p).exists()]
    if missing:
        raise _usage("找不到：" + "、".join(missing), "not found: " + ", ".join(missing))
    config = load_cli_config(args)
    key = load_key_arg(args.key, required=False)
    try:
        report = merge_exports(args.exports, args.out, key=key, config=config,
                               jobs=_jobs(args), progress=True)
    except MergeError as exc:
        raise UsageError(exc.message) from None
    except OSError as exc:
        raise _usage(f"无法写入 {args.out}", f"cannot write {args.out}: {exc}") from None
    print(f"合并 merged: {report.merged} 张 photos from {len(report.sources)} 个导出 exports "
          f"-> {term(report.out)}")
    for c in report.conflicts:
        print(term(f"  冲突 conflict [{c.kind}] {c.student_id}: kept {c.winner}; "
                   f"not kept: {', '.join(c.others) or '-'} ({c.detail})"))
    for where, reason in report.rejected:
        print(term(f"  拒绝 rejected {where}: {reason}"))
    if report.conflicts or report.rejected:
        print(f"  详见 see {term(Path(args.out) / CONFLICTS_CSV)}")
    return 1 if report.rejected else 0
