"""The engine's modules form layers: tracer at the bottom, rules above it, transforms
above them, instruments on top; no import cycles (read from the source with ``ast``,
imports inside functions included)."""

import ast
import importlib.util
import pathlib
import types

import pytest

import mini_autograd

PACKAGE = pathlib.Path(mini_autograd.__file__).parent
# Lower layers never import higher ones.  Modules not listed (the package's
# __init__, nn, plotting, widgets...) sit on top and only need to avoid cycles.
LAYERS = [
    {"tracer"},
    {"numpy", "numpy.ops", "numpy.linalg", "numpy.box_methods", "numpy._fallback",
     "numpy.random", "scipy", "scipy.special", "scipy.stats"},
    {"tree", "guards", "core", "differential_operators", "implicit", "ode"},
    {"cost", "graph", "checks"},
]
CORE = ["tracer", "core", "differential_operators", "tree"]


def _module_name(path):
    parts = ["mini_autograd", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module, path, node, modules):
    """The package modules one import statement names (`from . import numpy` names a
    module, `from .core import grad` names core)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
        if node.level else node.module
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
            for a in node.names} & modules


def _graph():
    """{module: the package modules it imports}, names without the "mini_autograd." prefix."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for module, path in paths.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported |= _imported(module, path, node, set(paths))
        graph[_short(module)] = {_short(m) for m in imported - {module}}
    return graph


def _short(module):
    return module.removeprefix("mini_autograd").removeprefix(".") or "__init__"


def _cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_import_graph_is_read_correctly():
    graph = _graph()
    assert graph["core"] >= {"tracer", "tree", "guards"}
    assert graph["tree"] == {"numpy", "tracer"}
    assert "numpy.ops" in graph["numpy.box_methods"]
    assert {"numpy", "core", "differential_operators", "tracer"} <= graph["__init__"]


def test_there_is_no_import_cycle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_a_cycle_would_be_found():  # the search itself works
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_tracer_imports_nothing_of_the_package():
    assert _graph()["tracer"] == set()


@pytest.mark.parametrize("level", range(len(LAYERS)))
def test_no_module_imports_a_higher_layer(level):
    graph = _graph()
    higher = set().union(*LAYERS[level + 1:], set(graph) - set().union(*LAYERS))
    for module in LAYERS[level]:
        assert not graph[module] & higher, (module, graph[module] & higher)


def test_the_core_reads_in_an_afternoon():
    lines = sum(len((PACKAGE / f"{m}.py").read_text().splitlines()) for m in CORE)
    assert lines < 900, f"tracer + core + differential_operators + tree: {lines} lines"


def test_all_lists_exactly_what_the_package_exports():
    public = {name for name, value in vars(mini_autograd).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(mini_autograd.__all__) == public
