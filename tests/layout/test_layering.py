"""The package layout: stages import downwards only, no import cycles, modules of a readable size.

Reads every module of ``seeice/`` with :mod:`ast`, lazy imports inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "seeice"

#: Rank of each part of the library: a module may import its own part or a lower-ranked one.
#: The top-level modules (errors, classes, normalise, defaults, checks) are the base.
RANKS = {
    "base": 0,
    "schemes": 0,   # package data
    "io": 1,
    "config": 2,
    "products": 2,  # Sentinel-2 products in: composites, labels from vector files
    "metrics": 3,
    "fronts": 3,
    "datasets": 3,
    "phase1": 4,
    "phase2": 5,
    "pipeline": 6,
    "results": 7,
    "sweeps": 8,
    "entry": 9,     # seeice/synthetic.py: the documented ``python -m seeice.synthetic``
}
ENTRY_MODULES = {"seeice.synthetic"}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    if module in ENTRY_MODULES:
        return "entry"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in RANKS:
        return parts[1]
    return "base"


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Library modules imported anywhere in the file (top level or inside functions)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in known and name != "seeice":
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(p, m, known) - {m} for m, p in modules.items()}


def test_every_part_has_a_rank():
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= set(RANKS), f"sub-packages without a rank: {sorted(parts - set(RANKS))}"


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for module, targets in _graph().items():
        for target in targets:
            src, dst = _part(module), _part(target)
            if src != dst and RANKS[dst] >= RANKS[src]:
                wrong.append(f"{module} ({src}) imports {target} ({dst})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_size(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines; split it by topic"


def test_the_checker_sees_a_violation(tmp_path):
    """The rules above catch an upward import and a cycle (guards the checker itself)."""
    assert RANKS[_part("seeice.io.raster")] < RANKS[_part("seeice.pipeline.csc")]
    fake = tmp_path / "seeice" / "io"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from seeice.pipeline.csc import run_csc\n"
                                 "def f():\n    from ..results import runs\n")
    known = {"seeice.pipeline.csc", "seeice.results.runs", "seeice.results"}
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "seeice"
    try:
        found = _imports(fake / "bad.py", "seeice.io.bad", known)
    finally:
        PACKAGE = saved
    assert found == {"seeice.pipeline.csc", "seeice.results.runs", "seeice.results"}
