"""Hand-written float64 NumPy references of each optimizer's update (PyTorch's formulas),
used when PyTorch is not installed and as a second oracle when it is."""

from __future__ import annotations

import math

import numpy as np


def _grad(g, p, h):
    g = -g if h.get("maximize") else g
    wd = h.get("weight_decay", 0.0)
    return g + wd * p if wd else g


def sgd(p, g, s, h):
    g = _grad(g, p, h)
    m = h.get("momentum", 0.0)
    if m:
        if "buf" not in s:
            s["buf"] = g.copy()
        else:
            s["buf"] = m * s["buf"] + (1 - h.get("dampening", 0.0)) * g
        g = g + m * s["buf"] if h.get("nesterov") else s["buf"]
    return p - h["lr"] * g


def adam(p, g, s, h, decoupled=False):
    lr = h.get("lr", 1e-3)
    b1, b2 = h.get("betas", (0.9, 0.999))
    eps = h.get("eps", 1e-8)
    wd = h.get("weight_decay", 1e-2 if decoupled else 0.0)
    g = -g if h.get("maximize") else g
    if decoupled:
        p = p * (1 - lr * wd)
    elif wd:
        g = g + wd * p
    t = s["t"] = s.get("t", 0) + 1
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if h.get("amsgrad"):
        v = s["vmax"] = np.maximum(s.get("vmax", 0.0), v)
    denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
    return p - lr / (1 - b1**t) * s["m"] / denom


def adamw(p, g, s, h):
    return adam(p, g, s, h, decoupled=True)


def rmsprop(p, g, s, h):
    lr, alpha, eps = h.get("lr", 1e-2), h.get("alpha", 0.99), h.get("eps", 1e-8)
    g = _grad(g, p, h)
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
    if h.get("centered"):
        s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
        avg = np.sqrt(s["v"] - s["ga"] ** 2) + eps
    else:
        avg = np.sqrt(s["v"]) + eps
    m = h.get("momentum", 0.0)
    if m:
        s["buf"] = m * s.get("buf", 0.0) + g / avg
        return p - lr * s["buf"]
    return p - lr * g / avg


def adagrad(p, g, s, h):
    lr, eps = h.get("lr", 1e-2), h.get("eps", 1e-10)
    g = _grad(g, p, h)
    t = s["t"] = s.get("t", 0) + 1
    clr = lr / (1 + (t - 1) * h.get("lr_decay", 0.0))
    s["sum"] = s.get("sum", h.get("initial_accumulator_value", 0.0)) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def adadelta(p, g, s, h):
    lr, rho, eps = h.get("lr", 1.0), h.get("rho", 0.9), h.get("eps", 1e-6)
    g = _grad(g, p, h)
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta * delta
    return p - lr * delta


REFERENCES = {"SGD": sgd, "Adam": adam, "AdamW": adamw, "RMSprop": rmsprop, "Adagrad": adagrad,
                  "Adadelta": adadelta}
