"""book_tools, the book's helper package, and its boundary with the engine.

The engine (mini_autograd) must not depend on the book: importing it and every
submodule loads none of autograd, ipywidgets, IPython or matplotlib (matplotlib only
when a graph is drawn).  The helpers every chapter relies on are tested here on cases
where the answer is known, and each check is shown to fail when it should.
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK_ONLY = ("autograd", "ipywidgets", "IPython", "matplotlib")

pytest.importorskip("autograd")

import book_tools
from book_tools import (
    CHECKS,
    adam,
    assert_same,
    best_time,
    central_differences,
    grad_both,
    jacobian_both,
    leaves,
    nn_for,
)


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --------------------------------------------------------------------------- the boundary

def test_importing_the_engine_loads_no_book_library():
    out = _run(
        "import importlib, pkgutil, sys\n"
        "import mini_autograd\n"
        "for m in pkgutil.walk_packages(mini_autograd.__path__, 'mini_autograd.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in {BOOK_ONLY!r} if n in sys.modules))\n"
        "print(len([m for m in sys.modules if m.startswith('mini_autograd')]))")
    loaded, n_modules = out.splitlines()
    assert loaded == "[]", f"importing mini_autograd loaded {loaded}"
    assert int(n_modules) > 10      # the walk really imported the submodules


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node, [node.module]


def test_the_engine_source_imports_book_libraries_only_in_graph_drawing():
    """Statically, so that an import inside a function nobody called is caught too."""
    offenders = []
    for path in sorted((ROOT / "mini_autograd").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree)
                   for child in ast.iter_child_nodes(node)}
        for node, names in _imports(tree):
            for name in names:
                if name.split(".")[0] not in BOOK_ONLY:
                    continue
                scope = node
                while scope in parents and not isinstance(scope, ast.FunctionDef):
                    scope = parents[scope]
                lazy_drawing = (path.name == "graph.py" and isinstance(scope, ast.FunctionDef)
                                and name.split(".")[0] == "matplotlib")
                if not lazy_drawing:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not offenders, offenders


def test_book_tools_loads_no_drawing_library_until_something_is_drawn():
    out = _run("import sys, book_tools, book_tools.widgets.chain_rule, "
               "book_tools.widgets.convolution, book_tools.widgets.softmax\n"
               "print(sorted(n for n in ('ipywidgets', 'IPython', 'matplotlib') "
               "if n in sys.modules))")
    assert out.strip() == "[]"


def test_widget_computations_run_without_ipywidgets_matplotlib_or_ipython():
    # None in sys.modules makes `import ipywidgets` raise ImportError, as if absent
    out = _run(
        "import sys\n"
        "for name in ('ipywidgets', 'matplotlib', 'IPython'):\n"
        "    sys.modules[name] = None\n"
        "from book_tools.widgets import chain_rule, convolution, softmax\n"
        "r = chain_rule.chain_rule_report(x=1.0, u=(1.0, -1.0), v=(1.0, -0.5))\n"
        "s = softmax.softmax_report([0.3, -1.0, 2.0, 0.0], 1, 2.0)\n"
        "c = convolution.forward_contributions(7, 3, 2, 1, 1)\n"
        "print(r['max_discrepancy'] < 1e-12, s['max_discrepancy'] < 1e-9, len(c))\n"
        "try:\n"
        "    softmax.build_widget()\n"
        "except ImportError:\n"
        "    print('widget needs ipywidgets')\n")
    assert out.split() == ["True", "True", "3", "widget", "needs", "ipywidgets"]


def test_widget_tests_skip_only_the_ui_without_ipywidgets():
    out = _run(
        "import sys\n"
        "sys.modules['ipywidgets'] = None\n"
        "import pytest\n"
        "class Count:\n"
        "    def __init__(self): self.passed, self.skipped, self.failed = [], [], []\n"
        "    def pytest_runtest_logreport(self, report):\n"
        "        if report.when == 'call' and report.passed: self.passed.append(report.nodeid)\n"
        "        if report.skipped: self.skipped.append(report.nodeid)\n"
        "        if report.failed: self.failed.append(report.nodeid)\n"
        "c = Count()\n"
        "pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist', '-k',\n"
        "             'not fallback and not drawing_every',\n"
        "             'tests/test_widget_chain_rule.py', 'tests/test_widget_softmax.py',\n"
        "             'tests/test_widget_convolution.py'], plugins=[c])\n"
        "print(len(c.passed), len(c.skipped), len(c.failed))\n"
        "print(' '.join(c.skipped))\n")
    counts, skipped = out.strip().splitlines()[-2:]
    passed, n_skipped, failed = map(int, counts.split())
    assert failed == 0 and passed >= 20 and n_skipped >= 5, out
    for nodeid in skipped.split():
        assert "widget" in nodeid or "slider" in nodeid or "control" in nodeid \
            or "moving" in nodeid or "ui" in nodeid, nodeid


# --------------------------------------------------------------------------- assert_same

def test_assert_same_accepts_rounding_and_counts():
    before = CHECKS.count
    a = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": [np.float64(0.5), np.zeros(3)]}
    b = {"b": (0.5 + 1e-15, np.zeros(3)), "W": a["W"] * (1 + 1e-12)}
    assert_same(a, b)
    assert CHECKS.count == before + 1


def test_assert_same_compares_relative_to_the_largest_entry():
    big_and_small = np.array([1e6, 1e-3])
    nearby = big_and_small + np.array([0.0, 1e-4])  # 10% off the small entry, 1e-10 of max
    assert_same(nearby, big_and_small)
    with pytest.raises(AssertionError):
        assert_same(nearby, big_and_small, atol=0)   # entry by entry, relative only


def test_assert_same_names_what_differs_and_by_how_much():
    ours = {"W": np.array([[1.0, 2.0], [3.0, 4.5]]), "b": np.zeros(2)}
    theirs = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.zeros(2)}
    with pytest.raises(AssertionError) as err:
        assert_same(ours, theirs)
    message = str(err.value)
    for part in ("gradient['W']", "1 of 4 entries", "largest difference 0.5",
                 "index (1, 1)", "ours 4.5", "theirs 4"):
        assert part in message, (part, message)


@pytest.mark.parametrize("ours, theirs, expect", [
    ([np.ones(2)], [np.ones(2), np.ones(2)], "different structures"),
    ({"a": 1.0}, {"b": 1.0}, "different structures"),
    (np.ones(3), np.ones((3, 1)), "has shape (3,), expected (3, 1)"),
    (np.array([np.nan]), np.array([1.0]), "differs in 1 of 1"),
    (np.array([np.inf]), np.array([-np.inf]), "differs in 1 of 1"),
])
def test_assert_same_refuses(ours, theirs, expect):
    with pytest.raises(AssertionError, match=expect.replace("(", r"\(").replace(")", r"\)")):
        assert_same(ours, theirs)


def test_assert_same_treats_equal_specials_as_equal():
    assert_same(np.array([np.nan, np.inf, 0.0]), np.array([np.nan, np.inf, -0.0]))


def test_leaves_order_dicts_by_key():
    assert [float(x) for x in leaves({"b": 2.0, "a": [1.0, (3.0,)]})] == [1.0, 3.0, 2.0]


# --------------------------------------------------------------------------- both engines

def _cubic(np_, x, w):
    return np_.sum(w * x ** 3)


def test_grad_both_returns_the_engines_gradient():
    x, w = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    np.testing.assert_allclose(grad_both(_cubic, x, w), 3 * w * x ** 2)
    np.testing.assert_allclose(grad_both(_cubic, x, w, argnum=1), x ** 3)


def test_grad_both_fails_when_the_engines_disagree(monkeypatch):
    import mini_autograd
    right = mini_autograd.grad
    wrong = lambda f, argnum=0: lambda *a: 1.01 * right(f, argnum)(*a)
    monkeypatch.setattr(book_tools.referee.mini_autograd, "grad", wrong)
    with pytest.raises(AssertionError, match="differs"):
        grad_both(_cubic, np.array([1.0, -2.0]), np.array([0.5, 3.0]))


def test_jacobian_both_on_a_batched_layer():
    W = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    layer = lambda np_, x: np_.tanh(x @ W.T)
    x = np.array([0.1, 0.2, -0.3])
    expected = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(jacobian_both(layer, x), expected, rtol=1e-12)


def test_nn_for_gives_the_same_layer_on_every_numpy():
    import autograd.numpy as anp

    import mini_autograd.numpy as mnp
    z = np.array([-1.0, 0.0, 2.0])
    for np_ in (np, anp, mnp):
        np.testing.assert_array_equal(nn_for(np_).relu(z), [0.0, 0.0, 2.0])
    with pytest.raises(TypeError, match="nn_for: expected"):
        nn_for(pkgutil)


# --------------------------------------------------------------------------- the rest

def test_central_differences_on_containers():
    f = lambda p: p["a"] ** 2 * p["b"][0] + np.sum(p["b"][1] ** 3)
    p = {"a": 1.5, "b": [2.0, np.array([1.0, -1.0])]}
    g = central_differences(f, p)
    assert set(g) == {"a", "b"} and isinstance(g["b"], list)
    np.testing.assert_allclose(g["a"], 2 * 1.5 * 2.0, rtol=1e-8)
    np.testing.assert_allclose(g["b"][0], 1.5 ** 2, rtol=1e-8)
    np.testing.assert_allclose(g["b"][1], [3.0, 3.0], rtol=1e-8)
    assert p["a"] == 1.5 and p["b"][1][0] == 1.0          # inputs untouched


def test_central_differences_error_is_second_order():
    f = lambda x: np.sum(np.sin(x))
    x = np.array([0.3, 1.1])
    errors = [np.max(np.abs(central_differences(f, x, eps) - np.cos(x)))
              for eps in (1e-2, 1e-3)]
    assert 50 < errors[0] / errors[1] < 200                 # eps / 10 -> error / 100


def test_adam_minimises_a_quadratic_in_a_dict():
    target = {"w": np.array([1.0, -2.0]), "b": 3.0}
    loss = lambda p: sum(np.sum((p[k] - target[k]) ** 2) for k in p)
    value_and_grad = lambda p: (loss(p), {k: 2 * (p[k] - target[k]) for k in p})
    seen = []
    start = {"w": np.zeros(2), "b": 0.0}
    params, losses = adam(value_and_grad, start, steps=2000, lr=0.05,
                          callback=lambda step, p, g: seen.append(step))
    assert seen == list(range(2000)) and losses.shape == (2000,)
    assert losses[-1] < 1e-8 < losses[0]
    np.testing.assert_allclose(params["w"], target["w"], atol=1e-4)
    assert start["b"] == 0.0 and np.all(start["w"] == 0)    # not modified


def test_adam_first_step_moves_every_parameter_by_lr():
    # m / sqrt(v) = g / |g| after bias correction: the step ignores the gradient's scale
    params, _ = adam(lambda p: (0.0, [np.array([1e-3, -1e6])]), [np.zeros(2)], 1, lr=0.1)
    np.testing.assert_allclose(params[0], [-0.1, 0.1], rtol=1e-4)


def test_best_time_is_the_minimum():
    calls = []
    assert best_time(calls.append, 1, repeat=3) >= 0 and calls == [1, 1, 1]
