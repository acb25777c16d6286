"""``index.html``: a contact sheet the registrar opens in any browser, with no network.

Everything is inside the one file: thumbnails as ``data:`` URIs, the styles inline, no script.
A Content-Security-Policy forbids the page from loading anything at all, so a stick opened on an
office computer never reaches out. Every text from a roster or a QR code is HTML-escaped.
Photos with warnings are highlighted and their warnings listed in Chinese and English; a photo
with a rule the booth could not decide is marked "需人工复核 / Needs a look" with what the
student confirmed and when; each card names the backdrop the booth found. ID-card numbers are
shown masked (the full number is in the manifest files).
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from pathlib import Path
from typing import Iterable, Iterator

from PIL import Image

from kiosk.handoff.export.durable import MAX_MANIFEST_BYTES, MAX_PHOTO_BYTES, read_regular
from kiosk.handoff.export.manifest import Entry
from kiosk.handoff.export.naming import inside
from kiosk.photo import standard
from kiosk.photo.decode import check_dimensions
from kiosk.photo.student import mask_id_number

log = logging.getLogger(__name__)

THUMB_SIZE = (150, 200)        # 3:4 like the photo
THUMB_QUALITY = 70           # ~7 KB per thumbnail: a sheet of 500 students stays ~5 MB
THUMBS_CACHE = ".thumbs.json"  # thumbnails already made, keyed by SHA-256 (hidden helper file)

STATUS_TEXT = {"pass": "合格 Pass", "warn": "警告 Warning", "fail": "不合格 Fail",
               "unknown": "未测 Unknown"}


def thumbnail_data_uri(jpeg: bytes) -> str:
    """A small JPEG of the photo as a data: URI (uniform scale only, never cropped or flipped)."""
    with Image.open(io.BytesIO(jpeg)) as im:
        check_dimensions(*im.size)          # a hostile file's header: refused, never decoded
        rgb = im.convert("RGB")
        rgb.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def load_thumbs(folder: Path) -> dict[str, str]:
    try:
        doc = json.loads(read_regular(folder / THUMBS_CACHE, MAX_MANIFEST_BYTES).decode("utf-8"))
        return {k: v for k, v in doc.items()
                if isinstance(k, str) and isinstance(v, str) and v.startswith("data:image/jpeg")}
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}


def thumbs_json(thumbs: dict[str, str], keep: Iterable[str]) -> bytes:
    keep = set(keep)
    return json.dumps({k: v for k, v in thumbs.items() if k in keep}).encode("ascii")


def thumb_for(entry: Entry, folder: Path, thumbs: dict[str, str]) -> str | None:
    """The entry's thumbnail from the cache, or made from its file in ``folder``."""
    if entry.sha256 in thumbs:
        return thumbs[entry.sha256]
    try:
        uri = thumbnail_data_uri(read_regular(inside(folder, entry.file), MAX_PHOTO_BYTES))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        log.warning("no thumbnail for %s: %s", entry.file, exc)
        return None
    thumbs[entry.sha256] = uri
    return uri


_CSS = """
body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;
margin:16px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}
.meta{color:#555;margin-bottom:12px}
.grid{display:flex;flex-wrap:wrap;gap:12px}
.card{width:250px;background:#fff;border:2px solid #ccc;border-radius:6px;padding:8px;
box-sizing:border-box;font-size:13px}
.card img{display:block;width:150px;height:200px;margin:0 auto 6px;border:1px solid #ddd}
.card.warn{border-color:#e08a00;background:#fff4dc}
.card.fail{border-color:#c00;background:#ffe4e4}
.look .badge{background:#e08a00}
.card.look{border-color:#6a3fb5;background:#f1eaff}
.look-badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;background:#6a3fb5;
margin-left:4px;font-weight:bold}
ul.c{margin:4px 0 0 16px;padding:0;color:#4b2a86}
.name{font-size:17px;font-weight:bold}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;background:#2a8a2a}
.warn .badge{background:#e08a00}
.fail .badge{background:#c00}
ul.w{margin:4px 0 0 16px;padding:0;color:#8a4b00}
.hist,.sum{color:#666;font-size:12px}
.noimg{width:150px;height:200px;margin:0 auto 6px;background:#eee;display:flex;
align-items:center;justify-content:center;color:#c00}
"""


def render(entries: list[Entry], folder: Path, *, title: str, subtitle: str,
           thumbs: dict[str, str]) -> bytes:
    """The contact sheet for ``entries`` whose files are in ``folder``."""
    return b"".join(render_chunks(entries, folder, title=title, subtitle=subtitle,
                                  thumbs=thumbs))


