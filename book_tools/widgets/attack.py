"""The attack-size widget of the input-gradients chapter.

An attack with budget ``eps`` may change every pixel by at most ``eps`` (an L-infinity
ball).  Three ways to spend that budget, from the weakest to the strongest:

- **random signs**: ``x + eps * r`` with ``r`` random +-1, the same size as an attack
  with no information;
- **FGSM**: ``x + eps * sign(grad_x L)``, one step along the sign of the input gradient
  (Goodfellow et al. 2015);
- **PGD**: projected gradient descent on ``-L`` (Madry et al. 2018): a random start in
  the ball, then ``steps`` signed steps of ``eps / 4``, each followed by a projection
  (clipping) back into the ball.

The classifier enters as two callables, so the widget works for any model the chapter
trains: ``probability(X)``, the probability of class 1 for each row of ``X``, and
``loss_gradient(X, y)``, the gradient of each row's loss with respect to that row (the
chapter passes its function that computes it with mini_autograd and asserts it against
autograd).

``attack_curves(...)``
    Test accuracy against ``eps`` for the three attacks (the slow part, computed once).
``attack_report(...)``
    One image at one ``eps``: the original, the perturbation, the adversarial image,
    the probabilities before and after, and the curves' values at ``eps``.
``build_widget(...)`` / ``build_fallback(...)``
    The live view (an ``eps`` slider, an image slider and an attack menu) and its
    kernel-free, scrubbable fallback over ``eps``.
"""


import numpy as _np

from .animation import figure_png
from .html import img_tag

ATTACKS = ("random signs", "FGSM", "PGD")
EPS_CONTROL = (0.0, 0.4, 0.025, 0.15)       # min, max, step, default
PGD_STEPS = 10


def _eps_grid():
    lo, hi, step, _ = EPS_CONTROL
    return _np.round(_np.linspace(lo, hi, round((hi - lo) / step) + 1), 6)


def _check_eps(eps):
    eps = float(eps)
    if not (_np.isfinite(eps) and eps >= 0):
        raise ValueError(f"attack: eps (the largest change of any pixel) must be a number "
                         f">= 0; got {eps!r}.")
    return eps


def perturb(attack, loss_gradient, X, y, eps, steps=PGD_STEPS, seed=0):
    """The adversarial images for every row of ``X`` under one attack and budget.

    Every result stays in the ball: ``max |X_adv - X| <= eps``.
    """
    eps = _check_eps(eps)
    X = _np.asarray(X, dtype=float)
    if attack not in ATTACKS:
        raise ValueError(f"attack: attack must be one of {ATTACKS}; got {attack!r}.")
    rng = _np.random.default_rng(seed)
    if attack == "random signs":
        return X + eps * rng.choice([-1.0, 1.0], size=X.shape)
    if attack == "FGSM":
        return X + eps * _np.sign(loss_gradient(X, y))
    X_adv = X + rng.uniform(-eps, eps, size=X.shape)         # PGD: a random start
    for _ in range(steps):
        X_adv = X_adv + (eps / 4) * _np.sign(loss_gradient(X_adv, y))
        X_adv = _np.clip(X_adv, X - eps, X + eps)            # back into the ball
    return X_adv


def accuracy(probability, X, y):
    return float(_np.mean((_np.asarray(probability(X)) > 0.5) == _np.asarray(y)))


def attack_curves(probability, loss_gradient, X, y, eps_grid=None, steps=PGD_STEPS, seed=0):
    """``{"eps": grid, attack: accuracies}``: test accuracy under each attack."""
    grid = _eps_grid() if eps_grid is None else _np.asarray(eps_grid, dtype=float)
    curves = {"eps": grid}
    for attack in ATTACKS:
        curves[attack] = _np.array([
            accuracy(probability, perturb(attack, loss_gradient, X, y, e, steps, seed), y)
            for e in grid])
    return curves


def attack_report(probability, loss_gradient, X, y, eps, index=0, attack="FGSM",
                  curves=None, steps=PGD_STEPS, seed=0):
    """One image under one attack at budget ``eps``.

    Returns a dict: ``eps``, ``index``, ``attack``, ``label`` (0 or 1), ``x`` (the image),
    ``delta`` (the perturbation, ``|delta| <= eps``), ``x_adv``, ``p_before`` and
    ``p_after`` (probability of class 1), ``correct_before`` / ``correct_after``, and,
    when ``curves`` is given, ``accuracy`` (each attack's accuracy at the grid point
    nearest ``eps``).
    """
    eps = _check_eps(eps)
    X = _np.asarray(X, dtype=float)
    if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < len(X):
        raise ValueError(f"attack_report: index must be an integer in [0, {len(X)}); got "
                         f"{index!r}.")
    index = int(index)
    x, label = X[index:index + 1], _np.asarray(y)[index:index + 1]
    x_adv = perturb(attack, loss_gradient, x, label, eps, steps, seed + index)
    p_before, p_after = (float(_np.asarray(probability(v))[0]) for v in (x, x_adv))
    report = {
        "eps": eps, "index": index, "attack": attack, "label": int(label[0]),
        "x": x[0], "delta": (x_adv - x)[0], "x_adv": x_adv[0],
        "p_before": p_before, "p_after": p_after,
        "correct_before": (p_before > 0.5) == bool(label[0]),
        "correct_after": (p_after > 0.5) == bool(label[0]),
    }
    if curves is not None:
        j = int(_np.argmin(_np.abs(curves["eps"] - eps)))
        report["accuracy"] = {a: float(curves[a][j]) for a in ATTACKS}
    return report


