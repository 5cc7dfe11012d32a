"""The text-line LightningModule: grey uint8 lines in (padded to the batch's widest),
CTC loss (``torch.nn.CTCLoss``, blank 0) on the CRNN's per-column log-probabilities;
validation decodes greedily and logs exact-match accuracy (which picks ``best.ckpt``) and
the character error rate, as ``evaluate`` computes them.

Example:
    >>> import numpy as np
    >>> task = OcrTask("crnn", alphabet="AB", img_height=32)
    >>> row = task.read([np.zeros((32, 80), np.uint8)])[0]  # untrained: any text
    >>> sorted(row), set(row["text"]) <= set("AB"), 0 <= row["confidence"] <= 1
    (['confidence', 'text'], True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics.text import CharErrorRate

from deepimage.data.ocr_batches import LineBatch, pad_lines
from deepimage.engine.module import TaskModule
from deepimage.models import create_model, model_info
from deepimage.tasks.ocr_decode import beam_decode, greedy_decode, text_confidence
from deepimage.tasks.ocr_spec import OcrPredict, OcrTrain


class OcrTask(TaskModule):
    """Trains and runs a registry text-line recogniser over ``alphabet``."""

    task_name = "ocr"
    settings_classes = (OcrTrain, OcrPredict)

    def __init__(
        self,
        model: str,
        alphabet: str,
        img_height: int = 32,
        max_width: int = 512,
        lr: float = 2e-3,
        optimizer: str = "adamw",
        schedule: str = "cosine",
        weight_decay: float = 1e-4,
        warmup_steps: int = 200,
        ema_decay: float = 0.0,
        time_budget_s: float | None = None,
        pretrained: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = create_model(
            "ocr", model, num_classes=len(alphabet) + 1, in_channels=1, img_size=img_height
        )
        self.val_cer = CharErrorRate()
        self._val_exact: list[float] = []
        self.init_engine()

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """The engine's checks, and: a registered model and an alphabet without repeats.

        Example:
            >>> OcrTask.check_hyperparameters(dict(model="crnn", alphabet="ABA"))
            Traceback (most recent call last):
            ...
            ValueError: 'alphabet' repeats a character: 'ABA'
        """
        super().check_hyperparameters(hparams)
        model_info("ocr", hparams["model"])
        alphabet = hparams["alphabet"]
        if not alphabet or len(set(alphabet)) != len(alphabet):
            raise ValueError(f"'alphabet' repeats a character: {alphabet!r}")

    def model_card(self) -> dict[str, Any]:
        hp = self.hparams
        return {
            "model": hp.model,
            "alphabet": hp.alphabet,
            "input": {"height": hp.img_height, "max_width": hp.max_width, "channels": 1},
        }

    def batch_size(self, batch: LineBatch) -> int:
        return len(batch[1])

    # ---------------------------------------------------------------- inference
    def forward(
        self, images: torch.Tensor, widths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(T x N x classes log-probabilities, lengths) of N x 1 x H x W uint8 lines."""
        return self.inference_net(images.float().div(127.5).sub(1), widths)

    @torch.no_grad()
    def read(
        self, lines: list[np.ndarray], decoder: str = "greedy", beam_width: int = 10
    ) -> list[dict[str, Any]]:
        """``{text, confidence}`` for grey uint8 lines already at the model's height."""
        images, widths = pad_lines(lines)
        log_probs, lengths = self(images.to(self.device), widths.to(self.device))
        alphabet = self.hparams.alphabet
        if decoder == "beam":
            texts = beam_decode(log_probs, lengths, alphabet, beam_width)
        else:
            texts = greedy_decode(log_probs, lengths, alphabet)
        confidences = text_confidence(log_probs, lengths, texts, alphabet)
        return [{"text": t, "confidence": c} for t, c in zip(texts, confidences, strict=True)]

    # ----------------------------------------------------------------- training
    def compute_loss(self, batch: LineBatch, batch_idx: int) -> torch.Tensor:
        images, widths, targets, target_lengths, _ = batch
        log_probs, lengths = self.net(images.float().div(127.5).sub(1), widths)
        return F.ctc_loss(
            log_probs, targets, lengths, target_lengths, zero_infinity=True
        )  # the mean over lines of the loss per target character, as CTCLoss's default

    def on_train_epoch_start(self) -> None:
        # dropout draws from the global generator: seeded per epoch
        torch.manual_seed(hash((self.hparams.seed, self.current_epoch, self.global_rank)) % 2**63)

    # --------------------------------------------------------------- validation
    def validation_step(self, batch: LineBatch, batch_idx: int) -> None:
        images, widths, _, _, texts = batch
        log_probs, lengths = self(images, widths)
        read = greedy_decode(log_probs, lengths, self.hparams.alphabet)
        self._val_exact += [float(a == b) for a, b in zip(read, texts, strict=True)]
        self.val_cer.update(read, list(texts))

    def on_validation_epoch_end(self) -> None:
        exact = [value for shard in self.gather(self._val_exact) for value in shard]
        self._val_exact = []
        self.log("val/exact_match", float(np.mean(exact)) if exact else 0.0, prog_bar=True)
        self.log("val/cer", self.val_cer.compute(), prog_bar=True)
        self.val_cer.reset()
