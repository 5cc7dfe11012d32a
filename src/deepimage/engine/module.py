"""``TaskModule``: the LightningModule base every task builds on. It owns what any task may
use, each switched by the task's hyperparameters: AdamW or SGD, a linear warm-up then a
cosine that ends with ``--epochs`` or ``--time`` (whichever comes first; elapsed time is
saved in checkpoints, so a resumed run keeps its schedule) or one-cycle, an exponential
moving average of the weights (what validation and inference then run), a guard that skips
non-finite losses, gathering objects across DDP ranks, a per-task batch-size hook for the
throughput meter, and the model card that makes a checkpoint a complete model file.

A task subclass sets ``self.net`` in ``__init__``, calls :meth:`init_engine`, and writes
:meth:`compute_loss`; see docs/architecture.md, "Adding a task".

Example:
    >>> import torch
    >>> class Tiny(TaskModule):
    ...     task_name = "tiny"
    ...     def __init__(self, lr: float = 0.1, ema_decay: float = 0.9):
    ...         super().__init__()
    ...         self.save_hyperparameters()
    ...         self.net = torch.nn.Linear(2, 1)
    ...         self.init_engine()
    ...     def compute_loss(self, batch, batch_idx):
    ...         return self.net(batch[0]).pow(2).mean()
    >>> Tiny().inference_net is not None
    True
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import time
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import lightning.pytorch as pl
import torch

from deepimage.engine.checkpoints import load_matching_weights
from deepimage.engine.settings import (
    check_value,
    make_settings,
    meta_of,
    settings_fields,
    short_repr,
    type_name,
)
from deepimage.errors import DeepImageError, ModelFileError

T = TypeVar("T", bound="TaskModule")

CARD_KEY = "deepimage"  # the checkpoint entry that says what the model is for
MAX_CLASSES = 100_000
EDITED = "the file was edited or damaged; use a checkpoint as a deepimage run wrote it"


def warmup_cosine(
    step: int, progress: float, warmup: int, start: float = 0.001, floor: float = 0.0
) -> float:
    """A linear warm-up from ``start`` to 1 over ``warmup`` steps, then a cosine from 1 to
    ``floor`` as ``progress`` (the fraction of the run done, by steps or time) goes to 1.

    Example:
        >>> [round(warmup_cosine(s, p, 10), 4) for s, p in [(0, 0), (5, 0), (10, 0.1), (99, 1)]]
        [0.001, 0.5005, 0.9755, 0.0]
    """
    if step < warmup:
        return start + (1 - start) * step / warmup
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def step_is_logged(trainer: pl.Trainer) -> bool:
    """Whether the trainer writes this training step's logged figures (every
    ``log_every_n_steps``): per-step ``self.log`` calls cost about 1 ms of Python each, as
    much as a small CNN's whole step, so per-step figures are logged only then."""
    return bool(trainer._logger_connector.should_update_logs)


