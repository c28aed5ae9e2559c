"""Density estimators used by the SymmetryLens losses (Efe & Ozakin 2025: the marginal and
conditional densities behind the uniformity loss).

Both are trained by maximum likelihood on the current representation ``y`` and are queried at
*shifted* indices, which is how the uniformity loss compares neighbouring components.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConditionalMixture", "MarginalMixture"]

_LOG_2PI = math.log(2 * math.pi)


def _gaussian_mixture_log_prob(value, log_weights, means, variances):
    """``log Σ_j w_j N(value; μ_j, v_j)`` over the last (kernel) axis."""
    squared = (value[..., None] - means) ** 2 / variances
    log_kernel = -0.5 * (_LOG_2PI + torch.log(variances) + squared)
    return torch.logsumexp(log_weights + log_kernel, dim=-1)


class MarginalMixture(nn.Module):
    """One 1-D Gaussian mixture per component: ``log p_n(y)``.

    Initialisation as in the authors' public code: centres U(−0.05, 0.05), log-variances and weight
    logits 1.0, both clipped to [−4.5, 4.5] before use.
    """

    def __init__(self, dim: int, n_kernels: int = 4, *, rng: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.means = nn.Parameter(
            (torch.rand(dim, n_kernels, generator=rng, dtype=dtype) - 0.5) * 0.1)
        self.log_variances = nn.Parameter(torch.ones(dim, n_kernels, dtype=dtype))
        self.logits = nn.Parameter(torch.ones(dim, n_kernels, dtype=dtype))

    def log_prob(self, y: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``log p_{n+offset}(y[:, n])`` for every component n, shape ``(B, N)``.

        Components whose shifted index falls outside ``0..N−1`` wrap around; callers mask them.
        """
        index = (torch.arange(y.shape[-1], device=y.device) + offset) % y.shape[-1]
        log_weights = torch.log_softmax(self.logits.clamp(-4.5, 4.5)[index], dim=-1)
        variances = torch.exp(self.log_variances.clamp(-4.5, 4.5)[index])
        return _gaussian_mixture_log_prob(y, log_weights, self.means[index], variances)


class ConditionalMixture(nn.Module):
    """Pairwise conditional densities ``log q_{g,e}(y_e | y_g)`` from one network per head.

    The original feeds a masked copy of ``y`` (only slot ``g`` non-zero) to three two-layer
    networks (mixture weights, means, variances). With a single non-zero input the first layer is
    a per-slot affine embedding ``y_g W1[g] + b1``, which is what is computed here:
    the same function at ``1/N`` of the cost. Heads follow the code, not the paper text: weights
    ``softmax(3.5 tanh)``, means ``LeakyReLU(0.2)``, variances ``exp(3.5 tanh)`` (as in the
    authors' public code).
    """

    def __init__(self, dim: int, hidden: int, n_kernels: int = 4, *,
                 rng: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.dim, self.hidden, self.n_kernels = dim, hidden, n_kernels
        out = dim * n_kernels

        def glorot(shape, fan_in, fan_out):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            return (torch.rand(*shape, generator=rng, dtype=dtype) * 2 - 1) * limit

        self.embed = nn.Parameter(glorot((3, dim, hidden), dim, hidden))
        self.embed_bias = nn.Parameter(torch.zeros(3, 1, hidden, dtype=dtype))
        self.head = nn.Parameter(glorot((3, hidden, out), hidden, out))
        self.head_bias = nn.Parameter(torch.zeros(3, 1, out, dtype=dtype))

    def log_prob(self, given: torch.Tensor, slot: torch.Tensor, targets: torch.Tensor
                 ) -> torch.Tensor:
        """``log q_{slot, e}(targets[:, e] | given)`` for every output index e, shape ``(B, N)``.

        ``given`` (B,) holds the conditioning value, ``slot`` (B,) its component index.
        """
        # The rows of the slots' embeddings as a product with one-hot rows rather than an
        # index: the gradient of an index is a scatter-add, whose threads add in a varying
        # order, so fits with more than one torch thread were not reproducible bit for bit.
        rows = torch.nn.functional.one_hot(slot, self.dim).to(self.embed.dtype) @ self.embed
        hidden = torch.nn.functional.leaky_relu(given[None, :, None] * rows + self.embed_bias,
                                                0.2)
        out = torch.baddbmm(self.head_bias, hidden, self.head)
        out = out.view(3, -1, self.dim, self.n_kernels)
        log_weights = torch.log_softmax(3.5 * torch.tanh(out[0]), dim=-1)
        means = torch.nn.functional.leaky_relu(out[1], 0.2)
        variances = torch.exp(3.5 * torch.tanh(out[2]))
        return _gaussian_mixture_log_prob(targets, log_weights, means, variances)

    def weight_penalty(self) -> torch.Tensor:
        """Σ of the Frobenius norms of the six weight matrices (not squared; biases excluded)."""
        return (torch.linalg.matrix_norm(self.embed).sum()
                + torch.linalg.matrix_norm(self.head).sum())
