"""The four SymmetryLens loss families (Efe & Ozakin 2025: alignment, uniformity, resolution and
information preservation), as functions of the representation ``y``.

Index conventions follow the original: component ``n`` is compared with its neighbours ``n ± 1``
(marginals) and pair ``(g, e)`` with the diagonally shifted pairs ``(g ± 1, e ± 1)``
(conditionals); KL estimates are clipped at zero *after* batch averaging, per component or pair.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "alignment",
    "conditional_uniformity",
    "marginal_uniformity",
    "rank_weights",
    "soft_rank_joint_entropy",
]


def alignment(y: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """``−mean_n ρ(y_n, y_{n+1})``: minus the mean Pearson correlation of neighbours."""
    centred = y - y.mean(dim=0)
    norms = torch.linalg.vector_norm(centred, dim=0)
    products = (centred[:, :-1] * centred[:, 1:]).sum(dim=0)
    return -(products / (norms[:-1] * norms[1:] + eps)).mean()


def _average_available(minus, plus, minus_ok, plus_ok):
    """Per entry, the mean of the available one-sided terms; also whether any is available."""
    count = minus_ok.to(minus.dtype) + plus_ok.to(plus.dtype)
    total = torch.where(minus_ok, minus, 0.0) + torch.where(plus_ok, plus, 0.0)
    return total / count.clamp(min=1.0), count > 0


def marginal_uniformity(log_p: torch.Tensor, log_p_prev: torch.Tensor, log_p_next: torch.Tensor
                        ) -> torch.Tensor:
    """Mean over components of the neighbour KL estimates ``KL(p_n ‖ p_{n∓1})``.

    ``log_p[b, n] = log p_n(y_bn)``, ``log_p_prev[b, n] = log p_{n−1}(y_bn)``,
    ``log_p_next[b, n] = log p_{n+1}(y_bn)``; wrapped entries (n = 0 resp. N−1) are ignored.
    """
    n = log_p.shape[1]
    index = torch.arange(n, device=log_p.device)
    d_minus = torch.relu((log_p - log_p_prev).mean(dim=0))
    d_plus = torch.relu((log_p - log_p_next).mean(dim=0))
    per_component, _ = _average_available(d_minus, d_plus, index >= 1, index <= n - 2)
    return per_component.mean()


def conditional_uniformity(log_q: torch.Tensor, log_q_prev: torch.Tensor,
                           log_q_next: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
    """Mean over ordered pairs ``g ≠ e`` of KL(q_{g,e} ‖ q_{g∓1,e∓1}) estimates.

    Row ``b`` conditions on component ``g = slot[b]``. ``log_q[b, e] = log q_{g,e}(y_e | y_g)``;
    ``log_q_prev[b, e] = log q_{g−1,e−1}(y_e | y_g)``;
    ``log_q_next[b, e] = log q_{g+1,e+1}(y_e | y_g)``.
    Both terms of a KL estimate use the same rows (the original used different rows for the two
    terms; the expectation is the same, the variance lower).
    """
    n = log_q.shape[1]
    one_hot = torch.nn.functional.one_hot(slot, n).to(log_q.dtype)  # (B, N_g)
    counts = one_hot.sum(dim=0).clamp(min=1.0)[:, None]

    def pair_means(values):
        return (one_hot.T @ values) / counts  # (N_g, N_e)

    c_minus = torch.relu(pair_means(log_q - log_q_prev))
    c_plus = torch.relu(pair_means(log_q - log_q_next))
    g = torch.arange(n, device=log_q.device)[:, None]
    e = torch.arange(n, device=log_q.device)[None, :]
    present = (one_hot.sum(dim=0) > 0)[:, None]
    minus_ok = (g >= 1) & (e >= 1) & present
    plus_ok = (g <= n - 2) & (e <= n - 2) & present
    per_pair, available = _average_available(c_minus, c_plus, minus_ok, plus_ok)
    mask = available & (g != e)
    return per_pair[mask].mean()


def rank_weights(n: int, tau: float, gain: float = 50.0, *, dtype=torch.float64, device=None
                 ) -> torch.Tensor:
    """Soft rank selection ``w_i = logistic(−gain (s_i − τ))``, ``s_i = i/(N−1)``."""
    s = torch.linspace(0.0, 1.0, n, dtype=dtype, device=device)
    return torch.sigmoid(-torch.clamp(gain * (s - tau), -50.0, 50.0))


def soft_rank_joint_entropy(y: torch.Tensor, tau: float, gain: float = 50.0, eps: float = 1e-7
                            ) -> torch.Tensor:
    """Per-rank Gaussian joint entropy ``H_r(τ) = Σ w_i h_i / Σ w_i`` over covariance eigenvalues.

    ``h_i = ½(log(2π λ_i + eps) + 1)`` for the eigenvalues sorted in descending order, computed in
    float64 (``eigvalsh`` on the symmetric covariance).
    """
    y64 = y.to(torch.float64)
    centred = y64 - y64.mean(dim=0)
    covariance = centred.T @ centred / y64.shape[0]
    eigenvalues = torch.linalg.eigvalsh(covariance).flip(0).clamp(min=0.0)
    entropies = 0.5 * (torch.log(2 * math.pi * eigenvalues + eps) + 1.0)
    weights = rank_weights(y.shape[1], tau, gain, device=y.device)
    return (weights * entropies).sum() / weights.sum()