def render_chunks(entries: list[Entry], folder: Path, *, title: str, subtitle: str,
                  thumbs: dict[str, str]) -> Iterator[bytes]:
    """:func:`render` one card at a time, for writing straight to the file: a batch of
    10,000 students is 74 MB of thumbnails, which need never be in memory as one page."""
    n_warn = sum(1 for e in entries if counts_as_warned(e))
    n_look = sum(1 for e in entries if e.needs_look)
    yield page_head(title=title, subtitle=subtitle, count=len(entries), n_warn=n_warn,
                    n_look=n_look)
    for e in entries:
        yield card(e, thumb_for(e, folder, thumbs)).encode("utf-8")
    yield PAGE_TAIL


PAGE_TAIL = b"</div></body></html>\n"


def counts_as_warned(e: Entry) -> bool:
    """The entry counts among the page's "with warnings"."""
    return e.verdict != "pass" or bool(e.warnings)


def page_head(*, title: str, subtitle: str, count: int, n_warn: int, n_look: int) -> bytes:
    """The page up to its first card (then the cards, then :data:`PAGE_TAIL`)."""
    esc = html.escape
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        f'<div class="meta">{esc(subtitle)} · 共 {count} 张 photos · '
        f"有警告 with warnings: {n_warn} · 需人工复核 needs a look: {n_look}</div>"
        '<div class="grid">').encode("utf-8")


def card(e: Entry, uri: str | None) -> str:
    """One student's card (``uri``: the thumbnail, None when there is none)."""
    esc = html.escape
    cls = "fail" if e.verdict == "fail" else ("look" if e.needs_look else (
        "warn" if e.verdict == "warn" or e.warnings else "pass"))
    img = (f'<img src="{esc(uri)}" alt="{esc(e.name)}">' if uri
           else '<div class="noimg">无照片 missing</div>')
    warnings = "".join(
        f'<li>{esc(str(c.get("id", "")))}: {esc(_msg(c, "zh"))} / {esc(_msg(c, "en"))}</li>'
        for c in e.warnings)
    hist = (f'<div class="hist">重拍 retakes: {len(e.history)}</div>' if e.history else "")
    look = (' <span class="look-badge">需人工复核 Needs a look</span>' if e.needs_look else "")
    confirmed = "".join(
        f'<li>{esc(str(c.get("id", "")))}: '
        f'{"例外 exception" if c.get("exception") else "学生已确认 confirmed by the student"}'
        f' {esc(str(c.get("at", "")))}<br>“{esc(str(c.get("zh", "")))} / '
        f'{esc(str(c.get("en", "")))}”</li>' for c in e.confirmed)
    unconfirmed = [w for w in e.needs_look if "not confirmed" in w]
    confirmed += "".join(f"<li>{esc(w)}</li>" for w in unconfirmed)
    backdrop = (f'<div>背景 backdrop: {esc(standard.BACKGROUND_NAMES_ZH[e.backdrop])} '
                f'{esc(e.backdrop)}</div>' if e.backdrop in standard.BACKGROUND_NAMES_ZH else "")
    n_pass = sum(1 for c in e.checks if c.get("status") == "pass")
    summary = (f'<div class="sum">检查 checks: {len(e.checks)} 项，通过 passed {n_pass}'
               f'，警告 warnings {len(e.warnings)}</div>' if e.checks else "")
    return (f'<div class="card {cls}">{img}'
            f'<div class="name">{esc(e.name)}</div>'
            f'<div>学号 {esc(e.student_id)}</div>'
            f'<div>身份证号 {esc(_masked(e.id_number))}</div>'
            f'<div>{esc(e.college)} {esc(e.class_name)}</div>'
            f'<div>文件 {esc(e.file)}</div>'
            f'<div>拍摄 {esc(e.captured_at)}</div>' + backdrop +
            f'<div><span class="badge">{esc(STATUS_TEXT.get(e.verdict, e.verdict))}</span>{look}</div>'
            + summary + (f'<ul class="c">{confirmed}</ul>' if confirmed else "")
            + (f'<ul class="w">{warnings}</ul>' if warnings else "") + hist + "</div>")


def _msg(check: dict, lang: str) -> str:
    msg = check.get("message")
    return str(msg.get(lang, "")) if isinstance(msg, dict) else ""


def _masked(id_number: str) -> str:
    try:
        return mask_id_number(id_number)
    except Exception:  # a damaged manifest must still render: show nothing rather than all
        return "*" * len(id_number)
