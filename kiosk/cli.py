"""The ``kiosk`` command: the photo engine from a shell, before (or without) any booth hardware.

::

    kiosk check IMAGE... [--json]                 is this capture usable? rule by rule
    kiosk make IMAGE --student-id 2020123456 --id-number 11010519491231002X --name 张三 \\
               --out DIR [--key FILE] [--template T]   check, crop, encode, seal, verify, write
    kiosk verify PATH... [--key FILE] [--json]    verify finished files (folders: every .jpg)
    kiosk keygen FILE                             make the registrar's key (mode 0600)

With ``--json`` each image gives one JSON object on its own line of stdout::

    {"file": str, "verdict": "pass|warn|fail|unknown",
     "checks": [{"id": str, "status": str, "value": number|string|null,
                 "limit": string|null, "message": {"zh": str, "en": str}}]}

``unknown``: a rule a person can answer (no hat, no jewellery, hair off the brows and ears) could
not be measured; the photo is usable only once someone confirms it (``kiosk make --confirm``;
the booth asks the student on its review screen).

Exit status: 0 when every image passes or only warns, 1 when any fails or is unknown, 2 on bad
usage or input that cannot be read (with a clear message on stderr, never a traceback).

More subcommands come from other parts of the booth: every module in :data:`COMMAND_MODULES`
that exists provides ``register(subparsers)``, adds its parser and sets ``func`` — a callable
taking the parsed arguments and returning the exit status — with ``set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable, Iterable

from kiosk.message import Message
from kiosk.photo.checks.result import CONFIRMABLE_IDS, CheckResult, Status, to_confirm, verdict

log = logging.getLogger("kiosk.cli")

#: Modules of other areas that add subcommands when they are present.
COMMAND_MODULES = ("kiosk.handoff.registrar.cli", "kiosk.sim.simulator", "kiosk.booth.main")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable input: exit status 2 with this bilingual message."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


# --- shared helpers -------------------------------------------------------------------------------

def load_cli_config(args: argparse.Namespace):
    """The config file named by ``--config`` (or the default), with ``--backdrop`` applied."""
    from kiosk.config import load_config
    path = getattr(args, "config", None)
    if path is not None and not Path(path).is_file():
        raise UsageError(Message(f"找不到配置文件：{path}", f"config file not found: {path}"))
    config = load_config(path)
    backdrop = getattr(args, "backdrop", None)
    if backdrop:
        config.booth.backdrop = backdrop
    return config


def read_image(path: str):
    """An RGB uint8 array from any image file Pillow reads, upright per its EXIF orientation."""
    import warnings

    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    from kiosk.photo.decode import ImageRefused, check_dimensions
    try:
        with warnings.catch_warnings():     # the size is judged below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            try:      # the size from the header, before a single pixel is decoded
                check_dimensions(*im.size)
            except ImageRefused as exc:
                raise UsageError(Message(f"{path}：{exc.message.zh}",
                                         f"{path}: {exc.message.en}")) from None
            # Orientation metadata says how the camera held the picture; applying it shows the
            # scene as taken (it is not a rotation of the subject's photo).
            shown = ImageOps.exif_transpose(im)
            return np.asarray(shown.convert("RGB"))
    except FileNotFoundError:
        raise UsageError(Message(f"找不到文件：{path}", f"file not found: {path}")) from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UsageError(Message(f"无法读取图像：{path}", f"cannot read image {path}: {exc}")) from None


def load_key_arg(path: str | None, *, required: bool) -> bytes | None:
    from kiosk.photo.identity import KeyFileError, load_key
    if path is None:
        if required:
            raise UsageError(Message("需要密钥文件（--key）", "a key file is needed (--key)"))
        return None
    try:
        return load_key(path)
    except KeyFileError as exc:
        raise UsageError(exc.message) from None


def _check_identity_scheme(name: str) -> None:
    """Refuse an unknown or broken ``booth.identity_scheme`` before any model loads."""
    from kiosk.photo.identity import IdentityError, load_scheme
    try:
        load_scheme(name)
    except IdentityError as exc:
        raise UsageError(exc.message) from None


class _LazyAnalyzer:
    """Creates the (slow to load) models on first use, once for all images of a command."""

    def __init__(self) -> None:
        self._analyzer = None

    def get(self):
        if self._analyzer is None:
            from kiosk.photo.analysis import Analyzer
            from kiosk.photo.checks.context import prepare_colour_tables
            prepare_colour_tables()          # in the background while the models load
            self._analyzer = Analyzer()
        return self._analyzer

    def close(self) -> None:
        if self._analyzer is not None:
            self._analyzer.close()


def print_report(file: str, checks: list[CheckResult], status: Status, *, as_json: bool,
                 extra: dict | None = None, show_all: bool = False) -> None:
    """One JSON line, or a short human-readable block (failures and warnings, or everything)."""
    if as_json:
        obj = {"file": file, "verdict": status.value, "checks": [c.to_dict() for c in checks]}
        if extra:
            obj.update(extra)
        print(json.dumps(obj, ensure_ascii=False), flush=True)
        return
    print(f"{file}: {status.value.upper()}")
    for c in checks:
        if c.status == Status.PASS and not show_all:
            continue
        value = "" if c.value is None else f" = {c.to_dict()['value']}"
        limit = f" (limit {c.limit})" if c.limit else ""
        note = " [advisory]" if c.advisory else (" [to confirm]" if c.needs_confirmation else "")
        print(f"  {c.status.value:7s} {c.id}{value}{limit}{note}")
        if c.status != Status.PASS and (c.message.zh or c.message.en):
            print(f"          {c.message.zh} / {c.message.en}")
        if c.needs_confirmation:            # what a person must have checked by looking
            from kiosk.photo.checks.confirm import confirmation_line
            line = confirmation_line(c)
            print(f"          确认 confirm: {line.zh} / {line.en}")
    for key, value in (extra or {}).items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
        print(f"  {key}: {value}")
    sys.stdout.flush()


def _exit_for(statuses: Iterable[Status], unreadable: bool) -> int:
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAIL if any(s in (Status.FAIL, Status.UNKNOWN) for s in statuses) else EXIT_OK


def _error(message: Message) -> None:
    print(f"kiosk: {message.zh} / {message.en}", file=sys.stderr, flush=True)


# --- kiosk check --------------------------------------------------------------------------------

def _register_check(sub) -> None:
    p = sub.add_parser("check", help="check whether captures are usable, rule by rule",
                       description="Analyse each image as a camera capture: every rule is judged "
                                   "where the crop would put the face. A 480x640 image is judged "
                                   "as a finished photo (no crop).")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.add_argument("--all", action="store_true", help="also list passing checks (text output)")
    _common_engine_args(p)
    p.set_defaults(func=cmd_check)


def _common_engine_args(p) -> None:
    p.add_argument("--config", metavar="FILE", help="config file (default $KIOSK_CONFIG or "
                                                    "/etc/kiosk/kiosk.toml)")
    p.add_argument("--backdrop", choices=("blue", "white", "grey", "any"),
                   help="installed backdrop colour (overrides the config's booth.backdrop); "
                        "default: any of the three standard colours, the nearest is named")


def cmd_check(args: argparse.Namespace) -> int:
    from kiosk.photo import standard
    from kiosk.photo.checks import run_checks
    from kiosk.photo.crop import plan_crop
    config = load_cli_config(args)
    analyzer = _LazyAnalyzer()
    statuses, unreadable = [], False
    try:
        for path in args.images:
            try:
                rgb = read_image(path)
            except UsageError as exc:
                _error(exc.message)
                unreadable = True
                continue
            analysis = analyzer.get().analyze(rgb)
            finished = rgb.shape[:2] == (standard.FRAME_HEIGHT, standard.FRAME_WIDTH)
            crop = None if finished else plan_crop(analysis)
            checks = list(run_checks(analysis, config, crop=crop))
            status = verdict(checks)
            extra = None
            if crop is not None and not crop.ok and crop.problem is not None and not args.json:
                extra = {"crop": f"{crop.problem.zh} / {crop.problem.en}"}
            print_report(path, checks, status, as_json=args.json, extra=extra, show_all=args.all)
            statuses.append(status)
    finally:
        analyzer.close()
    return _exit_for(statuses, unreadable)


# --- kiosk make ---------------------------------------------------------------------------------

def _register_make(sub) -> None:
    p = sub.add_parser("make", help="make the verified 480x640 file for one student",
                       description="Check, crop, encode, seal the identity, verify, and write the "
                                   "file only if it verifies.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--student-id", required=True, help="student number (学号)")
    p.add_argument("--id-number", required=True, help="ID-card number (身份证号), 18 characters")
    p.add_argument("--name", required=True, help="name (姓名)")
    p.add_argument("--college", default="")
    p.add_argument("--class-name", default="")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--key", metavar="FILE", help="registrar's key file (default: booth.key_file "
                                                 "from the config)")
    p.add_argument("--template", help="file name template (default: booth.filename_template, "
                                      "'{id_number}.jpg')")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--all", action="store_true", help="also list passing checks (text output)")
    p.add_argument("--confirm", action="append", default=[], metavar="RULE",
                   choices=sorted(CONFIRMABLE_IDS),
                   help="you checked this rule by looking (when the measure could not decide): "
                        "%(choices)s; repeatable")
    _common_engine_args(p)
    p.set_defaults(func=cmd_make)


def cmd_make(args: argparse.Namespace) -> int:
    from kiosk.photo.engine import PhotoRejected, build_photo, write_photo
    from kiosk.photo.student import InvalidIdentity, Student, render_filename
    config = load_cli_config(args)
    try:
        student = Student.validated(student_id=args.student_id, id_number=args.id_number,
                                    name=args.name, college=args.college,
                                    class_name=args.class_name,
                                    student_id_pattern=config.students.student_id_pattern)
        template = args.template or config.booth.filename_template
        name = render_filename(template, student)
    except InvalidIdentity as exc:
        raise UsageError(exc.message) from None
    key = load_key_arg(args.key or config.booth.key_file, required=True)
    assert key is not None                      # required=True: a missing key is a UsageError
    _check_identity_scheme(config.booth.identity_scheme)
    rgb = read_image(args.image)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(Message(f"无法创建输出文件夹：{out}", f"cannot create {out}: {exc.strerror}")) from exc
    analyzer = _LazyAnalyzer()
    try:
        result = build_photo(rgb, student, config=config, analyzer=analyzer.get(), key=key)
        written = None
        problem = result.problem
        unconfirmed = [c for c in to_confirm(result.checks) if c.id not in args.confirm]
        if result.ok and unconfirmed:
            # never handed over on an unknown: someone must have looked
            problem = Message("需要确认：" + "、".join(c.id for c in unconfirmed),
                              "needs confirmation (--confirm RULE after looking at the photo): "
                              + ", ".join(c.id for c in unconfirmed))
        elif result.ok:
            try:
                written = write_photo(result, out, template, key=key, config=config,
                                      analyzer=analyzer.get())
            except PhotoRejected as exc:
                problem = exc.message
            except OSError as exc:
                raise UsageError(Message(f"无法写入文件：{out / name}",
                                         f"cannot write {out / name}: {exc.strerror}")) from None
    finally:
        analyzer.close()
    status = verdict(result.checks, args.confirm) if written else Status.FAIL
    extra: dict[str, object] = {"output": str(written) if written else None, "quality": result.quality,
             "size": len(result.jpeg) if result.jpeg else None,
             "encodes": result.encode_attempts}
    if args.confirm:
        extra["confirmed"] = sorted(set(args.confirm))
    if problem is not None and not written:
        extra["problem"] = problem.to_dict() if args.json else f"{problem.zh} / {problem.en}"
    if result.size_warning is not None:
        w = result.size_warning
        extra["size_warning"] = w.to_dict() if args.json else f"{w.zh} / {w.en}"
    print_report(args.image, result.checks, status, as_json=args.json, extra=extra,
                 show_all=args.all)
    return EXIT_OK if written else EXIT_FAIL


# --- kiosk verify -------------------------------------------------------------------------------

def _register_verify(sub) -> None:
    p = sub.add_parser("verify", help="verify finished files as the registrar would",
                       description="Check every file rule, open the identity in the comment with "
                                   "the key, and re-run the layout and background checks on the "
                                   "decoded picture. Folders: every .jpg/.jpeg file inside, "
                                   "recursively.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--key", metavar="FILE", help="registrar's key file (default: booth.key_file "
                                                 "from the config when it exists); without a key "
                                                 "the identity is reported as not checked (warning)")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--all", action="store_true", help="also list passing checks (text output)")
    p.add_argument("--no-image-checks", action="store_true",
                   help="check the file rules only (no face analysis; fast)")
    _common_engine_args(p)
    p.set_defaults(func=cmd_verify)


def collect_files(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Files to verify and the paths that do not exist. Folders give their JPEG files, sorted."""
    files, missing = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and p.suffix.lower() in (".jpg", ".jpeg")
                                and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    return files, missing


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.photo.student import mask_id_number
    from kiosk.photo.verify import verify_file
    config = load_cli_config(args)
    key_file = args.key
    if key_file is None and Path(config.booth.key_file).is_file():
        key_file = config.booth.key_file        # on a booth: its own key
    key = load_key_arg(key_file, required=False)
    if key is None:
        log.info("no key: the identity in the comment is not checked")
    files, missing = collect_files(args.paths)
    for m in missing:
        _error(Message(f"找不到：{m}", f"not found: {m}"))
    if not files and not missing:
        raise UsageError(Message("没有找到JPEG文件", "no JPEG files found"))
    analyzer = _LazyAnalyzer()
    statuses, unreadable = [], bool(missing)
    try:
        for path in files:
            try:
                report = verify_file(path, key=key, expected=None, config=config,
                                     analyzer=None if args.no_image_checks else analyzer.get())
            except OSError as exc:
                _error(Message(f"无法读取：{path}", f"cannot read {path}: {exc.strerror}"))
                unreadable = True
                continue
            extra = None
            if report.identity is not None:
                who = report.identity
                extra = {"identity": {
                    "student_id": who.student_id,
                    "id_number": who.id_number if args.json else mask_id_number(who.id_number),
                    "name": who.name, "school_code": who.school_code,
                    "captured_at": who.captured_at.isoformat() if who.captured_at else None,
                    "scheme": who.scheme}}
            print_report(str(path), report.checks, report.verdict, as_json=args.json,
                         extra=extra, show_all=args.all)
            statuses.append(report.verdict)
    finally:
        analyzer.close()
    return _exit_for(statuses, unreadable)


