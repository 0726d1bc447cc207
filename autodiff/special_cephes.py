"""Bessel, Airy and Hurwitz zeta functions of ``torch.special``, without SciPy.

Each function follows the algorithm PyTorch uses (``aten/src/ATen/native/Math.h``), which is
Cephes': rational approximations on ``|x| <= 5`` and a Hankel-type asymptotic form beyond for
J0/J1/Y0/Y1, Chebyshev series (Clenshaw's recurrence) on [0, 8] and [8, inf) for I0/I1 and on
[0, 2] and [2, inf) for K0/K1, Cephes' rational asymptotic forms and power series for Ai, and
the Euler-Maclaurin summation for the Hurwitz zeta. The coefficients are the published Cephes
ones (Moshier, 1984-2000). Every kernel runs on the backend's array module (NumPy or CuPy) in
float64 and casts back, so float32 results are correctly rounded float64 ones.

Gradients follow PyTorch: ``i0e``, ``i1e`` and ``zeta`` (in its second argument ``q``) are
differentiable, ``zeta``'s first argument raises NotImplementedError on backward, and the
others return tensors that do not require grad (as ``torch.special.bessel_j0`` does).

Example:
    >>> import autodiff as ad
    >>> ad.special.bessel_j0(ad.tensor([0.0, 2.404825557695773]))  # [1, ~0]
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .autograd.function import Function
from .ops._util import float_operand, float_operands, operands
from .tensor import Tensor

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "i0e", "i1e",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0", "zeta"]

# ------------------------------------------------------------------ Cephes coefficients
# J0 / Y0 (j0.c): PP/PQ/QP/QQ for x > 5 in z = 25 / x^2, RP/RQ and YP/YQ for x <= 5
_J0_PP = (7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01)
_J0_PQ = (9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00)
_J0_QP = (-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
          -5.14105326766599330220e+01, -6.05014350600728481186e+00)
_J0_QQ = (1.0, 6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
          7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
          2.42005740240291393179e+02)
_J0_RP = (-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15)
_J0_RQ = (1.0, 4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
          1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
          3.18121955943204943306e+16, 1.71086294081043136091e+18)
_J0_DR = (5.78318596294678452118e+00, 3.04712623436620863991e+01)  # squares of J0's zeros
_Y0_YP = (1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16)
_Y0_YQ = (1.0, 1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
          8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
          2.50596256172653059228e+17)
# J1 / Y1 (j1.c)
_J1_PP = (7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00)
_J1_PQ = (5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01)
_J1_QP = (5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01)
_J1_QQ = (1.0, 7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
          9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
          3.36093607810698293419e+02)
_J1_RP = (-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15)
_J1_RQ = (1.0, 6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
          2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
          8.95222336184627338078e+16, 5.32278620332680085395e+18)
_J1_DR = (1.46819706421238932572e+01, 4.92184563216946036703e+01)
_Y1_YP = (1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17)
_Y1_YQ = (1.0, 5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
          1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
          6.87141087355300489866e+16, 3.97270608116560655612e+18)
# I0 / I1 (i0.c, i1.c): Chebyshev series of exp(-x) I(x) on [0, 8] and of
# exp(-x) sqrt(x) I(x) on [8, inf)
_I0_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
         1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
         -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
         9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-09,
         -1.30002500998624804212e-08, 6.04699502254191894932e-08, -2.67079385394061173391e-07,
         1.11738753912010371815e-06, -4.41673835845875056359e-06, 1.64484480707288970893e-05,
         -5.75419501008210370398e-05, 1.88502885095841655729e-04, -5.76375574538582365885e-04,
         1.63947561694133579842e-03, -4.32430999505057594430e-03, 1.05464603945949983183e-02,
         -2.37374148058994688156e-02, 4.93052842396707084878e-02, -9.49010970480476444210e-02,
         1.71620901522208775349e-01, -3.04682672343198398683e-01, 6.76795274409476084995e-01)
_I0_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
         3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
         1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
         -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
         7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
         -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
         3.39623202570838634515e-09, 2.26666899049817806459e-08, 2.04891858946906374183e-07,
         2.89137052083475648297e-06, 6.88975834691682398426e-05, 3.36911647825569408990e-03,
         8.04490411014108831608e-01)
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-09,
         9.38153738649577178388e-09, -4.44505912879632808065e-08, 2.00329475355213526229e-07,
         -8.56872026469545474066e-07, 3.47025130813767847674e-06, -1.32731636560394358279e-05,
         4.78156510755005422638e-05, -1.61760815825896745588e-04, 5.12285956168575772895e-04,
         -1.51357245063125314899e-03, 4.15642294431288815669e-03, -1.05640848946261981558e-02,
         2.47264490306265168283e-02, -5.29459812080949914269e-02, 1.02643658689847095384e-01,
         -1.76416518357834055153e-01, 2.52587186443633654823e-01)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-09, -2.63146884688951950684e-08, -2.51223623787020892529e-07,
         -3.88256480887769039346e-06, -1.10588938762623716291e-04, -9.76109749136146840777e-03,
         7.78576235018280120474e-01)
# K0 / K1 (k0.c, k1.c): Chebyshev series on [0, 2] in x^2 - 2 and on [2, inf) in 8/x - 2
_K0_A = (1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01)
_K0_B = (5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00)
_K1_A = (-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00)
_K1_B = (-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00)
# Ai (airy.c): x >= 2.09 in 1/zeta, x < -2.09 in 1/zeta^2; power series in between
_AI_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
          1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
          1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AI_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
          1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
          1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AI_FN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
          -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
          -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AI_FD = (1.0, 1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
          9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
          4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AI_GN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
          9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
          5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
          8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AI_GD = (1.0, 9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
          5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
          4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
          4.91834570062930015649e-09)
# the Bernoulli-number divisors of zeta's Euler-Maclaurin tail: (2k)! / B_2k
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_SQRT_2_PI = 0.797884560802865355879892119868763737  # sqrt(2 / pi)


# ------------------------------------------------------------------ array kernels (float64)
def _poly(coefs, t):
    """Horner: coefs[0] t^(n-1) + ... + coefs[-1] (leading 1.0 written out: Cephes' p1evl)."""
    out = 0.0 * t + coefs[0]
    for c in coefs[1:]:
        out = out * t + c
    return out


def _chbevl(t, coefs):
    """Clenshaw's recurrence for the Chebyshev series sum' c_k T_k(t / 2) (Cephes' chbevl)."""
    b0, b1, b2 = 0.0 * t + coefs[0], 0.0 * t, 0.0 * t
    for c in coefs[1:]:
        b2, b1 = b1, b0
        b0 = t * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _hankel(xp, a, pp, pq, qp, qq, phase):
    """The large-x form sqrt(2/(pi x)) (P cos(x - phase) - 5/x Q sin(x - phase)) and the
    matching Y form (P sin + 5/x Q cos), P, Q rational in 25/x^2; a > 5."""
    z = 25.0 / (a * a)
    p, q = _poly(pp, z) / _poly(pq, z), _poly(qp, z) / _poly(qq, z)
    c, s = xp.cos(a - phase), xp.sin(a - phase)
    k = _SQRT_2_PI / xp.sqrt(a)
    return (p * c - 5.0 / a * q * s) * k, (p * s + 5.0 / a * q * c) * k


def _j0(xp, x):
    a = xp.abs(x)
    small = xp.minimum(a, 5.0)
    z = small * small
    near = (z - _J0_DR[0]) * (z - _J0_DR[1]) * _poly(_J0_RP, z) / _poly(_J0_RQ, z)
    near = xp.where(a < 1e-5, 1.0 - z / 4.0, near)
    far = _hankel(xp, xp.maximum(a, 5.0), _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, math.pi / 4)[0]
    return xp.where(a <= 5.0, near, far)


def _y0(xp, x):
    small = xp.clip(x, 0.0, 5.0)
    z = small * small
    near = _poly(_Y0_YP, z) / _poly(_Y0_YQ, z) + 2 / math.pi * xp.log(small) * _j0(xp, small)
    far = _hankel(xp, xp.maximum(x, 5.0), _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, math.pi / 4)[1]
    out = xp.where(x <= 5.0, near, far)
    return xp.where(x < 0, xp.nan, xp.where(x == 0, -xp.inf, out))


def _j1(xp, x):
    a = xp.abs(x)
    small = xp.minimum(a, 5.0)
    z = small * small
    near = _poly(_J1_RP, z) / _poly(_J1_RQ, z) * small * (z - _J1_DR[0]) * (z - _J1_DR[1])
    far = _hankel(xp, xp.maximum(a, 5.0), _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, 3 * math.pi / 4)[0]
    out = xp.where(a <= 5.0, near, far)
    return xp.where(x < 0, -out, out)


def _y1(xp, x):
    small = xp.clip(x, 0.0, 5.0)
    z = small * small
    near = small * (_poly(_Y1_YP, z) / _poly(_Y1_YQ, z)) + 2 / math.pi * (
        _j1(xp, small) * xp.log(small) - 1.0 / small)
    far = _hankel(xp, xp.maximum(x, 5.0), _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, 3 * math.pi / 4)[1]
    out = xp.where(x <= 5.0, near, far)
    return xp.where(x < 0, xp.nan, xp.where(x == 0, -xp.inf, out))


def _ie(xp, x, coef_a, coef_b, odd: bool):
    """exp(-|x|) I(x) for I0 (odd=False) or I1 (odd=True)."""
    a = xp.abs(x)
    near = _chbevl(xp.minimum(a, 8.0) / 2.0 - 2.0, coef_a)
    near = near * a if odd else near
    big = xp.maximum(a, 8.0)
    out = xp.where(a <= 8.0, near, _chbevl(32.0 / big - 2.0, coef_b) / xp.sqrt(big))
    return xp.where(x < 0, -out, out) if odd else out


def _i0e(xp, x):
    return _ie(xp, x, _I0_A, _I0_B, False)


def _i1e(xp, x):
    return _ie(xp, x, _I1_A, _I1_B, True)


def _i0(xp, x):
    return xp.exp(xp.abs(x)) * _i0e(xp, x)


def _i1(xp, x):
    return xp.exp(xp.abs(x)) * _i1e(xp, x)


def _ke(xp, x, order: int):
    """exp(x) K_order(x) (x > 0): near 0 through I, the Chebyshev series beyond 2."""
    small = xp.clip(x, 0.0, 2.0)
    if order == 0:
        near = _chbevl(small * small - 2.0, _K0_A) - xp.log(0.5 * small) * _i0(xp, small)
    else:
        near = xp.log(0.5 * small) * _i1(xp, small) + _chbevl(small * small - 2.0, _K1_A) / small
    big = xp.maximum(x, 2.0)
    far = _chbevl(8.0 / big - 2.0, _K0_B if order == 0 else _K1_B) / xp.sqrt(big)
    out = xp.where(x <= 2.0, near * xp.exp(small), far)
    return xp.where(x < 0, xp.nan, xp.where(x == 0, xp.inf, out))


def _k0e(xp, x):
    return _ke(xp, x, 0)


def _k1e(xp, x):
    return _ke(xp, x, 1)


def _k0(xp, x):
    return xp.where(x == 0, xp.inf, _k0e(xp, x) * xp.exp(-x))


def _k1(xp, x):
    return xp.where(x == 0, xp.inf, _k1e(xp, x) * xp.exp(-x))


def _spherical_j0(xp, x):
    z = x * x
    series = 1.0 + z * _poly((1 / 6227020800, -1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120,
                              -1 / 6), z)
    out = xp.where(xp.abs(x) < 0.5, series, xp.sin(x) / xp.where(x == 0, 1.0, x))
    return xp.where(xp.isinf(x), 0.0, out)


def _airy_ai(xp, x):
    c = 0.564189583547756286948  # 1 / sqrt(pi)
    neg = xp.minimum(x, -2.09)
    zeta = -2.0 * neg * xp.sqrt(-neg) / 3.0
    z2 = 1.0 / (zeta * zeta)
    t = zeta + 0.25 * math.pi
    osc = c / xp.sqrt(xp.sqrt(-neg)) * (
        xp.sin(t) * (1.0 + z2 * _poly(_AI_FN, z2) / _poly(_AI_FD, z2))
        - xp.cos(t) * (_poly(_AI_GN, z2) / _poly(_AI_GD, z2) / zeta))
    pos = xp.clip(x, 2.09, 103.892)
    zeta = 2.0 * pos * xp.sqrt(pos) / 3.0
    decay = c * (_poly(_AI_AN, 1.0 / zeta) / _poly(_AI_AD, 1.0 / zeta)) / (
        2.0 * xp.sqrt(xp.sqrt(pos)) * xp.exp(zeta))
    mid = xp.clip(x, -2.09, 2.09)  # Ai = c1 f - c2 g, f and g the Maclaurin series
    z = mid * mid * mid
    f, g, m, n = 1.0 + 0.0 * mid, mid, 1.0 + 0.0 * mid, mid
    for k in range(1, 40):
        m = m * z / ((3 * k - 1) * (3 * k))
        n = n * z / ((3 * k) * (3 * k + 1))
        f, g = f + m, g + n
    series = 0.355028053887817239260 * f - 0.258819403792806798405 * g
    out = xp.where(x < -2.09, osc, xp.where(x >= 2.09, decay, series))
    out = xp.where(x > 103.892, 0.0, out)
    return xp.where(xp.isinf(x), xp.nan, out)


def _zeta(xp, x, q):
    """The Hurwitz zeta sum_k (k + q)^-x: direct sum until k + q > 9 (at least 9 terms),
    then the Euler-Maclaurin tail with 12 Bernoulli terms, as Cephes' zeta.c."""
    eps = 1.11022302462515654042e-16
    finite_q = xp.where(xp.isfinite(q), q, 10.0)
    terms = xp.maximum(9.0, xp.floor(9.0 - finite_q) + 1.0)  # the loop's i at its exit
    count = int(xp.max(terms)) if terms.size else 0
    s = q ** -x
    for j in range(1, count + 1):
        s = s + xp.where(j <= terms, (q + j) ** -x, 0.0)
    w = q + terms
    b = w ** -x
    s = s + b * w / (x - 1.0) - 0.5 * b
    a, k, done = 1.0, 0.0, xp.zeros(s.shape, bool)
    for div in _ZETA_A:
        a = a * (x + k)
        b = b / w
        t = a * b / div
        s = xp.where(done, s, s + t)
        done = done | (xp.abs(t / s) < eps)
        k += 1.0
        a = a * (x + k)
        b = b / w
        k += 1.0
    s = xp.where(q <= 0, xp.where(q == xp.floor(q), xp.inf,
                                  xp.where(x != xp.floor(x), xp.nan, s)), s)
    s = xp.where((x == xp.inf) & ~xp.isnan(q), xp.where(q < 1, xp.inf, xp.where(q == 1, 1.0, xp.nan)), s)
    return xp.where(x == 1, xp.inf, xp.where(x < 1, xp.nan, s))


# ------------------------------------------------------------------ wrappers
def _values(kernel, x: Tensor, *more: Tensor) -> Tensor:
    """kernel's float64 result in x's dtype, as a tensor that does not require grad."""
    xp = x._dev.backend.xp
    with np.errstate(all="ignore"):  # overflow to inf and NaN outside the domain are intended
        out = kernel(xp, x._data.astype(np.float64), *(m._data.astype(np.float64) for m in more))
        out = out.astype(x._data.dtype, copy=False)
    return Tensor._make(out, x._dev, False, None)


def _no_grad(kernel, named_x: bool = False):
    """The function of one tensor; its parameter named as torch.special's (``input``, or
    ``x`` for airy_ai, scaled_modified_bessel_k0/k1 and spherical_bessel_j0)."""

    def fn(input: Tensor) -> Tensor:
        return _values(kernel, float_operand(input).detach())

    def fn_x(x: Tensor) -> Tensor:
        return _values(kernel, float_operand(x).detach())

    return fn_x if named_x else fn


class _I0e(Function):
    """y = exp(-|x|) I0(x); dx = dy (i1e(x) - sgn(x) y)."""

    @staticmethod
    def forward(ctx, x):
        y = _values(_i0e, x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * (i1e(x) - x.sign() * y)


class _I1e(Function):
    """y = exp(-|x|) I1(x); dx = dy (i0e(x) - y (sgn(x) + 1/x)), dy / 2 at x = 0."""

    @staticmethod
    def forward(ctx, x):
        y = _values(_i1e, x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        zero = x == 0
        safe = ops.where(zero, 1.0, x)
        return g * ops.where(zero, 0.5, i0e(x) - y * (x.sign() + 1 / safe))


class _Zeta(Function):
    """y = zeta(x, q); dq = -dy x zeta(x + 1, q); dx is not implemented (PyTorch's is not)."""

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        return _values(_zeta, x, q)

    @staticmethod
    def backward(ctx, g):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, -g * x * zeta(x + 1, q)


bessel_j0 = _no_grad(_j0)
bessel_j1 = _no_grad(_j1)
bessel_y0 = _no_grad(_y0)
bessel_y1 = _no_grad(_y1)
modified_bessel_i0 = _no_grad(_i0)
modified_bessel_i1 = _no_grad(_i1)
modified_bessel_k0 = _no_grad(_k0)
modified_bessel_k1 = _no_grad(_k1)
scaled_modified_bessel_k0 = _no_grad(_k0e, named_x=True)
scaled_modified_bessel_k1 = _no_grad(_k1e, named_x=True)
spherical_bessel_j0 = _no_grad(_spherical_j0, named_x=True)
airy_ai = _no_grad(_airy_ai, named_x=True)
for _fn in (bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1,
            modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0,
            scaled_modified_bessel_k1, spherical_bessel_j0, airy_ai):
    _name = next(k for k, v in list(globals().items()) if v is _fn and not k.startswith("_"))
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__doc__ = (f"torch.special.{_name}, elementwise (Cephes' algorithm, computed in "
                   f"float64); not differentiable, as PyTorch's.")
del _fn, _name


def i0e(input: Tensor) -> Tensor:
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0;
    d/dx = i1e(x) - sgn(x) i0e(x)."""
    return _I0e.apply(float_operand(input))


def i1e(input: Tensor) -> Tensor:
    """exp(-|x|) I1(x); d/dx = i0e(x) - i1e(x) (sgn(x) + 1/x) (1/2 at 0)."""
    return _I1e.apply(float_operand(input))


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function sum_{k >= 0} (k + other)^-input, broadcast; +inf at
    input == 1 and at other = 0, -1, -2, ...; NaN for input < 1. Differentiable in ``other``.

    Example:
        >>> zeta(ad.tensor([2.0]), 1.0)  # pi^2 / 6
    """
    x, q = float_operands(input, other)
    if x.dtype is not q.dtype:
        wide = x.dtype if x.dtype.itemsize >= q.dtype.itemsize else q.dtype
        x, q = x.to(wide), q.to(wide)
    shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(q.shape)))
    return _Zeta.apply(x.broadcast_to(shape), q.broadcast_to(shape))
