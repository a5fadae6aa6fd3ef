"""The documentation: API pages generated from the docstrings cover every public module and build.

The API reference (docs/api/*.md) holds mkdocstrings directives (``::: sim.phase``);
``mkdocs build --strict`` renders them from the docstrings, so the pages cannot drift from the
code. This test fails when a public module has no directive, when a directive names a module
that does not exist, when a model has no document, or when the build breaks.
"""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sim.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _directives():
    out = set()
    for page in API.glob("*.md"):
        out |= set(re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), flags=re.M))
    return out


def _public_modules():
    """Modules a user imports: layer-level modules and packages, not a package's internals."""
    mods = set()
    for layer in ("theory", "theory/symbolic", "sim", "validation", "gpu/check"):
        base = ROOT / layer
        dotted = layer.replace("/", ".")
        for p in base.iterdir():
            name = p.stem if p.is_file() else p.name
            if name.startswith("_") or (p.is_file() and p.suffix != ".py"):
                continue
            if p.is_dir() and not (p / "__init__.py").exists():
                continue
            mods.add(f"{dotted}.{name}")
    mods.discard("theory.symbolic")
    return mods


def test_every_public_module_has_an_api_page():
    missing = sorted(_public_modules() - _directives())
    assert missing == []


def test_every_directive_names_a_module():
    assert not [m for m in _directives() if importlib.util.find_spec(m) is None]


def test_every_model_has_its_document_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    for name in MODELS:
        assert (ROOT / "docs" / "models" / f"{name}.md").exists()
        assert f"models/{name}.md" in nav


def test_no_hand_written_api_lists_remain():
    assert list((ROOT / "docs").glob("*-theory-api.md")) == []


def test_the_documentation_builds_strictly(tmp_path):
    mkdocs = shutil.which("mkdocs")
    cmd = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    proc = subprocess.run([*cmd, "build", "--strict", "--quiet", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    page = (tmp_path / "api" / "sim" / "index.html").read_text()
    assert "sim.phase.simulate" in page
