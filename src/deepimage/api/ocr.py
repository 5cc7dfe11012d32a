"""``TextRecognizer``: the generic :class:`~deepimage.api.model.Model` for the ocr task,
and the synthetic line generator.

Example:
    >>> from deepimage.api import TextRecognizer
    >>> _ = TextRecognizer.synth("plates/", count=3000, test_count=500)  # doctest: +SKIP
    >>> reader = TextRecognizer("crnn")
    >>> report = reader.fit("plates/train", time_minutes=15, quiet=True)  # doctest: +SKIP
    >>> reader.predict("plate.png")[0]  # doctest: +SKIP
    {'path': 'plate.png', 'text': 'AB12CDE', 'confidence': 0.998}
    >>> reader.model
    'crnn'
"""

from __future__ import annotations

from typing import Any

from deepimage.api.model import Model


class TextRecognizer(Model):
    """A text-line recogniser (CRNN + CTC): ``fit`` on labelled lines, then ``evaluate``
    (exact match, character error rate) and ``predict`` (``{text, confidence}``)."""

    task_name = "ocr"

    @staticmethod
    def synth(out: str, **options: Any) -> dict[str, Any]:
        """Write synthetic lines (see :func:`deepimage.data.ocr_synth.synthesize_lines`)."""
        from deepimage.data.ocr_synth import synthesize_lines

        return synthesize_lines(out, **options)
