"""The backward-pass stepper (book_tools/widgets/backward_stepper.py).

The topological order must agree with both engines on every graph; each naive order
must fail exactly where a shared node is visited before one of its consumers, and the
tests say which node and by how much, from the graph's own formula; the steps, the
widget's controls and the fallback must cover their whole range.
"""

import math

import pytest

pytest.importorskip("autograd")

from book_tools.widgets import backward_stepper as bs

SETTINGS = [(g, o, acc) for g in bs.GRAPHS for o in bs.ORDERS for acc in (True, False)]


@pytest.mark.parametrize("graph, order, accumulate", SETTINGS)
def test_every_setting_visits_every_node_once_and_every_step_is_recorded(
        graph, order, accumulate):
    r = bs.stepper_report(graph, order, accumulate)
    assert sorted(r["visits"]) == sorted(r["names"]) and r["visits"][0] == "L"
    assert len(r["grads"]) == bs.n_steps(graph) + 1
    assert r["grads"][0] == {n: float(n == "L") for n in r["names"]}   # the seed
    for step in range(len(r["grads"])):
        assert bs.step_summary(r, step).startswith(f"step {step}")
    # a step changes the visited node's parents only
    for k, name in enumerate(r["visits"], start=1):
        changed = {n for n in r["names"] if r["grads"][k][n] != r["grads"][k - 1][n]}
        assert changed <= set(r["parents"][r["names"].index(name)])
    with pytest.raises(ValueError, match="step"):
        bs.step_summary(r, len(r["grads"]))


@pytest.mark.parametrize("graph", list(bs.GRAPHS))
def test_the_topological_order_agrees_with_both_engines_and_loses_nothing(graph):
    r = bs.stepper_report(graph, "topological")
    # the same local derivatives, multiplied and added in the same order as autograd's
    # VJPs do it: equal to the last bit (pinned autograd 1.9.1); mini_autograd rounds
    # one product differently on the diamond, hence the relative tolerance below
    assert r["final"] == r["reference"]["autograd"]
    for engine in bs.ENGINES:
        for got, want in zip(r["final"], r["reference"][engine]):
            assert math.isclose(got, want, rel_tol=1e-12), (engine, got, want)
    assert r["correct"] and all(v == 0.0 for v in r["late"].values())
    # every node is visited after all of its consumers
    position = {n: i for i, n in enumerate(r["visits"])}
    for name, parents in zip(r["names"], r["parents"]):
        assert all(position[p] > position[name] for p in parents)


X0 = bs.GRAPHS["shared"][1][0]


def test_shared_graph_both_naive_orders_visit_a_before_its_product_consumer():
    """L = a + a x, a = e^x: a is visited with dL/da = 1 from the sum only; the product
    adds x afterwards, which never reaches x, so dL/dx = 2 e^x instead of e^x (2 + x)."""
    for order in ("depth-first", "breadth-first"):
        r = bs.stepper_report("shared", order)
        assert r["visits"].index("a") < r["visits"].index("m")
        assert r["passed_on"]["a"] == 1.0
        assert r["late"]["a"] == pytest.approx(X0, rel=1e-15)          # dm/da = x
        assert r["final"][0] == pytest.approx(2 * math.exp(X0), rel=1e-15)
        assert r["reference"]["autograd"][0] == pytest.approx(math.exp(X0) * (2 + X0))
        assert not r["correct"]


def test_diamond_depth_first_is_wrong_breadth_first_is_right():
    """L = b c with b, c both made from a: depth-first goes L, b, a before c, so a
    misses c's contribution dL/dc * dc/da = b e^a; breadth-first sees b and c (one level)
    before a."""
    dfs = bs.stepper_report("diamond", "depth-first")
    data = dict(zip(dfs["names"], dfs["data"]))
    assert dfs["visits"].index("a") < dfs["visits"].index("c")
    assert dfs["late"]["a"] == pytest.approx(data["b"] * data["c"], rel=1e-12)
    assert not dfs["correct"]
    assert bs.stepper_report("diamond", "breadth-first")["correct"]


