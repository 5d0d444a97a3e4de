"""Misuse found by probing the engine as a hostile user would (issue 7, section 1).

Each case gets either the right value (checked against autograd where autograd has
the feature, otherwise against a closed form) or an error that says what was expected
and what was given.  Before the fixes, every one of them returned a wrong number, a
function object, or an error that named none of the user's code.
"""

import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest

import mini_autograd.numpy as mnp
from mini_autograd import (elementwise_grad, grad, hessian, hessian_vector_product,
                           jacobian, jacobian_fwd, make_jvp, make_vjp, primitive,
                           value_and_grad)
from mini_autograd.checks import check_grads
from mini_autograd.cost import CostMeter

V2 = onp.array([0.3, -1.2])
PARAMS = {"a": 0.7, "b": onp.array([0.5, -2.0])}


# ---- tangents and cotangents are matched by structure, not by position ------------------

def _dict_fun(np):
    return lambda d: d["a"] * 2.0 + np.sum(np.sin(d["b"])) * 3.0


def test_dict_tangent_in_another_key_order_is_paired_by_key():
    tangent = {"b": onp.array([1.0, 1.0]), "a": 5.0}  # keys in the other order
    ours = make_jvp(_dict_fun(mnp))(PARAMS)(tangent)[1]
    theirs = autograd.make_jvp(_dict_fun(anp))(PARAMS)(tangent)[1]
    want = 5.0 * 2.0 + 3.0 * onp.sum(onp.cos(PARAMS["b"]))
    onp.testing.assert_allclose(ours, theirs, rtol=1e-12)
    onp.testing.assert_allclose(ours, want, rtol=1e-12)


def test_dict_cotangent_in_another_key_order_is_paired_by_key():
    vjp, _ = make_vjp(lambda d: {"a": d["a"] * 2.0, "b": d["b"] * 3.0})(PARAMS)
    got = vjp({"b": onp.array([1.0, 10.0]), "a": 5.0})
    onp.testing.assert_allclose(got["a"], 10.0)
    onp.testing.assert_allclose(got["b"], [3.0, 30.0])


@pytest.mark.parametrize("tangent, words", [
    ({"a": 1.0, "c": V2}, ["keys ['a', 'c']", "keys ['a', 'b']"]),
    ({"a": 1.0}, ["keys ['a']", "keys ['a', 'b']"]),
    ({"a": 1.0, "b": onp.ones(3)}, ["['b']", "shape (3,)", "shape (2,)"]),
    ([1.0, V2], ["a list of 2", "a dict"]),
], ids=["wrong key", "missing key", "wrong shape", "list for dict"])
def test_a_tangent_of_the_wrong_structure_is_refused_saying_what_was_expected(tangent, words):
    with pytest.raises(ValueError) as e:
        make_jvp(_dict_fun(mnp))(PARAMS)(tangent)
    for word in words:
        assert word in str(e.value), str(e.value)


@pytest.mark.parametrize("cotangent, words", [
    (onp.ones((2, 3)), ["shape (2, 3)", "shape (3,)"]),
    (1.0, ["shape ()", "shape (3,)"]),
    ((onp.ones(3),), ["a tuple of 1", "an array of shape (3,)"]),
], ids=["broadcastable", "scalar", "tuple"])
def test_a_cotangent_of_the_wrong_shape_is_refused_not_broadcast(cotangent, words):
    vjp, _ = make_vjp(lambda x: x * 2.0)(onp.ones(3))
    with pytest.raises(ValueError) as e:
        vjp(cotangent)
    for word in ["cotangent", *words]:
        assert word in str(e.value), str(e.value)


def test_a_list_is_not_taken_for_a_tuple():
    vjp, _ = make_vjp(lambda x: (x, 2.0 * x))(1.5)
    onp.testing.assert_allclose(vjp((1.0, 1.0)), 3.0)
    with pytest.raises(ValueError, match="a list of 2.*a tuple of 2"):
        vjp([1.0, 1.0])


def test_hessian_vector_product_refuses_a_vector_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        hessian_vector_product(lambda x: mnp.sum(x ** 3))(V2, onp.ones(3))


# ---- containers in jacobian and hessian -----------------------------------------------

