"""Clips: natural frame order, reading AVI files and frame folders, frame sampling, clip
data sets and batches, bad clips named, clip-consistent augmentation, and every
registered video model's output shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.error import URLError

import cv2
import numpy as np
import pytest
import torch
from tests.video_data import moving_square, write_clip, write_clip_set

from deepimage.data.video import load_video_data
from deepimage.data.video_batches import ClipBatches, clip_for_model, window
from deepimage.errors import BadImageError, DataNotFoundError, DeepImageError
from deepimage.io.video import find_clips, natural_key, read_clip
from deepimage.models import create_model, list_models
from deepimage.tasks.video_hooks import checked_clip
from deepimage.transforms.batch import augment_batch

VIDEO_MODELS = [m.name for m in list_models("video")]


def ramp(frames: int = 12, size: int = 16) -> np.ndarray:
    """Grey frames whose every pixel is 20 x the frame's number."""
    return np.repeat(np.arange(frames, dtype=np.uint8) * 20, size * size).reshape(
        frames, size, size
    )


# --- order and reading --------------------------------------------------------------


def test_frames_are_taken_in_natural_order(tmp_path: Path) -> None:
    names = ["frame10.png", "frame2.png", "frame1.png", "Frame11.png", "frame9.png"]
    assert sorted(names, key=natural_key) == [
        "frame1.png", "frame2.png", "frame9.png", "frame10.png", "Frame11.png",
    ]  # fmt: skip
    clip = write_clip(ramp(12), tmp_path / "clip", as_avi=False)  # frame0 ... frame11
    assert read_clip(clip)[:, 0, 0, 0].tolist() == list(range(0, 240, 20))


def test_an_avi_reads_as_its_frames(tmp_path: Path) -> None:
    path = write_clip(ramp(12), tmp_path / "clip", as_avi=True)
    clip = read_clip(path)
    assert clip.shape == (12, 16, 16, 1) and clip.dtype == np.uint8  # grey: one channel
    assert np.abs(clip[:, 8, 8, 0].astype(int) - np.arange(0, 240, 20)).max() <= 3  # MJPG
    assert read_clip(path, stop=5).shape[0] == 5


def test_colour_clips_stay_rgb(tmp_path: Path) -> None:
    red = np.zeros((6, 16, 16, 3), np.uint8)
    red[..., 0] = 200
    for as_avi in (False, True):
        clip = read_clip(write_clip(red, tmp_path / f"red{as_avi}", as_avi))
        assert clip.shape == (6, 16, 16, 3)
        assert clip[..., 0].mean() > 150 and clip[..., 2].mean() < 40  # RGB, not BGR


def test_clips_are_found_in_folders_and_patterns(tmp_path: Path) -> None:
    write_clip_set(tmp_path, {"test": 2}, size=16, frames=3)
    up = tmp_path / "test" / "up"
    assert [p.name for p in find_clips(up)] == ["clip0", "clip1.avi"]
    assert find_clips(up / "clip0") == [up / "clip0"]  # a frame folder is one clip
    assert len(find_clips(tmp_path)) == 8
    assert len(find_clips(str(tmp_path / "test" / "*" / "clip1.avi"))) == 4
    with pytest.raises(DeepImageError, match="no such file"):
        find_clips(tmp_path / "nothing")


# --- bad clips -----------------------------------------------------------------------


