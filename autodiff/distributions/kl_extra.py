"""KL divergences within the families added after kl.py (same formulas as
``torch.distributions.kl``): Binomial, Cauchy, ContinuousBernoulli, Geometric, Gumbel,
HalfNormal, Pareto, Poisson, TransformedDistribution, the low-rank normals, and the Bregman
divergence of any exponential family with itself. Cross-family pairs are in kl_cross.py."""

from __future__ import annotations

import math

import numpy as np

from .. import linalg, ops, special
from ..autograd import grad
from ..creation import eye
from ..tensor import Tensor
from .continuous_extra import Cauchy, ContinuousBernoulli
from .counts import Binomial, Geometric, Poisson
from .distribution import sum_rightmost
from .exp_family import ExponentialFamily
from .kl import _kl_normal_normal, kl_divergence, register_kl
from .multivariate import MultivariateNormal, _batch_mahalanobis
from .multivariate_extra import LowRankMultivariateNormal
from .transformed import EULER, Gumbel, HalfNormal, Pareto, TransformedDistribution

__all__: list = []


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>."""
    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential "
            "families cannot be computed using Bregman divergences"
        )
    p_params = [t.detach().requires_grad_() for t in p._natural_params]
    q_params = q._natural_params
    lg = p._log_normalizer(*p_params)
    grads = grad(lg.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - lg
    for pn, qn, g in zip(p_params, q_params, grads):
        result = result - sum_rightmost((qn - pn) * g, len(q.event_shape))
    return result


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return ops.where(p.total_count > q.total_count, math.inf, kl)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    ct1, ct2, ct3 = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t3 = (ct2 + special.gammaln(1 + ct1) - ct3).exp()
    return t1 + ct1 * EULER + t3 - (1 + EULER)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    scale_ratio, alpha_ratio = p.scale / q.scale, q.alpha / p.alpha
    result = q.alpha * scale_ratio.log() - alpha_ratio.log() + alpha_ratio - 1
    return ops.where(p.scale < q.scale, math.inf, result)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError(
            "KL between TransformedDistributions needs the same transforms and event shapes"
        )
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    t1 = ((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2).log()
    return t1 - (4 * p.scale * q.scale).log()


# ------------------------------------------------------------------ (low-rank) normals
def _trace_xxt(m: Tensor) -> Tensor:
    return (m * m).sum((-2, -1))


def _lowrank_logdet(d) -> Tensor:
    c = d._capacitance_tril
    return 2 * c.diagonal(0, -2, -1).log().sum(-1) + d._unbroadcasted_cov_diag.log().sum(-1)


def _lowrank_mahalanobis(d, x: Tensor) -> Tensor:
    w, diag = d._unbroadcasted_cov_factor, d._unbroadcasted_cov_diag
    wt_dinv_x = ((w.mT / diag.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
    return (x * x / diag).sum(-1) - _batch_mahalanobis(d._capacitance_tril, wt_dinv_x)


def _capacitance_solve(q) -> Tensor:
    wt_dinv = q._unbroadcasted_cov_factor.mT / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return linalg.solve(q._capacitance_tril, wt_dinv)


def _check_events(p, q) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with "
            "different event shapes cannot be computed"
        )


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    _check_events(p, q)
    term1 = _lowrank_logdet(q) - _lowrank_logdet(p)
    term3 = _lowrank_mahalanobis(q, q.loc - p.loc)
    a = _capacitance_solve(q)
    pw, pd = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    qd = q._unbroadcasted_cov_diag
    term2 = (
        (pd / qd).sum(-1)
        + _trace_xxt(pw * qd.rsqrt().unsqueeze(-1))
        - _trace_xxt(a * pd.sqrt().unsqueeze(-2))
        - _trace_xxt(a @ pw)
    )
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q):
    _check_events(p, q)
    tril = p._unbroadcasted_scale_tril
    term1 = _lowrank_logdet(q) - 2 * tril.diagonal(0, -2, -1).log().sum(-1)
    term3 = _lowrank_mahalanobis(q, q.loc - p.loc)
    qd = q._unbroadcasted_cov_diag
    term2 = _trace_xxt(tril * qd.rsqrt().unsqueeze(-1)) - _trace_xxt(_capacitance_solve(q) @ tril)
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q):
    _check_events(p, q)
    q_tril = q._unbroadcasted_scale_tril
    term1 = 2 * q_tril.diagonal(0, -2, -1).log().sum(-1) - _lowrank_logdet(p)
    term3 = _batch_mahalanobis(q_tril, q.loc - p.loc)
    n, m = p.event_shape[0], p.cov_factor.shape[-1]
    batch = tuple(
        np.broadcast_shapes(tuple(q_tril.shape[:-2]), tuple(p._unbroadcasted_cov_factor.shape[:-2]))
    )
    q_tril = q_tril.expand(batch + (n, n))
    p_w = p._unbroadcasted_cov_factor.expand(batch + (n, m))
    p_d = p._unbroadcasted_cov_diag.sqrt()
    p_d = (p_d.unsqueeze(-1) * eye(n, dtype=p_d.dtype, device=p_d.device)).expand(batch + (n, n))
    term2 = _trace_xxt(linalg.solve(q_tril, p_w)) + _trace_xxt(linalg.solve(q_tril, p_d))
    return 0.5 * (term1 + term2 + term3 - n)