# ------------------------------------------------------------------------ drawing

_COLORS = {"random signs": "C1", "FGSM": "C0", "PGD": "C3"}


def draw(axes, report, curves, side, class_names=("class 0", "class 1")):
    """Four panels: original, perturbation, adversarial image, accuracy curves."""
    ax_x, ax_d, ax_a, ax_c = axes
    for ax in axes:
        ax.clear()
    eps, name = report["eps"], class_names[report["label"]]
    limit = max(EPS_CONTROL[1], 1e-12)
    for ax, image, cmap, lo, hi, title in (
            (ax_x, report["x"], "gray", -0.8, 1.8,
             f"a {name}: p({class_names[1]}) = {report['p_before']:.3f}"),
            (ax_d, report["delta"], "RdBu_r", -limit, limit,
             f"+ {report['attack']}, eps = {eps:.3f}"),
            (ax_a, report["x_adv"], "gray", -0.8, 1.8,
             f"p({class_names[1]}) = {report['p_after']:.3f} "
             + ("(right)" if report["correct_after"] else "(WRONG)"))):
        ax.imshow(image.reshape(side, side), cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    for attack in ATTACKS:
        ax_c.plot(curves["eps"], curves[attack], "o-", ms=2.5, color=_COLORS[attack],
                  label=attack, lw=1.8 if attack == report["attack"] else 1.0)
    ax_c.axvline(eps, color="#111827", lw=1)
    ax_c.set_ylim(-0.02, 1.02)
    ax_c.set_xlabel("eps")
    ax_c.set_ylabel("test accuracy")
    ax_c.set_title("accuracy under attack", fontsize=9)
    ax_c.legend(fontsize=7.5, loc="lower left", frameon=False)


def _figure():
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9.0, 2.6), facecolor="white")
    grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.6], wspace=0.35)
    return fig, [fig.add_subplot(grid[0, j]) for j in range(4)]


def alt_text(report, class_names=("class 0", "class 1")):
    acc = report.get("accuracy", {})
    tail = "" if not acc else (
        "; test accuracy at this eps: " + ", ".join(f"{a} {v:.0%}" for a, v in acc.items()))
    return (f"A test image of a {class_names[report['label']]}, the {report['attack']} "
            f"perturbation with eps {report['eps']:.3f} and the adversarial image: the "
            f"probability of {class_names[1]} goes from {report['p_before']:.3f} to "
            f"{report['p_after']:.3f}, the prediction is "
            f"{'still right' if report['correct_after'] else 'wrong'}{tail}.")


def picture_html(report, curves, side, class_names=("class 0", "class 1"), dpi=72):

    fig, axes = _figure()
    draw(axes, report, curves, side, class_names)
    png = figure_png(fig, dpi, colours=128, bbox_inches="tight")
    return img_tag(png, alt_text(report, class_names))


# ------------------------------------------------------------------------ live widget

def build_widget(probability, loss_gradient, X, y, side, curves, eps=EPS_CONTROL[3],
                 index=0, attack="FGSM", class_names=("class 0", "class 1")):
    """An ``eps`` slider, an image slider and an attack menu over the live picture.

    The returned VBox has attributes ``eps``, ``index``, ``attack`` (the controls),
    ``panel`` and ``report()`` (the report drawn last).
    """
    import ipywidgets as widgets

    lo, hi, step, _ = EPS_CONTROL
    eps_slider = widgets.FloatSlider(value=float(eps), min=lo, max=hi, step=step,
                                     description="eps", readout_format=".3f",
                                     continuous_update=False,
                                     layout=widgets.Layout(width="300px"))
    index_slider = widgets.IntSlider(value=int(index), min=0, max=len(X) - 1,
                                     description="image", continuous_update=False,
                                     layout=widgets.Layout(width="300px"))
    menu = widgets.Dropdown(options=list(ATTACKS), value=attack, description="attack",
                            layout=widgets.Layout(width="220px"))
    panel = widgets.HTML()
    last = {}

    def update(_change=None):
        last["report"] = attack_report(probability, loss_gradient, X, y, eps_slider.value,
                                       index_slider.value, menu.value, curves)
        panel.value = picture_html(last["report"], curves, side, class_names)

    for w in (eps_slider, index_slider, menu):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([eps_slider, index_slider, menu],
                                     layout=widgets.Layout(flex_flow="row wrap")), panel])
    box.eps, box.index, box.attack, box.panel = eps_slider, index_slider, menu, panel
    box.report = lambda: last["report"]
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(probability, loss_gradient, X, y, side, curves, index=0, attack="FGSM",
                   eps_values=None, class_names=("class 0", "class 1"), dpi=60, fps=2,
                   name="attack"):
    """A scrubbable player sweeping ``eps`` for one image and one attack."""
    import matplotlib as mpl

    from . import scrubbable_animation

    values = _np.linspace(0.0, 0.3, 7) if eps_values is None else eps_values
    reports = [attack_report(probability, loss_gradient, X, y, e, index, attack, curves)
               for e in values]
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 9}):
        fig, axes = _figure()

        def update(j):
            draw(axes, reports[j], curves, side, class_names)
            return []

        update(0)
        fig.subplots_adjust(left=0.02, right=0.99, bottom=0.2, top=0.86)
        return scrubbable_animation(fig, update, range(len(reports)), fps=fps, name=name,
                                    colours=128)