def test_jacobian_of_a_dict_valued_function_is_a_dict_of_jacobians():
    def f(np):
        return lambda x: {"square": x ** 2, "total": np.sum(np.sin(x))}

    ours = jacobian(f(mnp))(V2)
    assert set(ours) == {"square", "total"}
    onp.testing.assert_allclose(ours["square"], autograd.jacobian(lambda x: f(anp)(x)["square"])(V2))
    onp.testing.assert_allclose(ours["total"], autograd.jacobian(lambda x: f(anp)(x)["total"])(V2))
    fwd = jacobian_fwd(f(mnp))(V2)
    for key in ours:
        onp.testing.assert_allclose(fwd[key], ours[key], rtol=1e-12)


def test_hessian_with_respect_to_a_dict_matches_autograd_on_the_flat_vector():
    def loss(np, a, b):
        return a ** 2 * np.sum(b ** 3) + np.sin(a) * b[0] * b[1]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it used to warn and return zeros
        ours = hessian(lambda d: loss(mnp, d["a"], d["b"]))(PARAMS)
    flat = onp.concatenate([[PARAMS["a"]], PARAMS["b"]])
    theirs = autograd.hessian(lambda v: loss(anp, v[0], v[1:]))(flat)
    onp.testing.assert_allclose(ours["a"]["a"], theirs[0, 0], rtol=1e-12)
    onp.testing.assert_allclose(ours["a"]["b"], theirs[0, 1:], rtol=1e-12)
    onp.testing.assert_allclose(ours["b"]["a"], theirs[1:, 0], rtol=1e-12)
    onp.testing.assert_allclose(ours["b"]["b"], theirs[1:, 1:], rtol=1e-12)


def test_elementwise_grad_of_a_tuple_output_sums_the_outputs():
    ours = elementwise_grad(lambda x: (mnp.sin(x), x ** 2))(V2)
    onp.testing.assert_allclose(ours, onp.cos(V2) + 2 * V2, rtol=1e-12)


# ---- gradients are independent, writable arrays of the input's dtype ---------------------

def test_gradients_of_two_inputs_do_not_share_memory():
    ga, gb = grad(lambda a, b: mnp.sum(a + b), (0, 1))(onp.ones(3), onp.ones(3))
    assert not onp.shares_memory(ga, gb)
    ga[0] = 100.0
    onp.testing.assert_allclose(gb, onp.ones(3))
    g = grad(lambda p: mnp.sum(p["w"] - p["v"]))({"w": onp.ones(2), "v": onp.ones(2)})
    assert not onp.shares_memory(g["w"], g["v"])


def test_gradient_of_sum_is_writable_and_owns_its_memory():
    g = grad(mnp.sum)(onp.ones((2, 3)))
    assert g.flags.writeable and g.flags.owndata
    g[0, 0] = 5.0  # used to raise "assignment destination is read-only"


def test_the_users_cotangent_and_tangent_are_never_handed_back():
    g, v = onp.array([1.0, 2.0]), onp.array([3.0, 4.0])
    vjp, _ = make_vjp(lambda x: x)(V2)
    assert not onp.shares_memory(vjp(g), g)
    _, tangent = make_jvp(lambda x: (x, x))(V2)(v)
    assert not onp.shares_memory(tangent[0], v)
    assert not onp.shares_memory(tangent[0], tangent[1])


@pytest.mark.parametrize("x", [onp.ones(3, onp.float32), onp.float32(0.5)],
                         ids=["float32 array", "float32 scalar"])
def test_float32_inputs_get_float32_gradients_like_autograd(x):
    ours = grad(lambda x: mnp.sum(mnp.tanh(x) * 2.0))(x)
    theirs = autograd.grad(lambda x: anp.sum(anp.tanh(x) * 2.0))(x)
    assert onp.result_type(ours) == onp.result_type(theirs) == onp.float32
    assert type(ours) is type(theirs)
    onp.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_float32_forward_mode_and_jacobian_keep_the_dtype():
    x = onp.ones(2, onp.float32)
    assert make_jvp(lambda x: mnp.sin(x) * 2.0)(x)(onp.ones(2))[1].dtype == onp.float32
    assert jacobian(lambda x: mnp.sin(x) * 2.0)(x).dtype == onp.float32


# ---- outputs that cannot have a derivative -----------------------------------------------

