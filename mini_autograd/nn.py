"""Neural-network layers written with differentiable NumPy: activations, losses,
convolution (cross-correlation) and pooling.

Everything here is composed from ``mini_autograd.numpy`` primitives, so the gradients
(and second derivatives) come for free and each layer can be read as plain NumPy.

To check a layer against HIPS autograd, build the same layers on autograd's NumPy::

    import autograd.numpy as anp, autograd.scipy.special as asp
    ag_nn = mini_autograd.nn.layers_for(anp, asp.logsumexp)

and the two namespaces compute identical functions with different engines.

Shapes follow the usual deep-learning layout: 1-D signals are ``(N, C, L)`` with
kernels ``(O, C, k)``; images are ``(N, C, H, W)`` with kernels ``(O, C, kh, kw)``.
A plain 1-D signal with a 1-D kernel (or a 2-D image with a 2-D kernel) is accepted
too, for single-channel examples.
"""

import types

import numpy as _onp

from . import numpy as _mnp
from .scipy.special import logsumexp as _logsumexp


def _window_index(length, size, stride):
    """Index array (out_len, size): entry [o, j] is the input position o*stride + j."""
    out_len = (length - size) // stride + 1
    if out_len < 1:
        raise ValueError(
            f"window of size {size} does not fit in an input of length {length}; "
            "use a smaller kernel or pad the input."
        )
    return _onp.arange(out_len)[:, None] * stride + _onp.arange(size)[None, :]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def layers_for(np, logsumexp):
    """Build the layers on the NumPy module ``np`` (ours, or autograd's for checking)."""

    def relu(x):
        """max(x, 0), with derivative 0 at exactly 0."""
        return np.where(x > 0, x, 0.0)

    def sigmoid(x):
        """1 / (1 + exp(-x)), written with tanh so large |x| never overflows."""
        return 0.5 * (np.tanh(0.5 * x) + 1.0)

    def softmax(x, axis=-1):
        """exp(x - m) / sum(exp(x - m)) with m the maximum along ``axis``.

        The shift keeps every exponent <= 0, so nothing overflows. The division is kept
        on purpose: the division-free exp(x - logsumexp(x)) rounds logsumexp(x) with an
        absolute error of about eps * |logsumexp(x)|, which becomes a relative error of
        every probability, large when all logits share a large offset (Blanchard, Higham
        and Higham 2021). ``m`` may be traced: the result does not depend on it, so its
        derivative is exactly zero and ties in ``max`` do not matter.
        """
        shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return shifted / np.sum(shifted, axis=axis, keepdims=True)

    def log_softmax(x, axis=-1):
        return x - logsumexp(x, axis=axis, keepdims=True)

    def cross_entropy(logits, targets, axis=-1):
        """Mean over the batch of -sum(y * log softmax(logits)).

        ``targets`` is either integer class labels of shape ``logits.shape[:-1]`` or a
        probability array (e.g. one-hot) of the same shape as ``logits``.
        """
        logp = log_softmax(logits, axis=axis)
        targets = _onp.asarray(targets)
        if targets.dtype.kind in "iu":
            classes = _onp.shape(logp)[axis]
            if targets.size and (targets.min() < 0 or targets.max() >= classes):
                raise ValueError(
                    f"cross_entropy: labels must lie in [0, {classes}); got "
                    f"min {targets.min()}, max {targets.max()}."
                )
            targets = _onp.eye(classes)[targets]
        if targets.shape != _onp.shape(logp):
            raise ValueError(
                f"cross_entropy: targets of shape {targets.shape} do not match logits of "
                f"shape {_onp.shape(logp)}; give integer labels of shape "
                f"{_onp.shape(logp)[:-1]} or probabilities of the logits' shape."
            )
        per_example = -np.sum(targets * logp, axis=axis)
        return np.mean(per_example)

    def _check_conv(x, w, ndim, name):
        xs, ws = _onp.shape(x), _onp.shape(w)
        if len(xs) != ndim + 2 or len(ws) != ndim + 2:
            raise ValueError(
                f"{name}: expected input (N, C, {'L' if ndim == 1 else 'H, W'}) and kernel "
                f"(O, C, {'k' if ndim == 1 else 'kh, kw'}); got shapes {xs} and {ws}."
            )
        if xs[1] != ws[1]:
            raise ValueError(f"{name}: input has {xs[1]} channels but the kernel expects "
                             f"{ws[1]} (shapes {xs} and {ws}).")

    def conv1d(x, w, bias=None, stride=1, padding=0):
        """Cross-correlation y[n,o,i] = sum_{c,j} x[n,c,i*stride+j] w[o,c,j] (+ bias[o])."""
        single = np.ndim(x) == 1 and np.ndim(w) == 1
        if single:
            x, w = np.reshape(x, (1, 1, -1)), np.reshape(w, (1, 1, -1))
        _check_conv(x, w, 1, "conv1d")
        if padding:
            x = np.pad(x, ((0, 0), (0, 0), (padding, padding)), "constant")
        idx = _window_index(_onp.shape(x)[2], _onp.shape(w)[2], stride)
        patches = x[:, :, idx]                                   # (N, C, L_out, k)
        y = np.einsum("ncij,ocj->noi", patches, w)
        if bias is not None:
            y = y + np.reshape(bias, (1, -1, 1))
        return np.reshape(y, (-1,)) if single else y

    def conv2d(x, w, bias=None, stride=1, padding=0):
        """Cross-correlation y[n,o,i,j] = sum_{c,a,b} x[n,c,i*s+a,j*s+b] w[o,c,a,b] (+ bias[o])."""
        single = np.ndim(x) == 2 and np.ndim(w) == 2
        if single:
            x = np.reshape(x, (1, 1) + _onp.shape(x))
            w = np.reshape(w, (1, 1) + _onp.shape(w))
        _check_conv(x, w, 2, "conv2d")
        sh, sw = _pair(stride)
        ph, pw = _pair(padding)
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), "constant")
        rows = _window_index(_onp.shape(x)[2], _onp.shape(w)[2], sh)   # (H_out, kh)
        cols = _window_index(_onp.shape(x)[3], _onp.shape(w)[3], sw)   # (W_out, kw)
        patches = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (N,C,Ho,Wo,kh,kw)
        y = np.einsum("ncijab,ocab->noij", patches, w)
        if bias is not None:
            y = y + np.reshape(bias, (1, -1, 1, 1))
        return np.reshape(y, _onp.shape(y)[2:]) if single else y

    def convolve1d(x, k, padding=0):
        """True convolution of 1-D signals: cross-correlation with the flipped kernel."""
        return conv1d(x, k[..., ::-1], padding=padding)

    def convolve2d(x, k, padding=0):
        """True 2-D convolution: cross-correlation with the kernel flipped on both axes."""
        return conv2d(x, k[..., ::-1, ::-1], padding=padding)

    def _pool_patches(x, size, stride, ndim):
        if ndim == 1:
            idx = _window_index(_onp.shape(x)[-1], size, stride)
            return x[..., idx], (-1,)
        (kh, kw), (sh, sw) = _pair(size), _pair(stride)
        rows = _window_index(_onp.shape(x)[-2], kh, sh)
        cols = _window_index(_onp.shape(x)[-1], kw, sw)
        return x[..., rows[:, None, :, None], cols[None, :, None, :]], (-2, -1)

    def max_pool1d(x, size, stride=None):
        """Max over windows along the last axis. Ties share the gradient equally."""
        patches, axes = _pool_patches(x, size, stride or size, 1)
        return np.max(patches, axis=axes)

    def avg_pool1d(x, size, stride=None):
        patches, axes = _pool_patches(x, size, stride or size, 1)
        return np.mean(patches, axis=axes)

    def max_pool2d(x, size, stride=None):
        """Max over windows of the last two axes. Ties share the gradient equally."""
        patches, axes = _pool_patches(x, size, stride or size, 2)
        return np.max(patches, axis=axes)

    def avg_pool2d(x, size, stride=None):
        patches, axes = _pool_patches(x, size, stride or size, 2)
        return np.mean(patches, axis=axes)

    return types.SimpleNamespace(
        relu=relu, sigmoid=sigmoid, softmax=softmax, log_softmax=log_softmax,
        cross_entropy=cross_entropy, conv1d=conv1d, conv2d=conv2d, convolve1d=convolve1d,
        convolve2d=convolve2d, max_pool1d=max_pool1d, avg_pool1d=avg_pool1d,
        max_pool2d=max_pool2d, avg_pool2d=avg_pool2d,
    )


_layers = layers_for(_mnp, _logsumexp)
relu = _layers.relu
sigmoid = _layers.sigmoid
softmax = _layers.softmax
log_softmax = _layers.log_softmax
cross_entropy = _layers.cross_entropy
conv1d = _layers.conv1d
conv2d = _layers.conv2d
convolve1d = _layers.convolve1d
convolve2d = _layers.convolve2d
max_pool1d = _layers.max_pool1d
avg_pool1d = _layers.avg_pool1d
max_pool2d = _layers.max_pool2d
avg_pool2d = _layers.avg_pool2d

__all__ = ["layers_for", "relu", "sigmoid", "softmax", "log_softmax", "cross_entropy",
           "conv1d", "conv2d", "convolve1d", "convolve2d", "max_pool1d", "avg_pool1d",
           "max_pool2d", "avg_pool2d"]
