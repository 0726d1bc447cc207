"""``autodiff.distributions``: PyTorch's ``torch.distributions``.

Every family, transform and constraint of ``torch.distributions`` under the same names, with
the same parameterizations, shapes, validation (ValueError on bad parameters or values) and
formulas, so code written for torch runs unchanged and gives the same numbers. Random draws
come from autodiff's generator (``ad.manual_seed`` makes them reproducible, but the streams
differ from torch's). ``rsample`` is reparameterized wherever PyTorch's is, including Gamma,
Beta, Dirichlet, Chi2, StudentT and FisherSnedecor through an implicit gamma gradient
(``_gamma.py``, accurate to ~1e-13 where PyTorch's approximation is good to ~1e-3).

Modules: ``constraints`` and ``transforms`` (also ``constraint_registry`` with ``biject_to`` /
``transform_to``, and ``utils``) as in PyTorch; the families are grouped in continuous.py,
continuous_extra.py, discrete.py, counts.py, relaxed.py, transformed.py, multivariate.py and
multivariate_extra.py; KL rules in kl.py, kl_extra.py and kl_cross.py.

Example:
    >>> import autodiff as ad
    >>> d = ad.distributions.Normal(ad.zeros(3), ad.ones(3))
    >>> d.log_prob(d.sample()).shape  # (3,)
"""

from __future__ import annotations

from . import constraints, kl_cross, kl_extra, transforms  # noqa: F401 (KL registrations)
from .constraint_registry import biject_to, transform_to
from .continuous import Beta, Chi2, Exponential, Gamma, Laplace, Normal, Uniform
from .continuous_extra import (
    Cauchy,
    ContinuousBernoulli,
    FisherSnedecor,
    GeneralizedPareto,
    StudentT,
    VonMises,
)
from .counts import (
    Binomial,
    Geometric,
    Multinomial,
    NegativeBinomial,
    OneHotCategoricalStraightThrough,
    Poisson,
)
from .discrete import Bernoulli, Categorical, Dirichlet, OneHotCategorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal
from .multivariate_extra import (
    LKJCholesky,
    LowRankMultivariateNormal,
    MixtureSameFamily,
    Wishart,
)
from .relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from .transformed import (
    Gumbel,
    HalfCauchy,
    HalfNormal,
    InverseGamma,
    Kumaraswamy,
    LogisticNormal,
    LogNormal,
    Pareto,
    TransformedDistribution,
    Weibull,
)
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpRelaxedCategorical",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LogitRelaxedBernoulli",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
]

# PyTorch's one-module-per-family import paths (``distributions.normal.Normal``, ...): thin
# re-export modules (normal.py, categorical.py, ...), loaded on first attribute access.
_FAMILY_MODULES = frozenset((
    "bernoulli", "beta", "binomial", "categorical", "cauchy", "chi2", "continuous_bernoulli",
    "dirichlet", "exponential", "fishersnedecor", "gamma", "generalized_pareto", "geometric",
    "gumbel", "half_cauchy", "half_normal", "independent", "inverse_gamma", "kumaraswamy",
    "laplace", "lkj_cholesky", "log_normal", "logistic_normal", "lowrank_multivariate_normal",
    "mixture_same_family", "multinomial", "multivariate_normal", "negative_binomial", "normal",
    "one_hot_categorical", "pareto", "poisson", "relaxed_bernoulli", "relaxed_categorical",
    "studentT", "transformed_distribution", "uniform", "von_mises", "weibull", "wishart",
    "constraint_registry", "distribution", "exp_family", "kl", "utils",
))


def __getattr__(name: str):
    if name in _FAMILY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
