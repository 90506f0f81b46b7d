"""The layering of docs/architecture.md, checked on the source: the kernel (floss.core,
floss.rnn) imports no family, no family imports another, nothing imports another package's
underscore names, modules form no import cycle, files stay short, and nothing in the
repository points at a file outside it."""

import ast
import re
from pathlib import Path

import pytest

from floss import families

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "floss"
TOP = {"floss", "floss.cli", "floss.families", "floss.__main__"}  # may see every family


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def imported(mod: str, path: Path) -> set[tuple[str, str | None]]:
    """(module, name) pairs `mod` imports from floss; name None for `import x`."""
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {(a.name, None) for a in node.names if a.name.startswith("floss")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            if base.startswith("floss"):
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    out.add((sub, None) if sub in MODULES else (base, a.name))
    return out


def owner(mod: str) -> str:
    while mod not in MODULES and "." in mod:
        mod = mod.rpartition(".")[0]
    return mod


def family(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in families.FAMILIES else None


EDGES = {m: {(owner(t), n) for t, n in imported(m, p)} for m, p in MODULES.items()}


def test_kernel_imports_no_family_and_families_no_sibling():
    bad = []
    for mod, targets in EDGES.items():
        for target, _ in targets:
            fam, tfam = family(mod), family(target)
            if tfam and mod not in TOP and fam != tfam:
                bad.append(f"{mod} -> {target}")
    assert bad == []


def test_no_private_names_across_packages():
    bad = []
    for mod, targets in EDGES.items():
        here = mod if MODULES[mod].name == "__init__.py" else mod.rpartition(".")[0]
        for target, name in targets:
            there = target if MODULES[target].name == "__init__.py" else target.rpartition(".")[0]
            if name and name.startswith("_") and not name.startswith("__") and here != there:
                bad.append(f"{mod} imports {target}.{name}")
    assert bad == []


def test_no_import_cycles():
    graph = {
        m: {
            t
            for t, _ in ts
            if t != m and not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))
        }
        for m, ts in EDGES.items()
    }
    state: dict[str, int] = {}

    def visit(m, trail):
        if state.get(m) == 1:
            pytest.fail("import cycle: " + " -> ".join(trail[trail.index(m) :] + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            visit(t, trail + [m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])


def test_files_are_short():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_no_reference_outside_the_repository():
    pattern = re.compile(r"SPEC(\.md| §)|notes-(hessian|gait)\.md|\.\./shared")
    paths = [ROOT / "README.md", ROOT / "Snakefile", ROOT / "config.yaml"]
    for top in ("floss", "workflow", "docs", "config", "tests", "profiles"):
        paths += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix != ".pyc"]
    hits = [
        str(p.relative_to(ROOT))
        for p in paths
        if p != Path(__file__) and pattern.search(p.read_text(errors="ignore"))
    ]
    assert hits == []
