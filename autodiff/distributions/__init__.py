"""``autodiff.distributions``: PyTorch's ``torch.distributions`` for the common families.

Random draws come from autodiff's generator (``ad.manual_seed`` makes them reproducible).
``rsample`` (reparameterized, differentiable in the parameters) exists for Normal, Uniform,
Laplace, Exponential and MultivariateNormal; Gamma, Beta and Dirichlet sample on the host
without a gradient. Arguments are validated by default, raising ValueError as PyTorch does.

Example:
    >>> import autodiff as ad
    >>> d = ad.distributions.Normal(ad.zeros(3), ad.ones(3))
    >>> d.log_prob(d.sample()).shape  # (3,)
"""

from __future__ import annotations

from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, Dirichlet, OneHotCategorical
from .distribution import Distribution, constraints
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma",
    "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform",
    "constraints", "kl_divergence", "register_kl",
]