# --- kiosk keygen -------------------------------------------------------------------------------

def _register_keygen(sub) -> None:
    p = sub.add_parser("keygen", help="make a new registrar key file (mode 0600)",
                       description="Write 32 random bytes (as 64 hex digits) to FILE, readable "
                                   "only by its owner. An existing file is never overwritten.")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_keygen)


def cmd_keygen(args: argparse.Namespace) -> int:
    from kiosk.photo.identity import KeyFileError, generate_key
    try:
        generate_key(args.file)
    except KeyFileError as exc:
        raise UsageError(exc.message) from None
    print(f"key written to {args.file} (mode 0600): keep a copy in a safe place; every booth "
          f"and the registrar's tool need the same key")
    return EXIT_OK


# --- the parser and main ------------------------------------------------------------------------

COMMANDS: tuple[Callable, ...] = (_register_check, _register_make, _register_verify,
                                  _register_keygen)


def _optional_modules() -> list:
    found = []
    for name in COMMAND_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
            module = importlib.import_module(name)
        except ImportError:
            continue          # that part of the booth is not installed
        except Exception as exc:   # a broken plug-in must not take the engine's commands down
            log.warning("subcommands from %s unavailable: %s", name, exc)
            continue
        if hasattr(module, "register"):
            found.append(module.register)
    return found