def bad_clips(root: Path) -> dict[str, str]:
    """Bad clips in ``root``: their names and a word each error must say."""
    good = write_clip(ramp(12), root / "good", as_avi=True).read_bytes()
    (root / "noise.avi").write_bytes(np.random.default_rng(0).bytes(4000))
    (root / "empty.avi").write_bytes(b"")
    (root / "cut.avi").write_bytes(good[: len(good) * 2 // 3])
    (root / "no_frames").mkdir()
    bad_frame = write_clip(ramp(4), root / "bad_frame", as_avi=False)
    (bad_frame / "frame2.png").write_text("not a png")
    odd = write_clip(ramp(4), root / "odd_size", as_avi=False)
    cv2.imwrite(str(odd / "frame3.png"), np.zeros((8, 8), np.uint8))
    return {
        "noise.avi": "corrupt",
        "empty.avi": "zero-byte",
        "cut.avi": "cut short",
        "no_frames": "empty frame folder",
        "bad_frame": "frame2.png",
        "odd_size": "frame3.png",
    }


def test_bad_clips_are_named_with_their_frame(tmp_path: Path) -> None:
    for name, word in bad_clips(tmp_path).items():
        with pytest.raises(BadImageError) as caught:
            read_clip(tmp_path / name)
        assert caught.value.path == str(tmp_path / name) and word in caught.value.reason, name
        assert "--skip-bad" in str(caught.value)
    for as_avi in (True, False):  # every frame counts towards max_pixels, a video's first
        big = write_clip(ramp(12), tmp_path / f"big{as_avi}", as_avi)  # from its header
        for limit in (100, 4 * 16 * 16):
            with pytest.raises(BadImageError, match="max_pixels"):
                read_clip(big, max_pixels=limit)
    with pytest.raises(BadImageError, match="not a clip"):
        read_clip(write_clip(ramp(1), tmp_path / "still", as_avi=False) / "frame0.png")


def test_a_clip_set_raises_on_a_bad_clip_or_skips_it(tmp_path: Path) -> None:
    root = write_clip_set(tmp_path / "set", {"train": 4}, size=16, frames=4)
    (root / "train" / "up" / "broken.avi").write_bytes(b"RIFF not really a video")
    with pytest.raises(BadImageError, match=r"broken\.avi"):
        load_video_data(root)
    data = load_video_data(root, skip_bad=True, val_fraction=0.25)
    assert [Path(s["path"]).name for s in data.skipped] == ["broken.avi"]
    assert {name: len(split) for name, split in data.splits.items()} == {"train": 12, "val": 4}
    with pytest.raises(DataNotFoundError, match="not a folder of clips"):
        load_video_data(root / "train" / "up" / "clip1.avi")


# --- sampling and batches ------------------------------------------------------------


def test_windows_are_centred_strided_random_and_padded() -> None:
    assert window(16, 16, 1).tolist() == list(range(16))
    assert window(20, 4, 2).tolist() == [6, 8, 10, 12]  # centred: 7 frames of room split
    assert window(5, 8, 1).tolist() == [0, 1, 2, 3, 4, 4, 4, 4]  # the last frame repeats
    starts = {int(window(40, 8, 1, np.random.default_rng(seed))[0]) for seed in range(50)}
    assert starts <= set(range(33)) and len(starts) > 10
    again = window(40, 8, 1, np.random.default_rng(3)), window(40, 8, 1, np.random.default_rng(3))
    assert np.array_equal(*again)


def test_clip_batches_draw_windows_per_epoch_and_stream_what_is_not_kept(
    tmp_path: Path,
) -> None:
    for i in range(3):
        write_clip(ramp(12), tmp_path / "set" / "train" / "ramp" / f"c{i}", as_avi=False)
    kept = load_video_data(tmp_path / "set", val_fraction=0)
    streamed = load_video_data(tmp_path / "set", val_fraction=0, memory_limit=0)
    assert kept.splits["train"].infos[0].pixels is not None
    assert streamed.splits["train"].infos[0].pixels is None
    batches = ClipBatches(kept.splits["train"], channels=3, size=8, frames=4, stride=2, seed=1)
    clips, labels = batches[[0, 1, 2]]
    assert clips.shape == (3, 3, 4, 8, 8) and clips.dtype == torch.uint8
    assert clips[0, 0, :, 0, 0].tolist() == [40, 80, 120, 160]  # centred: frames 2, 4, 6, 8
    assert labels.tolist() == [0, 0, 0]
    epoch_0, epoch_1 = batches[(0, [0, 1, 2])][0], batches[(1, [0, 1, 2])][0]
    assert torch.equal(epoch_0, batches[(0, [0, 1, 2])][0]) and not torch.equal(epoch_0, epoch_1)
    from_files = ClipBatches(streamed.splits["train"], 3, 8, 4, 2, seed=1)
    assert torch.equal(from_files[(1, [0, 1, 2])][0], epoch_1)


def test_inputs_for_the_model_are_checked_and_fitted() -> None:
    clip = clip_for_model(ramp(30, 20), channels=3, size=16, frames=8, stride=3)
    assert clip.shape == (8, 16, 16, 3) and clip[0, 0, 0, 0] == 20 * 4  # frames 4, 7, ...
    assert checked_clip(np.zeros((4, 8, 8, 4), np.uint8)).shape == (4, 8, 8, 3)
    with pytest.raises(DeepImageError, match="clip array"):
        checked_clip(np.zeros((4, 8, 8), np.float32))


# --- augmentation --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["video", "video-flip"])
def test_augmentation_moves_every_frame_of_a_clip_alike(name: str) -> None:
    frame = torch.rand(1, 3, 1, 24, 24)
    clips = frame.expand(4, 3, 8, 24, 24).contiguous()  # 4 clips of 8 equal frames
    moved = augment_batch(clips.flatten(1, 2), name, torch.Generator().manual_seed(0), "video")
    moved = moved.view(4, 3, 8, 24, 24)
    assert torch.allclose(moved, moved[:, :, :1].expand_as(moved))  # frames still equal
    assert not torch.allclose(moved[0], moved[1])  # clips differ


def test_only_the_opt_in_preset_flips() -> None:
    ramp_x = torch.linspace(0, 1, 32).expand(64, 1, 32, 32).contiguous()
    for name, flips in [("video", False), ("video-flip", True)]:
        moved = augment_batch(ramp_x, name, torch.Generator().manual_seed(0), "video")
        slopes = moved[:, 0, 16, 20] - moved[:, 0, 16, 12]  # left to right, mid row
        assert bool((slopes < 0).any()) == flips, name


# --- models --------------------------------------------------------------------------


@pytest.mark.parametrize("name", VIDEO_MODELS)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_video_model_gives_logits_per_clip(name: str, channels: int) -> None:
    torch.manual_seed(0)
    net = create_model("video", name, num_classes=5, in_channels=channels, img_size=32).eval()
    with torch.inference_mode():
        logits = net(torch.rand(2, channels, 8, 32, 32))
    assert logits.shape == (2, 5) and torch.isfinite(logits).all()


def up_or_down(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` N x 1 x 8 x 32 x 32 clips of a square moving up (label 0) or down (1)."""
    rng = np.random.default_rng(seed)
    clips = [moving_square(d, rng, 32, 8) for d in ["up", "down"] * (count // 2)]
    return torch.from_numpy(np.stack(clips)[:, None] / 255).float(), torch.tensor(
        [0, 1] * (count // 2)
    )


def test_the_default_model_sees_motion() -> None:
    """cnn-gru tells up from down on new clips, and on them played backwards: where the
    square is tells nothing (both directions cover the same places)."""
    x, y = up_or_down(256, seed=0)
    torch.manual_seed(0)
    net = create_model("video", "cnn-gru", num_classes=2, in_channels=1, img_size=32)
    optimizer = torch.optim.AdamW(net.parameters(), lr=5e-3)
    for step in range(40):
        batch = torch.randperm(len(y), generator=torch.Generator().manual_seed(step))[:64]
        loss = torch.nn.functional.cross_entropy(net(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    new, truth = up_or_down(64, seed=1)
    with torch.inference_mode():
        assert (net.eval()(new).argmax(1) == truth).float().mean() > 0.9
        assert (net(new.flip(2)).argmax(1) == 1 - truth).float().mean() > 0.9  # T reversed


def test_pretrained_weights_offline_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.models import _api

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("no network")

    monkeypatch.setattr(_api, "load_state_dict_from_url", offline)  # nothing is downloaded
    with pytest.raises(DeepImageError, match=r"r3d_18-b3b3357e.pth.*without --pretrained"):
        create_model("video", "r3d-18", num_classes=4, in_channels=3, pretrained=True)
    with pytest.raises(DeepImageError, match="no published pretrained weights"):
        create_model("video", "cnn-gru", num_classes=4, pretrained=True)


@pytest.mark.parametrize("module", ["deepimage.io.video", "deepimage.data.video"])
def test_clip_readers_import_without_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
