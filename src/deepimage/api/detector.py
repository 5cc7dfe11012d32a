"""``Detector``: the generic :class:`~deepimage.api.model.Model` for the detect task.

Predictions are in original-image pixels whatever the image size; ``evaluate`` scores
exactly what ``predict`` returns for the split's images, with pycocotools.

Example:
    >>> from deepimage.api import Detector
    >>> det = Detector("ssdlite320_mobilenet_v3_large")
    >>> report = det.fit("raccoon", epochs=1, quiet=True)  # doctest: +SKIP
    >>> det.predict(["photo.jpg"], conf=0.3)[0]["detections"]  # doctest: +SKIP
    [{'box': [12.5, 30.0, 220.25, 310.0], 'label': 'raccoon', 'score': 0.91}]
    >>> det.model
    'ssdlite320_mobilenet_v3_large'
"""

from __future__ import annotations

from deepimage.api.model import Model


class Detector(Model):
    """An object detector: ``fit`` on COCO / VOC / YOLO data, then ``evaluate`` / ``predict``."""

    task_name = "detect"
