"""The package's layers only point down: a module imports its own
subpackage and the layers below it, never a peer or anything above (function-
level imports included). Adding a subpackage means placing it here."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'lsmmocr'

# Bottom to top. Primitives first; what registers and runs post-tuning on top.
LAYERS = (
    ('version', 'compat', 'utils', 'edit_distance', 'registry'),  # no lsmmocr imports
    ('datasets', 'textdet', 'energy'),  # data, detector parts, E_ψ
    ('surrogates', ),  # h_Φ, metric spaces, tasks, pairs, checkpoints
    ('ranking', ),  # soft rank, SoDeep sorter
    ('losses', 'metrics'),  # module losses; evaluators
    ('hooks', ),  # the hooks that train attached networks
    ('engine', ),  # runner, loops, CPU speed-ups, config → task
    ('diagnostics', 'visualization'),  # instruments, plots
    ('experiments', 'cli'),  # the main job; the tools' entry
    ('__main__', ),  # python -m lsmmocr
)
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def unit_of(parts) -> str:
    """The layer unit of a module path inside lsmmocr (``('hooks', 'x')``)."""
    return parts[0].removesuffix('.py')


def imported_units(path: Path):
    """``(line, unit)`` of every lsmmocr import in ``path``."""
    rel = path.relative_to(PACKAGE).parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(rel[:-1])[:len(rel) - node.level]
            target = base + (node.module.split('.') if node.module else [])
            if target:
                yield node.lineno, unit_of(target)
            else:  # ``from . import x`` at the top
                yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ''])
            for name in names:
                parts = name.split('.')
                if parts[0] == 'lsmmocr' and len(parts) > 1:
                    yield node.lineno, parts[1]


MODULES = sorted(p for p in PACKAGE.rglob('*.py') if p.name != '__init__.py'
                 or p.parent != PACKAGE)


def test_every_unit_has_a_layer():
    units = {unit_of(p.relative_to(PACKAGE).parts) for p in MODULES}
    assert units - set(LAYER) == set(), 'place new subpackages in LAYERS'


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_point_down(path):
    own = unit_of(path.relative_to(PACKAGE).parts)
    climbing = [f'line {line}: {own} imports {unit}'
                for line, unit in imported_units(path)
                if unit != own and LAYER[unit] >= LAYER[own]]
    assert not climbing, '; '.join(climbing)


def test_a_climbing_import_is_caught(tmp_path, monkeypatch):
    """The checker itself: an import of a higher layer is reported."""
    bad = PACKAGE / 'surrogates' / '_climb_probe.py'
    monkeypatch.setattr(Path, 'read_text',
                        lambda self: 'from ..hooks import x\nfrom . import y\n')
    assert [u for _, u in imported_units(bad)] == ['hooks', 'surrogates']
