"""CTC decoding: from per-column log-probabilities (blank = 0, character i = i + 1) to
text, greedily or by prefix beam search, and a confidence that is the probability CTC
gives the decoded text (summed over all its alignments).

The beam search is written here (40 lines of NumPy): torchaudio's CTC decoder needs the
flashlight-text package and a matching torchaudio build for every torch release.

Example:
    >>> import torch
    >>> probs = torch.tensor([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    >>> log_probs = probs.log()[:, None]  # T x N x classes
    >>> greedy_decode(log_probs, torch.tensor([4]), "AB")
    ['AB']
    >>> beam_decode(log_probs, torch.tensor([4]), "AB", beam_width=4)
    ['AB']
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

from deepimage.data.ocr_batches import encode_texts


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, alphabet: str) -> list[str]:
    """The best class per column, repeats merged, blanks dropped, for each of N lines."""
    best = log_probs.argmax(2).T.cpu()  # N x T
    texts = []
    for path, length in zip(best, lengths.tolist(), strict=True):
        path = path[:length]
        keep = torch.ones_like(path, dtype=torch.bool)
        keep[1:] = path[1:] != path[:-1]
        texts.append("".join(alphabet[int(i) - 1] for i in path[keep & (path > 0)]))
    return texts


def beam_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor, alphabet: str, beam_width: int = 10
) -> list[str]:
    """Prefix beam search (Hannun et al. 2014) over each line, keeping ``beam_width``
    prefixes scored by the sum over their alignments; no language model."""
    columns = log_probs.float().permute(1, 0, 2).cpu().numpy()  # N x T x classes
    return [
        "".join(alphabet[i - 1] for i in _beam(line[:length], beam_width))
        for line, length in zip(columns, lengths.tolist(), strict=True)
    ]


def _beam(log_probs: np.ndarray, width: int) -> tuple[int, ...]:
    # each prefix keeps (log p ending in blank, log p ending in its last character)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -np.inf)}
    for column in log_probs:
        candidates = np.argsort(column)[::-1][:width]
        grown: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-np.inf, -np.inf])
        for prefix, (blank, char) in beams.items():
            total = np.logaddexp(blank, char)
            for k in candidates:
                p = column[k]
                if k == 0:
                    grown[prefix][0] = np.logaddexp(grown[prefix][0], total + p)
                    continue
                longer = (*prefix, int(k))
                if prefix and prefix[-1] == k:  # a repeat needs a blank between
                    grown[longer][1] = np.logaddexp(grown[longer][1], blank + p)
                    grown[prefix][1] = np.logaddexp(grown[prefix][1], char + p)
                else:
                    grown[longer][1] = np.logaddexp(grown[longer][1], total + p)
        ranked = sorted(grown.items(), key=lambda item: -np.logaddexp(*item[1]))[:width]
        beams = {prefix: (scores[0], scores[1]) for prefix, scores in ranked}
    return max(beams.items(), key=lambda item: np.logaddexp(*item[1]))[0]


def text_confidence(
    log_probs: torch.Tensor, lengths: torch.Tensor, texts: list[str], alphabet: str
) -> list[float]:
    """p(text | line) under the model: exp(-CTC loss) of each decoded text.

    Example:
        >>> probs = torch.tensor([[0.1, 0.9], [0.9, 0.1]]).log()[:, None]
        >>> [round(p, 2) for p in text_confidence(probs, torch.tensor([2]), ["A"], "A")]
        [0.91]
    """
    targets, target_lengths = encode_texts(texts, alphabet)
    loss = F.ctc_loss(
        log_probs.float().cpu(), targets, lengths.cpu(), target_lengths, reduction="none",
        zero_infinity=True,
    )  # fmt: skip
    return [round(float(p), 6) for p in (-loss).exp()]
