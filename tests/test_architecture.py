"""The shape of the tree: imports go down, no backend selection, no references outside it, lint.

* Layers: ``theory`` <- ``sim`` <- ``validation`` <- ``gpu``. A module may import
  its own layer and the layers below, never a layer above, and the module
  import graph (every ``import`` statement, at module level or inside a
  function) has no circle.
* No library code selects a matplotlib backend.
* Code, help texts and documents cite the project's own ``docs/models/*.md``
  or the papers, never documents outside the repository.
* The tree is clean under ruff, with the configuration in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("theory", "sim", "validation", "gpu")


def _modules():
    """``{dotted name: path}`` of every module of the four layers."""
    out = {}
    for top in LAYERS:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name):
    """The longest registered module that ``name`` names or lies inside, or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(mod, path):
    """Internal modules imported anywhere in ``path`` (module ``mod``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                t = _resolve(a.name)
                if t:
                    found.add(t)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for a in node.names:
                t = _resolve(f"{src}.{a.name}") if f"{src}.{a.name}" in MODULES else _resolve(src)
                if t:
                    found.add(t)
    found.discard(mod)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(mod):
    return LAYERS.index(mod.split(".")[0])


def test_the_tree_has_the_four_layers():
    assert {m.split(".")[0] for m in MODULES} == set(LAYERS)
    assert len(MODULES) > 20


def test_imports_only_go_down():
    upward = sorted(f"{m} imports {t}" for m, ts in GRAPH.items() for t in ts
                    if _layer(t) > _layer(m))
    assert upward == []


def test_the_import_graph_has_no_circle():
    # Tarjan's strongly connected components; any component of size > 1 is a circle.
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert comps == []


def test_the_graph_sees_imports_inside_functions():
    # The checker must see lazy imports, or it could not find the circles it exists for.
    src = "def f():\n    from sim import registry\n    import theory._params\n"
    tmp = ROOT / "sim" / "_arch_probe.py"
    assert not tmp.exists()
    try:
        tmp.write_text(src)
        MODULES["sim._arch_probe"] = tmp
        assert _imports("sim._arch_probe", tmp) == {"sim.registry", "theory._params"}
    finally:
        MODULES.pop("sim._arch_probe", None)
        tmp.unlink()


def _library_files():
    return [p for p in MODULES.values()]


def test_no_library_code_selects_a_matplotlib_backend():
    bad = [str(p.relative_to(ROOT)) for p in _library_files()
           if re.search(r"matplotlib\.use\s*\(|pyplot\.switch_backend|plt\.switch_backend",
                        p.read_text())]
    assert bad == []


# References to documents that are not in the repository: the background
# specifications' section numbers, their file names and their item labels.
_OUTSIDE = [
    re.compile(r"(?i)\bspecs?\b\s*(?:§|\d|table\b|section\b|tables\b)"),
    re.compile(r"(?i)\b(?:the|this|our|a)\s+spec\b(?!ial|ific|ify)"),
    re.compile(r"specs/|\.\./shared|shared/specs|DESIGN\.md"),
    re.compile(r"§"),
    re.compile(r"\b(?:A(?:1[0-5]|[1-9])|BM[1-5]|BT[1-4]|BV[1-9]|DU[1-9]|MC(?:1[0-9]|20|[1-9])"
               r"|D[1-8]|T[12]|S[1-4]|P[12])\b"),
]


def _text_files():
    files = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".toml",
                                                                          ".cfg", ".yml", ".yaml")]
    skip = {".git", "runs", "site", "build", ".venv", "node_modules"}
    return [p for p in files if not (set(p.relative_to(ROOT).parts) & skip)
            and p.name != "test_architecture.py"]


def test_no_reference_to_documents_outside_the_repository():
    hits = []
    for p in _text_files():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            for pat in _OUTSIDE:
                m = pat.search(line)
                if m:
                    hits.append(f"{p.relative_to(ROOT)}:{n}: {m.group(0)!r}: {line.strip()[:90]}")
                    break
    assert hits == [], f"{len(hits)} references:\n" + "\n".join(hits[:60])


def test_the_reference_patterns_catch_what_they_are_for():
    caught = ["see spec 2.5", "(spec §3)", "specs/phase.md", "the open choice A9",
              "Eq. T1 of", "the spec says", "MC16 table", "BV9"]
    allowed = ["SweepSpec", "a special case", "specific heat", "color='C1'", "E3 of the paper",
               "Thm 4", "Eq. (6)", "docs/models/phase.md (12)", "A100 GPU"]
    assert all(any(p.search(t) for p in _OUTSIDE) for t in caught)
    assert not [t for t in allowed if any(p.search(t) for p in _OUTSIDE)]


def test_the_tree_is_clean_under_ruff():
    ruff = [shutil.which("ruff")] if shutil.which("ruff") else [sys.executable, "-m", "ruff"]
    proc = subprocess.run([*ruff, "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
