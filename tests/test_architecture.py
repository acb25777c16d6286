"""The layout's boundaries, enforced: import-linter's contracts in pyproject.toml
([tool.importlinter], README "Architecture") hold for the whole tree, and the same checker
does fail on a package that breaks such a contract (so the first test can fail)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def lint(config: Path, cwd: Path) -> int:
    """import-linter's exit status (0: every contract kept) for ``config``, run from ``cwd``."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    finally:
        os.chdir(old)


def test_the_projects_import_contracts_are_kept(capsys):
    status = lint(ROOT / "pyproject.toml", ROOT)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "4 kept, 0 broken" in out            # every contract was checked, none skipped


def test_the_checker_catches_a_broken_contract(tmp_path, monkeypatch, capsys):
    """An engine module that imports the booth lazily, through a helper module: a forbidden
    import two steps away, inside a function, is still found."""
    pkg = tmp_path / "booth_like"
    for name, body in {
        "__init__.py": "",
        "photo/__init__.py": "",
        "photo/engine.py": "def build():\n    from booth_like.photo import helper\n",
        "photo/helper.py": "def screen():\n    import booth_like.booth.loop\n",
        "booth/__init__.py": "",
        "booth/loop.py": "",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(body)
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_packages = ["booth_like"]

        [[tool.importlinter.contracts]]
        name = "photo knows nothing of the booth"
        type = "forbidden"
        source_modules = ["booth_like.photo"]
        forbidden_modules = ["booth_like.booth"]
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert lint(config, tmp_path) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out and "booth_like.photo.helper -> booth_like.booth.loop" in out


def test_the_readme_layout_names_every_part_of_the_tree():
    """The layout block of the README's architecture section and the tree agree."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture"):readme.index("### Dependencies")]
    block = section[section.index("```\nkiosk/photo"):]
    block = block[:block.index("```", 4)]
    named = {word.rstrip("/") for line in block.splitlines() for word in line.split()
             if word.startswith(("kiosk/", "hardware"))}
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "kiosk").glob("*/__init__.py")}
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "kiosk").glob("*.py")
               if p.name not in ("__init__.py", "__main__.py")}
    assert packages | {"hardware"} <= named, packages - named
    assert modules <= named, modules - named
    for name in named:
        assert (ROOT / name).exists() or (ROOT / f"{name}.py").exists(), name