def test_a_function_that_forgets_to_return_raises_like_autograd():
    def forgot(x):
        mnp.sin(x)

    with pytest.raises(TypeError, match="returned None.*return"):
        grad(forgot)(1.0)
    with pytest.raises(TypeError):
        autograd.grad(lambda x: None)(1.0)
    with pytest.raises(TypeError, match="returned None"):
        make_jvp(forgot)(1.0)(1.0)


@pytest.mark.parametrize("output, word", [
    (lambda x: [x, x], "a list"),
    (lambda x: {"loss": x}, "a dict"),
    (lambda x: (x * 2.0, 3), "a tuple"),
], ids=["list", "dict", "tuple with aux"])
def test_grad_of_a_container_output_says_so(output, word):
    with pytest.raises(TypeError) as e:
        grad(output)(1.0)
    assert "scalar output" in str(e.value) and word in str(e.value)
    assert "jacobian" in str(e.value)


def test_a_string_output_is_refused_naming_its_type():
    with pytest.raises(TypeError, match="output contains a str"):
        grad(lambda x: "hello")(1.0)
    with pytest.raises(TypeError, match="output contains a str"):
        make_vjp(lambda x: (x, "label"))(1.0)


# ---- boxes that outlive their trace ------------------------------------------------

def test_a_box_kept_after_its_trace_ended_is_a_constant():
    kept = []

    def f(x):
        kept.append(x * 2.0)
        return x ** 2

    assert grad(f)(1.5) == 3.0
    box = kept[0]
    assert box + 1.0 == 4.0 and type(box + 1.0) is not type(box)
    assert float(box) == 3.0 and onp.asarray(box) == 3.0
    assert mnp.sin(box) == onp.sin(3.0) and onp.sin(box) == onp.sin(3.0)
    assert "ended" in repr(box)
    # in a later derivative it is a constant, not an input of that derivative
    assert grad(lambda y: y * box)(2.0) == 3.0
    assert grad(lambda y: y * mnp.sum(box))(2.0) == 3.0
    # and it may even be differentiated with respect to, as a plain number
    assert grad(lambda y: y ** 2)(box) == 6.0


def test_a_box_kept_from_an_inner_derivative_is_a_constant_too():
    kept = []

    def inner(y):
        kept.append(y)
        return y ** 3

    ours = grad(lambda x: grad(inner)(x) * x)(2.0)  # d/dx 3 x^3 = 9 x^2
    assert ours == 36.0
    assert kept[0] * 1.0 == 2.0


# ---- autograd's call style for check_grads -----------------------------------------

def test_check_grads_accepts_autograd_call_style():
    check_grads(lambda x: mnp.sin(x) * x, modes=["fwd", "rev"], order=2)(V2)
    check_grads(lambda x, y: x * mnp.exp(y), modes=["rev"], order=1)(0.3, 0.5)

    @primitive
    def wrong(x):
        return onp.sin(x)

    wrong.defvjp(lambda g, ans, x: g * mnp.sin(x))  # should be cos
    with pytest.raises(AssertionError, match="rev"):
        check_grads(wrong, modes=["rev"], order=1)(0.3)


# ---- rules written for autograd, rules whose saves= lies ----------------------------------

def test_an_autograd_style_curried_rule_is_refused_when_defined():
    @primitive
    def double(x):
        return 2.0 * x

    with pytest.raises(TypeError) as e:
        double.defvjp(lambda ans, x: lambda g: 2.0 * g)
    for word in ("double", "VJP", "(g, ans, *args"):
        assert word in str(e.value)
    with pytest.raises(TypeError, match="double: the JVP rule.*curried"):
        double.defjvp(lambda ans, x: lambda t: 2.0 * t)


def test_a_curried_rule_the_signature_cannot_reveal_is_refused_at_first_use():
    total = primitive(lambda *xs: sum(xs), name="total")
    total.defvjp(lambda ans, *xs: lambda g: g)  # *xs hides the arity
    with pytest.raises(TypeError, match="total: the VJP rule for argument 0 returned a function"):
        grad(total)(1.0)


def test_a_rule_reading_a_value_its_saves_drops_is_named_clearly():
    @primitive
    def cube(x):
        return x ** 3

    cube.saves = "shapes"
    cube.defvjp(lambda g, ans, x: 3.0 * g * x ** 2)
    for differentiate in (grad(cube), grad(grad(cube))):
        with pytest.raises(TypeError) as e:
            differentiate(1.5)
        assert "cube" in str(e.value) and "saves='shapes'" in str(e.value)


