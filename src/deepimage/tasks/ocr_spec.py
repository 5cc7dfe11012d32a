"""The text-line recognition task's light half: its settings per verb (train, evaluate,
predict, synth) and its registry entry.

Example:
    >>> from deepimage.engine.settings import make_settings
    >>> make_settings(OcrTrain, {"data": "plates/"}).img_height
    32
    >>> make_settings(OcrSynth, {"out": "lines"}).count
    3000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepimage.engine.settings import setting
from deepimage.tasks.registry import TaskSpec, register_task
from deepimage.tasks.settings import EvaluateSettings, PredictSettings, TrainSettings

DECODERS = ("greedy", "beam")
PLATE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DATA_HELP = (
    "A folder of line images named by their text (AB12CDE.png, AB12CDE_2.png), or with a "
    "labels.csv / labels.txt of path,text rows; train/ val/ test/ subfolders are kept."
)
DECODER_HELP = "CTC decoding: greedy (best class per column) or beam (prefix beam search)."
BEAM_HELP = "Prefixes kept by the beam search."


@dataclass
class OcrTrain(TrainSettings):
    """Everything a text-line run is made from; saved as the run's ``config.yaml``."""

    data: str = setting("", DATA_HELP, short="-d")
    model: str = setting("crnn", "Model name (see `deepimage ocr models`).", short="-m")
    epochs: int = setting(200, "Most epochs to train (--time usually ends a run first).", low=1)
    batch_size: int = setting(32, "Lines per training batch.", low=2, short="-b")
    lr: float = setting(2e-3, "Peak AdamW learning rate.", low=0.0)
    weight_decay: float = setting(1e-4, "Weight decay (AdamW's decoupled kind).", low=0.0)
    warmup_steps: int = setting(200, "Steps of linear learning-rate warm-up.", low=0)
    gradient_clip: float | None = setting(5.0, "Clip the gradient norm (LSTMs need it).", low=0.0)
    img_height: int = setting(32, "Line height the model reads (aspect ratio kept).", low=16,
                              high=256)  # fmt: skip
    max_width: int = setting(
        512, "Widest line in pixels after scaling; wider ones are squeezed.", low=16, high=4096
    )
    alphabet: str | None = setting(
        None, "The characters the model can read. Default: those of the training texts."
    )
    augment: str = setting(
        "lines",
        "lines (small rotations, shear, zoom, contrast, blur, each line on its own) or none.",
        choices=("lines", "none"),
    )
    val_fraction: float | None = setting(
        0.1,
        "Share held out as 'val' when the data has no split (and as much as 'test' when it "
        "has no split at all).",
        low=0.0,
        high=0.5,
    )


@dataclass
class OcrEvaluate(EvaluateSettings):
    """``ocr evaluate`` options."""

    data: str = setting("", DATA_HELP, short="-d")
    decoder: str = setting("greedy", DECODER_HELP, choices=DECODERS)
    beam_width: int = setting(10, BEAM_HELP, low=1, high=100)


@dataclass
class OcrPredict(PredictSettings):
    """``ocr predict`` options."""

    decoder: str = setting("greedy", DECODER_HELP, choices=DECODERS)
    beam_width: int = setting(10, BEAM_HELP, low=1, high=100)


@dataclass
class OcrSynth:
    """``ocr synth`` options: synthetic text lines to start from without data."""

    out: str = setting("", "Folder to write train/ and test/ (each with labels.csv).", short="-o")
    count: int = setting(3000, "Training lines.", low=1, high=10_000_000, short="-n")
    test_count: int = setting(500, "Test lines.", low=0, high=10_000_000)
    alphabet: str = setting(PLATE_ALPHABET, "Characters to draw from.")
    length: str = setting("7", "Characters per line: N, or MIN-MAX (5-9).")
    height: int = setting(48, "Line height in pixels.", low=16, high=256)
    seed: int = setting(0, "Seed: the same one writes the same lines.")
    overwrite: bool = setting(False, "Write into a folder that already holds lines.")


def _row_summary(row: dict[str, Any]) -> dict[str, str]:
    return {"text": row["text"], "confidence": f"{row['confidence']:.3f}"}


SPEC = register_task(
    TaskSpec(
        name="ocr",
        noun="text-line recogniser",
        help="Read lines of text (licence plates, serial numbers, words): CRNN + CTC.",
        train=OcrTrain,
        evaluate=OcrEvaluate,
        predict=OcrPredict,
        hooks_module="deepimage.tasks.ocr_hooks",
        monitor="val/exact_match",
        headline=("exact_match", "cer"),
        row_summary=_row_summary,
        models_example={"num_classes": 37, "in_channels": 1, "img_size": 32},
    )
)