#: The subcommands defined here: naming one of them first skips importing the other parts of
#: the booth just to build their parsers (a tenth of a second of ``kiosk check``).
ENGINE_COMMANDS = ("check", "make", "verify", "keygen")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser, or with ``argv`` naming an engine command, the engine's commands only."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Graduation photo booth: check, make and verify photos for "
                                  "教毕指〔2017〕99号.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more to stderr (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    words = [a for a in (argv or []) if not a.startswith("-")]
    engine_only = bool(words) and words[0] in ENGINE_COMMANDS
    for register in (*COMMANDS, *(() if engine_only else _optional_modules())):
        register(sub)
    return parser


def tune_malloc(arenas: int = 2, mmap_threshold: int = 256 * 1024) -> bool:
    """Keep freed memory from piling up in glibc's heaps (unless the environment says otherwise).

    By default every thread that allocates gets a heap of its own (up to 8 per core), the
    models' worker threads (mediapipe starts several per model) each keep what they freed, and
    big blocks (camera frames) are served from those heaps once the first few were freed:
    ``kiosk simulate`` peaked near 1 GiB. At most ``arenas`` heaps, and blocks from
    ``mmap_threshold`` bytes up always mapped (so given back when freed): under 0.5 GiB
    (bench/all.py). Call before any thread starts; nothing happens without glibc's ``mallopt``.
    """
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = True
        if not os.environ.get("MALLOC_ARENA_MAX"):
            ok &= bool(libc.mallopt(-8, int(arenas)))              # M_ARENA_MAX
        if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
            ok &= bool(libc.mallopt(-3, int(mmap_threshold)))      # M_MMAP_THRESHOLD
        return ok
    except (OSError, AttributeError, TypeError):
        return False


def main(argv: list[str] | None = None) -> int:
    tune_malloc()
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        from kiosk.native_logs import hide_native_logs
        hide_native_logs()          # mediapipe's C++ log lines: shown with -v only
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code = func(args)
    except UsageError as exc:
        _error(exc.message)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return EXIT_OK if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