def test_skip_breadth_first_is_wrong_depth_first_is_right():
    """L = tanh(tanh(a)) + a: breadth-first reaches a at level 1, through the skip,
    before the long path has brought tanh's contribution; depth-first follows the long
    path first (L's first parent), so a is complete when it is reached."""
    bfs = bs.stepper_report("skip", "breadth-first")
    data = dict(zip(bfs["names"], bfs["data"]))
    assert bfs["visits"].index("a") < bfs["visits"].index("b")
    assert bfs["passed_on"]["a"] == 1.0                     # the skip's contribution only
    assert bfs["late"]["a"] == pytest.approx(
        (1 - data["c"] ** 2) * (1 - data["b"] ** 2), rel=1e-12)   # through c and b
    assert not bfs["correct"]
    assert bs.stepper_report("skip", "depth-first")["correct"]


def test_assignment_instead_of_accumulation_keeps_the_last_contribution_only():
    """Topological order, shared graph: the sum sets dL/da = 1, then m overwrites it with
    x, and a overwrites dL/dx (e^x from m) with e^x * x: x e^x instead of e^x (2 + x)."""
    r = bs.stepper_report("shared", "topological", accumulate=False)
    assert r["visits"] == ["L", "m", "a", "x"]
    assert r["passed_on"]["a"] == X0
    assert r["final"][0] == pytest.approx(X0 * math.exp(X0), rel=1e-15)
    assert not r["correct"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"graph": "tree"}, ValueError, "graph"), ({"order": "random"}, ValueError, "order"),
    ({"accumulate": 1}, TypeError, "accumulate"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, error, message):
    with pytest.raises(error, match=message):
        bs.stepper_report(**kwargs)


def test_recording_refuses_a_plain_number():
    m = bs._Recorder()
    x = bs._Node(m.tape, 1.0)
    with pytest.raises(TypeError, match="recorded nodes only"):
        x * 2.0


def test_the_alt_text_says_what_the_picture_shows():
    r = bs.stepper_report("shared", "depth-first")
    alt = bs.alt_text(r, 2)
    assert "visit a with gradient +1.000" in alt and "differ from autograd" in alt
    assert len(alt.split()) >= 10
    assert "agree with autograd" in bs.alt_text(bs.stepper_report("shared"), 4)
    assert bs.picture_html(r, 0).startswith('<img alt="Graph')


def test_the_widget_reacts_to_every_control_and_the_step_range_follows_the_graph():
    pytest.importorskip("ipywidgets")
    ui = bs.build_widget()
    seen = {ui.panel.value}
    ui.order.value = "topological"
    assert ui.report()["order"] == "topological"
    seen.add(ui.panel.value)
    ui.accumulate.value = False
    assert ui.report()["accumulate"] is False
    seen.add(ui.panel.value)
    ui.step.value = 1
    seen.add(ui.panel.value)
    others = list(bs.GRAPHS)[1:]                 # the widget opens on the first graph
    for graph in others:
        ui.graph.value = graph
        assert ui.report()["graph"] == graph and ui.step.max == bs.n_steps(graph)
        ui.step.value = ui.step.max
        seen.add(ui.panel.value)
    assert len(seen) == 4 + len(others)
    with pytest.raises(ValueError, match="step"):
        bs.build_widget(step=99)


def test_the_fallback_is_deterministic_and_checks_the_correct_order(monkeypatch):
    pytest.importorskip("IPython")
    first = bs.build_fallback().data
    assert first == bs.build_fallback().data
    assert first.count("data:image/png;base64") == bs.n_steps("shared")     # one per visit
    with pytest.raises(ValueError, match="wrong_order"):
        bs.build_fallback(wrong_order="topological")
    # a topological sort that is not one (the depth-first order) must be caught
    real = bs.visit_order
    monkeypatch.setattr(bs, "visit_order", lambda root, order: real(root, "depth-first"))
    with pytest.raises(AssertionError, match="disagrees"):
        bs.build_fallback()
