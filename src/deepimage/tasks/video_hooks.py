"""The clip classification task's heavy half: clip data sets split and batched, clips
read for predict (video files, frame folders, arrays), and classification's scoring
(top-1/top-5, per class, confusion matrix, mistaken clips by their middle frames) and
prediction rows (``{label, score, top}``).

Example:
    >>> HOOKS.module.task_name, HOOKS.score.__module__
    ('video', 'deepimage.tasks.classification_hooks')
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from deepimage.data.classification import ClassificationData
from deepimage.data.module import BatchDataModule
from deepimage.data.video import load_video_data
from deepimage.data.video_batches import ClipBatches, clip_for_model
from deepimage.errors import DeepImageError
from deepimage.io.video import find_clips, read_clip
from deepimage.tasks.classification_data import PreparedData, prepare_data
from deepimage.tasks.classification_hooks import labelled_split, predict_batch, score
from deepimage.tasks.hooks import EvalData, Input, TaskHooks, Training
from deepimage.tasks.settings import engine_arguments
from deepimage.tasks.video import VideoTask
from deepimage.tasks.video_spec import VideoEvaluate, VideoTrain

DEFAULT_CLIP_SIZE = 112  # the frame side when the clips' sizes differ


def prepare_training(settings: VideoTrain) -> Training:
    loaded = load_video_data(
        settings.data,
        skip_bad=settings.skip_bad,
        seed=settings.seed,
        val_fraction=settings.val_fraction,
        workers=settings.workers,
    )
    prepared = prepare_clips(
        loaded, settings.model, settings.img_size, settings.frames, settings.stride, settings.seed
    )
    settings = replace(settings, img_size=prepared.img_size)  # config.yaml records the size used
    torch.manual_seed(settings.seed)
    module = VideoTask(
        model=settings.model,
        classes=prepared.classes,
        in_channels=prepared.channels,
        img_size=prepared.img_size,
        frames=settings.frames,
        stride=settings.stride,
        mean=prepared.mean,
        std=prepared.std,
        label_smoothing=settings.label_smoothing,
        augment=settings.augment,
        seed=settings.seed,
        **engine_arguments(settings),
    )
    data = BatchDataModule(
        prepared.train,
        prepared.val,
        settings.batch_size,
        settings.seed,
        settings.workers,
        with_epoch=True,  # random windows drawn per epoch
    )
    scored = {name: EvalData(split, len(split)) for name, split in prepared.splits.items()}
    scored.pop("train")
    extras = {"img_size": prepared.img_size, "channels": prepared.channels}
    extras |= {"frames": settings.frames, "stride": settings.stride}
    return Training(
        module,
        data,
        settings,
        scored,
        skipped=loaded.skipped,
        extras={**extras, "train_images": len(prepared.train)},
    )


def prepare_clips(
    loaded: ClassificationData,
    model: str,
    img_size: int | None,
    frames: int,
    stride: int,
    seed: int,
    trained: object | None = None,
) -> PreparedData:
    """Clip batch datasets per split at the model's size and channels (``trained``, a
    module's hparams, fixes them and the normalisation), as classification prepares
    images; 112 px when the clips' sizes differ."""
    return prepare_data(
        loaded,
        model,
        img_size,
        trained,
        task="video",
        default_size=DEFAULT_CLIP_SIZE,
        batches=lambda split, channels, size: ClipBatches(
            split, channels, size, frames, stride, seed
        ),
    )


def load_split(module: VideoTask, settings: VideoEvaluate) -> EvalData:
    """The split as the model's run split it (seed and fraction from its checkpoint),
    labels matched to the model's classes by name."""
    hp, card = module.hparams, module.data_card
    loaded = load_video_data(
        settings.data,
        skip_bad=settings.skip_bad,
        seed=card.get("seed", hp.seed),
        val_fraction=card.get("val_fraction"),
    )
    prepare = lambda: prepare_clips(  # noqa: E731
        loaded, hp.model, hp.img_size, hp.frames, hp.stride, hp.seed, hp
    )
    return labelled_split(module, settings, loaded, prepare)


def load_input(module: VideoTask, item: Input) -> np.ndarray:
    """A clip file or folder, or a clip array: its centred window as the model takes it,
    frames x size x size x channels uint8."""
    hp = module.hparams
    clip = read_clip(item) if not isinstance(item, np.ndarray) else item
    return clip_for_model(clip, hp.in_channels, hp.img_size, hp.frames, hp.stride)


def checked_clip(array: np.ndarray) -> np.ndarray:
    """An in-memory clip: uint8 T x H x W (grey) or T x H x W x C, C being 1, 3 (RGB) or 4
    (alpha dropped).

    Example:
        >>> checked_clip(np.zeros((16, 8, 8, 4), np.uint8)).shape
        (16, 8, 8, 3)
        >>> checked_clip(np.zeros((8, 8), np.uint8))
        Traceback (most recent call last):
        ...
        deepimage.errors.DeepImageError: a clip array must be uint8 T x H x W or T x H x W x C (RGB), not uint8 of shape (8, 8).
    """
    if array.dtype != np.uint8 or array.ndim not in (3, 4) or len(array) == 0:
        raise DeepImageError(
            "a clip array must be uint8 T x H x W or T x H x W x C (RGB), not "
            f"{array.dtype} of shape {array.shape}."
        )
    if array.ndim == 4 and array.shape[3] not in (1, 3, 4):
        raise DeepImageError(f"a clip array has {array.shape[3]} channels; give 1, 3 or 4.")
    return array[..., :3] if array.ndim == 4 and array.shape[3] == 4 else array


HOOKS = TaskHooks(
    VideoTask,
    prepare_training,
    load_split,
    score,
    load_input,
    predict_batch,
    find_inputs=find_clips,
    check_array=checked_clip,
)