class TaskModule(pl.LightningModule):
    """A task's LightningModule with the engine's training tricks (see the module doc)."""

    task_name: ClassVar[str] = "task"  # the spec's name: checked when a checkpoint is loaded
    decay_norms_and_biases: ClassVar[bool] = True  # False: no weight decay on them
    lr_floor: ClassVar[float] = 0.0  # the cosine ends at this fraction of the peak rate
    warmup_start: ClassVar[float] = 0.001  # the warm-up starts at this fraction
    ddp_unused_parameters = False
    """True where a step leaves some parameters without gradients (a GAN's discriminator
    step): DDP then looks for them every step, at some cost."""
    settings_classes: ClassVar[tuple[type, ...]] = ()
    """The task's settings dataclasses (train first): their bounds and choices check a
    checkpoint's hyperparameters of the same names, and the train settings its data card."""

    net: torch.nn.Module

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A task's ``validation_step`` runs in float32 even when training is in mixed
        precision, so the figure that picks ``best.ckpt`` is the one ``evaluate`` and
        ``predict`` (float32) reproduce, and boxes keep float32's resolution."""
        super().__init_subclass__(**kwargs)
        if "validation_step" in cls.__dict__:
            cls.validation_step = _in_float32(cls.__dict__["validation_step"])

    def init_engine(self) -> None:
        """Set up the engine's state once ``self.net`` exists (EMA copy, counters)."""
        decay = float(self.hparams.get("ema_decay") or 0.0)
        self.ema = copy.deepcopy(self.net).requires_grad_(False) if decay else None
        self.skipped_steps = 0
        self.data_card: dict[str, Any] = {}  # how the training data was read and split
        self._elapsed = 0.0  # training seconds before this process (resumed runs)
        self._started: float | None = None
        self._total_steps = 1

    # ------------------------------------------------------------------- task hooks
    def compute_loss(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """The training loss of one batch (logging extra figures is up to the task)."""
        raise NotImplementedError

    def batch_size(self, batch: Any) -> int:
        """Images in ``batch``, for the throughput meter (default: ``len(batch[1])``)."""
        return len(batch[1])

    def model_card(self) -> dict[str, Any]:
        """What using the model needs beyond its hyperparameters (input size, channels,
        normalisation...); saved in every checkpoint under ``"deepimage"``."""
        return {}

    def load_initial_weights(self, path: Path) -> None:
        """Start from a weights file: a checkpoint's averaged ``ema.`` weights (or its
        ``net.`` ones, or a plain state dict); the average, if any, starts from them too."""
        load_matching_weights(self.net, path, ("ema.", "net."), str(self.hparams.get("model")))
        if self.ema is not None:
            self.ema.load_state_dict(self.net.state_dict())

    @property
    def inference_net(self) -> torch.nn.Module:
        """The weights validation and inference run: the average when there is one."""
        return self.ema if self.ema is not None else self.net

    # -------------------------------------------------------------------- training
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        loss = self.compute_loss(batch, batch_idx)
        if not torch.isfinite(loss):  # skip the step: one bad batch must not end the run
            self.skipped_steps += 1
            self.log("train/skipped", float(self.skipped_steps))
            return None
        if step_is_logged(self.trainer):
            self.log("train/loss", loss, prog_bar=True, batch_size=self.batch_size(batch))
        return loss

    def on_train_start(self) -> None:
        self._started = time.monotonic()
        self._total_steps = max(1, int(self.trainer.estimated_stepping_batches))

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.ema is None:
            return
        decay = self.hparams.ema_decay * (1 - math.exp(-self.global_step / 50))
        with torch.no_grad():
            for average, current in zip(
                self.ema.state_dict().values(), self.net.state_dict().values(), strict=True
            ):
                if average.dtype.is_floating_point:
                    average.lerp_(current, 1 - decay)
                else:
                    average.copy_(current)

    def progress(self) -> float:
        """Fraction of the run done: by steps, or by time when a budget is set."""
        done = self.global_step / self._total_steps
        budget = self.hparams.get("time_budget_s")
        if budget and self._started is not None:
            done = max(done, (self._elapsed + time.monotonic() - self._started) / budget)
        return min(done, 1.0)

    def lr_factor(self, _: int = 0) -> float:
        """This step's fraction of the peak learning rate (see :func:`warmup_cosine`)."""
        warmup = int(self.hparams.get("warmup_steps") or 0)
        return warmup_cosine(
            self.global_step, self.progress(), warmup, self.warmup_start, self.lr_floor
        )

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        name, lr = hp.get("optimizer", "adamw"), hp.lr
        groups = self._parameter_groups(float(hp.get("weight_decay", 0.0)))
        kernels = self._optimizer_kernels()
        if name == "sgd":
            optimizer = torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True, **kernels)
        else:
            optimizer = torch.optim.AdamW(groups, lr=lr, **kernels)
        schedule = hp.get("schedule", "cosine")
        if schedule == "none":
            return optimizer
        if schedule == "onecycle":
            steps = max(1, int(self.trainer.estimated_stepping_batches))
            scheduler: Any = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
        else:
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.lr_factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def _optimizer_kernels(self) -> dict[str, bool]:
        """One fused kernel per step on CPUs and CUDA (measured 10% faster on small CNNs
        than the per-tensor loop torch picks on a CPU); Lightning refuses gradient clipping
        with a fused optimizer under mixed precision, so clipped runs use the multi-tensor
        (foreach) kernels instead."""
        devices = {p.device.type for p in self.net.parameters()}
        if not devices <= {"cpu", "cuda"}:
            return {}
        trainer = self._trainer
        if trainer is not None and trainer.gradient_clip_val:
            return {"foreach": True}
        return {"fused": True}

    def _parameter_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        trained = [(n, p) for n, p in self.net.named_parameters() if p.requires_grad]
        if self.decay_norms_and_biases:
            return [{"params": [p for _, p in trained], "weight_decay": weight_decay}]
        plain = [p for n, p in trained if p.ndim <= 1 or n.endswith(".bias")]
        decayed = [p for n, p in trained if not (p.ndim <= 1 or n.endswith(".bias"))]
        return [
            {"params": decayed, "weight_decay": weight_decay},
            {"params": plain, "weight_decay": 0.0},
        ]

    # ------------------------------------------------------------------------ DDP
    def gather(self, local: Any) -> list[Any]:
        """``local`` from every DDP rank, in rank order (just ``[local]`` on one process)."""
        if self.trainer.world_size == 1:
            return [local]
        shards: list[Any] = [None] * self.trainer.world_size
        torch.distributed.all_gather_object(shards, local)
        return shards

    # ---------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        started = self._started if self._started is not None else time.monotonic()
        checkpoint["train_seconds"] = self._elapsed + time.monotonic() - started
        checkpoint[CARD_KEY] = {"task": self.task_name, "data": self.data_card, **self.model_card()}
        if self.ema is not None and "optimizer_states" not in checkpoint:
            # weights only: inference runs the average alone, a quarter of the file
            state = checkpoint["state_dict"]
            checkpoint["state_dict"] = {k: v for k, v in state.items() if not k.startswith("net.")}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._elapsed = float(checkpoint.get("train_seconds", 0.0))
        self.data_card = dict(checkpoint.get(CARD_KEY, {}).get("data") or {})

    @classmethod
    def check_hyperparameters(cls, hparams: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming the first hyperparameter a model cannot be built
        from: one ``__init__`` does not take or needs and lacks, a value not of its
        annotated type (or a float that is not finite), a number out of the bounds or a
        name not among the choices of the same-named setting in :attr:`settings_classes`,
        and ``classes`` that are not distinct names. Tasks extend it (calling ``super``)
        with what only they know; it runs before anything is built.

        Example:
            >>> class Tiny(TaskModule):
            ...     def __init__(self, img_size: int, classes: list[str]) -> None: ...
            >>> Tiny.check_hyperparameters({"img_size": "big", "classes": ["a"]})
            Traceback (most recent call last):
            ...
            ValueError: 'img_size' is 'big', expected an integer
        """
        parameters = dict(inspect.signature(cls.__init__).parameters)
        parameters.pop("self")
        hints = typing.get_type_hints(cls.__init__)
        unknown = sorted(set(hparams) - set(parameters), key=str)
        if unknown:
            raise ValueError(f"unknown hyperparameter {short_repr(unknown[0])}")
        for name, parameter in parameters.items():
            if name not in hparams:
                if parameter.default is inspect.Parameter.empty:
                    raise ValueError(f"hyperparameter {name!r} is missing")
                continue
            value, kind = hparams[name], hints.get(name, Any)
            if not _is_a(value, kind):
                raise ValueError(f"{name!r} is {short_repr(value)}, expected {_type_text(kind)}")
        for settings in cls.settings_classes:
            for item, _ in settings_fields(settings):
                if item.name in hparams:
                    try:
                        check_value(item.name, hparams[item.name], meta_of(item))
                    except DeepImageError as error:
                        raise ValueError(str(error).removeprefix("setting ").rstrip(".")) from None
        classes = hparams.get("classes", ["any"])
        named = isinstance(classes, list) and all(isinstance(c, str) and c for c in classes)
        if not (named and 0 < len(classes) <= MAX_CLASSES and len(set(classes)) == len(classes)):
            raise ValueError(
                f"'classes' must be 1 to {MAX_CLASSES} distinct non-empty names, not "
                f"{short_repr(classes)}"
            )

    @classmethod
    def checked_data_card(cls, card: Any) -> dict[str, Any]:
        """The data card of a checkpoint (how its run read and split its data), each value
        checked as the task's train setting of that name; ``ValueError`` otherwise."""
        if card is None:
            return {}
        if not isinstance(card, dict) or not all(isinstance(key, str) for key in card):
            raise ValueError(f"its data card is {short_repr(card)}, not a mapping of settings")
        if not cls.settings_classes:
            return dict(card)
        try:
            settings = make_settings(cls.settings_classes[0], card)
        except DeepImageError as error:
            raise ValueError(f"its data card: {str(error).rstrip('.')}") from None
        return {key: getattr(settings, key) for key in card}

    def check_weights(self, state: dict[str, Any], source: str) -> None:
        """Refuse weights (a checkpoint's ``state_dict``) that do not fit this module:
        names missing or unexpected, values that are no tensors or of another shape."""
        own = self.state_dict()
        missing = [key for key in own if key not in state]
        unexpected = [key for key in state if key not in own]
        wrong = [
            key
            for key in own
            if key in state
            and not (isinstance(state[key], torch.Tensor) and state[key].shape == own[key].shape)
        ]
        if missing or unexpected or wrong:
            first = (wrong or missing or unexpected)[0]
            raise ModelFileError(
                f"{source}: its weights do not fit the {self.hparams.get('model')!r} model its "
                f"hyper_parameters describe ({len(wrong)} of another shape, {len(missing)} "
                f"missing, {len(unexpected)} unexpected; first: {short_repr(first)}). Was "
                f"`model`, `img_size`, `in_channels` or `classes` changed? {EDITED.capitalize()}."
            )

    def check_resumable(self, checkpoint: dict[str, Any], source: str) -> None:
        """Refuse a ``last.ckpt`` that Lightning could not restore into this module (built
        from the run's config): another task's, one without training state (a weights-only
        ``best.ckpt``), or weights and optimizer state that do not fit."""
        card = checkpoint.get(CARD_KEY, {})
        found = card.get("task", self.task_name) if isinstance(card, dict) else None
        if found != self.task_name:
            raise ModelFileError(f"{source}: not the last checkpoint of a {self.task_name} run.")
        kinds = {"optimizer_states": list, "lr_schedulers": list, "loops": dict, "epoch": int}
        if not all(isinstance(checkpoint.get(key), kind) for key, kind in kinds.items()):
            raise ModelFileError(
                f"{source}: holds no training state (optimizer, schedule, loops) to resume; a "
                "weights-only file such as best.ckpt is not resumable. Start a new run with "
                f"--weights {source} instead."
            )
        if not _is_a(checkpoint.get("train_seconds", 0.0), float):
            raise ModelFileError(f"{source}: bad metadata: 'train_seconds'; {EDITED}.")
        state = checkpoint.get("state_dict")
        if not isinstance(state, dict):
            raise ModelFileError(f"{source}: no state_dict; {EDITED}.")
        self.check_weights(state, source)
        trained = sum(1 for p in self.net.parameters() if p.requires_grad)
        try:
            saved = sum(
                len(group["params"])
                for optimizer in checkpoint["optimizer_states"]
                for group in optimizer["param_groups"]
            )
        except (KeyError, TypeError):
            saved = None
        if saved != trained:
            raise ModelFileError(
                f"{source}: its optimizer state is for {saved} tensors, but the run's model "
                f"trains {trained}; {EDITED}."
            )

    @classmethod
    def from_checkpoint(cls: type[T], checkpoint: dict[str, Any], source: str) -> T:
        """The trained task rebuilt from a checkpoint that ``load_checkpoint`` read, ready
        for inference. Its metadata is checked before anything is built (see
        :meth:`check_hyperparameters`) and its weights against the model built: an edited
        or damaged file, or another task's, is a clear error naming the file."""
        card = checkpoint.get(CARD_KEY) if isinstance(checkpoint.get(CARD_KEY), dict) else {}
        found = card.get("task")
        if not (found is None or (isinstance(found, str) and found in ("", cls.task_name))):
            shown = found if isinstance(found, str) else short_repr(found)
            raise ModelFileError(
                f"{source}: a {shown} model, not a {cls.task_name} model; "
                f"use `deepimage {shown} ...` (or the {shown} API) with it."
            )
        hparams, state = checkpoint.get("hyper_parameters"), checkpoint.get("state_dict")
        if not isinstance(hparams, dict) or not isinstance(state, dict):
            raise ModelFileError(
                f"{source}: not a deepimage {cls.task_name} checkpoint (it needs "
                "hyper_parameters and a state_dict, as a deepimage run writes them)."
            )
        hparams = dict(hparams)
        if "pretrained" in hparams:  # the weights are in the file: never download them
            hparams["pretrained"] = False
        try:
            cls.check_hyperparameters(hparams)
            data_card = cls.checked_data_card(card.get("data"))
        except (ValueError, DeepImageError) as error:
            raise ModelFileError(
                f"{source}: bad metadata: {str(error).rstrip('.')}; {EDITED}."
            ) from None
        state = dict(state)
        if not any(str(key).startswith("net.") for key in state):  # weights-only with EMA
            state.update({"net." + k[4:]: v for k, v in state.items() if str(k)[:4] == "ema."})
        try:
            task = cls(**hparams)
        except (DeepImageError, TypeError, RuntimeError, ValueError) as error:
            raise ModelFileError(
                f"{source}: cannot build its model ({str(error).splitlines()[0][:300]}); {EDITED}."
            ) from None
        task.check_weights(state, source)
        task.load_state_dict(state)
        task.data_card = data_card
        return task.eval()


def check_normalisation(hparams: dict[str, Any]) -> None:
    """``ValueError`` unless ``in_channels`` is 1 to 4 with one ``mean`` and one positive
    ``std`` per channel (the hyperparameters of a task normalising its input).

    Example:
        >>> check_normalisation({"in_channels": 1, "mean": [0.5], "std": [0.25, 0.25]})
        Traceback (most recent call last):
        ...
        ValueError: 'std' has 2 number(s) for 1 channel(s)
    """
    channels = hparams["in_channels"]
    if not 1 <= channels <= 4:
        raise ValueError(f"'in_channels' is {channels}, expected 1 to 4")
    for name in ("mean", "std"):
        if len(hparams[name]) != channels:
            raise ValueError(
                f"{name!r} has {len(hparams[name])} number(s) for {channels} channel(s)"
            )
    if min(hparams["std"]) <= 0:
        raise ValueError(f"'std' must be positive, not {hparams['std']}")


def _in_float32(step: Any) -> Any:
    """``step`` with autocast switched off (a no-op outside mixed precision)."""

    @functools.wraps(step)
    def in_float32(self: TaskModule, *args: Any, **kwargs: Any) -> Any:
        with torch.autocast(self.device.type, enabled=False):
            return step(self, *args, **kwargs)

    return in_float32


def _is_a(value: Any, kind: Any) -> bool:
    """Whether ``value`` (plain data from a checkpoint) is of the annotated type ``kind``:
    ``int``, finite ``float`` (ints too), ``str``, ``bool``, ``list[X]``, unions, ``None``.

    Example:
        >>> _is_a([0.5, 1], list[float]), _is_a(float("nan"), float), _is_a(True, int)
        (True, False, False)
    """
    if kind is Any:
        return True
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return any(_is_a(value, option) for option in typing.get_args(kind))
    if typing.get_origin(kind) in (list, tuple):
        (inner,) = typing.get_args(kind)[:1]
        return isinstance(value, (list, tuple)) and all(_is_a(item, inner) for item in value)
    if kind is type(None):
        return value is None
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return isinstance(value, int) or math.isfinite(value)
    if isinstance(kind, type):
        return isinstance(value, kind)
    return True


def _type_text(kind: Any) -> str:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(_type_text(option) for option in typing.get_args(kind))
    if typing.get_origin(kind) in (list, tuple):
        return f"a list of {_type_text(typing.get_args(kind)[0]).split(' ', 1)[-1]}s"
    return type_name(kind)