def test_a_saves_mismatch_that_only_shows_when_both_arguments_are_traced():
    def times(x, y):
        return x * y

    times = primitive(times, saves="shapes")  # wrong: each rule reads the other argument
    times.defvjp(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
    assert grad(times)(2.0, 3.0) == 3.0  # y is a constant here, so it is kept: right
    with pytest.raises(TypeError, match="times: its VJP rule for argument 0.*saves='shapes'"):
        grad(lambda x: times(x, x))(2.0)


# ---- nested cost meters --------------------------------------------------------------

def test_a_nested_cost_meter_counts_for_both_meters():
    f = grad(lambda x: mnp.sum(mnp.sin(x) * x))
    with CostMeter() as alone:
        f(V2)
    with CostMeter() as outer:
        mnp.exp(V2)  # outer-only work: one evaluation of 2 flops
        with CostMeter() as inner:
            f(V2)
    assert inner.summary() == alone.summary()
    assert outer.forward.evals == inner.forward.evals + 1
    assert outer.total_flops == inner.total_flops + V2.size
    assert (outer.vjp_evals, outer.backward.flops) == (inner.vjp_evals, inner.backward.flops)


# ---- argnum ------------------------------------------------------------------------

def test_argnum_naming_an_argument_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        grad(lambda a, b: a * b, (0, -2))(2.0, 3.0)
    assert grad(lambda a, b: a * b, onp.int64(1))(2.0, 3.0) == 2.0
    assert value_and_grad(lambda a, b: a * b, -1)(2.0, 3.0) == (6.0, 2.0)


# ---- more of the same kind, found by probing ------------------------------------------

def test_argnum_of_the_wrong_type_is_refused_clearly():
    with pytest.raises(TypeError, match="argnum must be an int or a tuple of ints"):
        grad(lambda x: x, 1.5)(1.0)


def test_a_complex_cotangent_or_tangent_for_a_real_value_is_refused():
    vjp, _ = make_vjp(lambda x: x * 2.0)(V2)
    with pytest.raises(ValueError, match="cotangent is complex.*output is real"):
        vjp(onp.ones(2) * 1j)
    with pytest.raises(ValueError, match="tangent is complex.*input is real"):
        make_jvp(lambda x: x * 2.0)(V2)(onp.ones(2) * 1j)


def test_a_complex_gradient_for_a_real_input_is_never_returned():
    try:
        g = grad(lambda x: mnp.abs(1j * x))(2.0)
    except TypeError as e:
        assert "complex" in str(e)
    else:  # complex support: then it must be autograd's real answer, d|ix|/dx = sign(x)
        assert not onp.iscomplexobj(g) and g == autograd.grad(lambda x: anp.abs(1j * x))(2.0)


def test_a_rule_that_forgets_to_return_is_named():
    @primitive
    def double(x):
        return 2.0 * x

    def rule(g, ans, x):
        2.0 * g  # no return

    double.defvjp(rule)
    with pytest.raises(TypeError, match="double: the VJP rule for argument 0 returned None"):
        grad(double)(1.0)


def test_a_traced_keyword_argument_is_refused_not_an_endless_recursion():
    with pytest.raises(TypeError, match="'a_min'"):  # no derivative rule, or keyword refused
        grad(lambda lo: mnp.sum(mnp.clip(V2, a_min=lo, a_max=None)))(0.0)
    with pytest.raises(TypeError, match="keyword argument 'a_min' is a traced value"):
        grad(lambda lo: mnp.sum(onp.clip(V2, a_min=lo, a_max=None)))(0.0)  # NumPy's own clip
    # positionally it reaches the rules (clip has none for its bounds, like autograd's)
    with pytest.raises(TypeError, match="clip: no reverse-mode"):
        grad(lambda lo: mnp.sum(mnp.clip(V2, lo, None)))(0.0)
    kept = []
    grad(lambda x: kept.append(x) or x * 2.0)(0.0)
    onp.testing.assert_allclose(mnp.clip(V2, a_min=kept[0], a_max=None), [0.3, 0.0])


def test_trace_graph_of_a_function_that_forgets_to_return():
    from mini_autograd.graph import trace_graph

    with pytest.raises(TypeError, match="trace_graph: the function returned None"):
        trace_graph(lambda x: None, V2)
