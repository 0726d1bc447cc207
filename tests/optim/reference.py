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


def _f32(x):
    """PyTorch keeps NAdam's mu_product and ASGD's eta and mu in float32 0-dim tensors."""
    return float(np.float32(x))


def _moments(g, s, b1, b2):
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g


def _decay(p, g, h, lr):
    """NAdam/RAdam weight decay: on the weights (decoupled) or added to the gradient."""
    wd = h.get("weight_decay", 0.0)
    if wd and h.get("decoupled_weight_decay"):
        return p * (1 - lr * wd), g
    return p, g + wd * p if wd else g


def adamax(p, g, s, h):
    lr, (b1, b2), eps = h.get("lr", 2e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    g = _grad(g, p, h)
    t = s["t"] = s.get("t", 0) + 1
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g) + eps)
    return p - lr / (1 - b1**t) * s["m"] / s["u"]


def nadam(p, g, s, h):
    lr, (b1, b2), eps = h.get("lr", 2e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    psi = h.get("momentum_decay", 4e-3)
    p, g = _decay(p, -g if h.get("maximize") else g, h, lr)
    t = s["t"] = s.get("t", 0) + 1
    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    prod = s["prod"] = _f32(_f32(s.get("prod", 1.0)) * _f32(mu))
    _moments(g, s, b1, b2)
    denom = np.sqrt(s["v"] / (1 - b2**t)) + eps
    return (p - lr * (1 - mu) / (1 - prod) * g / denom
            - lr * mu_next / (1 - prod * mu_next) * s["m"] / denom)


def radam(p, g, s, h):
    lr, (b1, b2), eps = h.get("lr", 1e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    p, g = _decay(p, -g if h.get("maximize") else g, h, lr)
    t = s["t"] = s.get("t", 0) + 1
    _moments(g, s, b1, b2)
    m_hat = s["m"] / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho <= 5:
        return p - lr * m_hat
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return p - lr * m_hat * math.sqrt(1 - b2**t) / (np.sqrt(s["v"]) + eps) * r


def rprop(p, g, s, h):
    (em, ep), (lo, hi) = h.get("etas", (0.5, 1.2)), h.get("step_sizes", (1e-6, 50))
    g = -g if h.get("maximize") else g
    prod = g * s.get("prev", 0.0)
    size = s.get("size", np.full_like(p, h.get("lr", 1e-2)))
    s["size"] = np.clip(size * np.where(prod > 0, ep, np.where(prod < 0, em, 1.0)), lo, hi)
    s["prev"] = g = np.where(prod < 0, 0.0, g)
    return p - np.sign(g) * s["size"]


def asgd(p, g, s, h):
    lr, lambd, alpha, t0 = h.get("lr", 1e-2), h.get("lambd", 1e-4), h.get("alpha", 0.75), \
        h.get("t0", 1e6)
    g = _grad(g, p, h)
    t = s["t"] = s.get("t", 0) + 1
    eta, mu = s.get("eta", _f32(lr)), s.get("mu", 1.0)
    p = p * (1 - lambd * eta) - eta * g
    s["ax"] = p.copy() if mu == 1 else s["ax"] + mu * (p - s["ax"])
    s["eta"] = _f32(lr / (1 + lambd * lr * t) ** alpha)
    s["mu"] = _f32(1 / max(1, t - t0))
    return p


REFERENCES = {"SGD": sgd, "Adam": adam, "AdamW": adamw, "RMSprop": rmsprop, "Adagrad": adagrad,
                  "Adadelta": adadelta, "Adamax": adamax, "NAdam": nadam, "RAdam": radam,
                  "Rprop": rprop, "ASGD": asgd}
