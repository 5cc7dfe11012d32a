"""Segmentation losses over N x K x H x W logits and N x H x W targets, ignored pixels
(255) left out: cross-entropy, softmax focal, soft Dice (segmentation_models_pytorch's
``DiceLoss``) and cross-entropy plus Dice; class weights apply to cross-entropy and focal.

Example:
    >>> import torch
    >>> logits = torch.zeros(1, 2, 4, 4); target = torch.ones(1, 4, 4, dtype=torch.long)
    >>> round(float(segmentation_loss("ce", logits, target)), 4)
    0.6931
    >>> target[0, 0] = 255  # ignored: the same loss
    >>> round(float(segmentation_loss("ce-dice", logits, target)), 4)
    0.8598
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from segmentation_models_pytorch.losses import DiceLoss

from deepimage.data.segmentation import IGNORED

FOCAL_GAMMA = 2.0
_DICE = DiceLoss("multiclass", from_logits=True, ignore_index=IGNORED)


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Lin et al.'s focal loss on the softmax: mean of -w_t (1 - p_t)^2 log p_t over the
    pixels that are not ignored (``w_t`` the target's class weight, 1 without weights)."""
    log_p = -F.cross_entropy(logits, target, reduction="none", ignore_index=IGNORED)
    kept = target != IGNORED
    loss = -((1 - log_p.exp()) ** FOCAL_GAMMA) * log_p
    if weight is not None:
        loss = loss * weight[target.clamp(max=len(weight) - 1)]
    return loss[kept].sum() / kept.sum().clamp(min=1)


def segmentation_loss(
    name: str, logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """The loss ``name`` (ce, dice, focal, ce-dice), computed in float32."""
    logits = logits.float()
    if name == "focal":
        return focal_loss(logits, target, weight)
    loss = logits.new_zeros(())
    if name in ("ce", "ce-dice"):
        loss = loss + F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORED)
    if name in ("dice", "ce-dice"):
        loss = loss + _DICE(logits, target)
    return loss
