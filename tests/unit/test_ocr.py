"""Text-line recognition: reading labelled lines, batching, CTC decoding, synthetic lines."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from deepimage.data.ocr import load_text_lines, text_from_stem
from deepimage.data.ocr_batches import LineBatches, encode_texts
from deepimage.data.ocr_synth import parse_length, synthesize_lines
from deepimage.errors import BadImageError, DeepImageError
from deepimage.models import create_model
from deepimage.tasks.ocr_decode import beam_decode, greedy_decode, text_confidence


def _line(path: Path, width: int = 60, height: int = 20) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width), 180, np.uint8))


def test_texts_come_from_stems_without_duplicate_suffixes(tmp_path: Path) -> None:
    for name in ["AB12CDE.png", "AB12CDE_2.png", "K9_X.png"]:
        _line(tmp_path / name)
    data = load_text_lines(tmp_path, val_fraction=0.0)
    assert sorted(data.splits["train"].texts) == ["AB12CDE", "AB12CDE", "K9_X"]
    assert text_from_stem(Path("A_B_10.jpg")) == "A_B"


def test_labels_csv_wins_over_stems_and_keeps_the_split_folders(tmp_path: Path) -> None:
    for split, count in [("train", 6), ("test", 2)]:
        rows = ["path,text"]
        for i in range(count):
            _line(tmp_path / split / f"{i}.png", width=40 + 10 * i)
            rows.append(f"{i}.png,T{i} X")
        (tmp_path / split / "labels.csv").write_text("\n".join(rows) + "\n")
    data = load_text_lines(tmp_path, height=32, val_fraction=0.5)
    assert {name: len(lines) for name, lines in data.splits.items()} == {
        "train": 3,
        "val": 3,
        "test": 2,
    }
    assert data.splits["test"].texts == ["T0 X", "T1 X"]
    assert data.alphabet == "".join(sorted(set("".join(data.splits["train"].texts))))
    widths = [image.shape for image in data.splits["test"].images]
    assert widths == [(32, 64), (32, 80)]  # 20 px high lines scaled to 32, aspect kept


def test_an_unsplit_folder_is_split_by_seed(tmp_path: Path) -> None:
    for i in range(20):
        _line(tmp_path / f"L{i:02d}.png")
    first = load_text_lines(tmp_path, val_fraction=0.1, seed=3)
    again = load_text_lines(tmp_path, val_fraction=0.1, seed=3)
    assert [len(first.splits[s]) for s in ("train", "val", "test")] == [16, 2, 2]
    assert first.splits["val"].texts == again.splits["val"].texts


def test_a_bad_line_is_named_or_skipped(tmp_path: Path) -> None:
    _line(tmp_path / "GOOD1.png")
    _line(tmp_path / "GOOD2.png")
    (tmp_path / "BAD.png").write_bytes(b"not a png")
    with pytest.raises(BadImageError, match=r"BAD\.png"):
        load_text_lines(tmp_path, val_fraction=0.0)
    data = load_text_lines(tmp_path, val_fraction=0.0, skip_bad=True)
    assert [Path(s["path"]).name for s in data.skipped] == ["BAD.png"]
    assert len(data.splits["train"]) == 2


def test_a_given_alphabet_must_cover_the_training_texts(tmp_path: Path) -> None:
    _line(tmp_path / "AB1.png")
    with pytest.raises(DeepImageError, match="'1', not in --alphabet"):
        load_text_lines(tmp_path, val_fraction=0.0, alphabet="AB")


def test_batches_pad_lines_and_encode_texts() -> None:
    lines = LineBatches(
        [np.zeros((32, 40), np.uint8), np.full((32, 70), 9, np.uint8)], ["AB", "BBA"], "AB"
    )
    images, widths, targets, lengths, texts = lines[[1, 0]]
    assert images.shape == (2, 1, 32, 70) and widths.tolist() == [70, 40]
    assert targets.tolist() == [2, 2, 1, 1, 2] and lengths.tolist() == [3, 2]
    assert texts == ["BBA", "AB"] and int(images[1, 0, 0, 50]) == 0  # padded with the edge
    augmented = LineBatches(lines.images, lines.texts, "AB", augment=True)
    first, again = augmented[(1, [0, 1])][0], augmented[(1, [0, 1])][0]
    assert torch.equal(first, again)  # drawn from (seed, epoch, index)
    assert encode_texts(["A?B"], "AB")[0].tolist() == [1, 2]


def _log_probs(path: list[int], classes: int = 4, sure: float = 0.9) -> torch.Tensor:
    probs = torch.full((len(path), classes), (1 - sure) / (classes - 1))
    probs[torch.arange(len(path)), torch.tensor(path)] = sure
    return probs.log()[:, None]


def test_greedy_and_beam_decoding_merge_repeats_and_keep_doubled_letters() -> None:
    log_probs = _log_probs([1, 1, 0, 1, 2, 0, 3, 3])  # A A - A B - C C
    length = torch.tensor([8])
    assert greedy_decode(log_probs, length, "ABC") == ["AABC"]
    assert beam_decode(log_probs, length, "ABC", beam_width=5) == ["AABC"]
    assert greedy_decode(log_probs, torch.tensor([3]), "ABC") == ["A"]  # its own length


def test_beam_search_finds_the_text_greedy_misses() -> None:
    # the best single path is all blanks, but "A" spread over its alignments is likelier
    probs = torch.tensor([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25]])
    log_probs, length = probs.log()[:, None], torch.tensor([2])
    assert greedy_decode(log_probs, length, "AB") == [""]
    assert beam_decode(log_probs, length, "AB", beam_width=3) == ["A"]
    p_a = 0.35 * 0.35 + 2 * 0.35 * 0.4  # AA, A-, -A
    assert text_confidence(log_probs, length, ["A"], "AB")[0] == pytest.approx(p_a, abs=1e-5)
    assert text_confidence(log_probs, length, [""], "AB")[0] == pytest.approx(0.16, abs=1e-5)


@pytest.mark.parametrize("name", ["crnn", "crnn-large"])
def test_crnn_gives_a_column_per_four_pixels_of_each_line(name: str) -> None:
    net = create_model("ocr", name, num_classes=11, in_channels=1, img_size=32).eval()
    with torch.no_grad():
        log_probs, lengths = net(torch.rand(3, 1, 32, 128), torch.tensor([128, 64, 30]))
    assert log_probs.shape == (32, 3, 11) and lengths.tolist() == [32, 16, 7]
    assert torch.allclose(log_probs.exp().sum(2), torch.ones(32, 3), atol=1e-4)


def test_padding_does_not_change_what_a_line_reads() -> None:
    torch.manual_seed(0)
    net = create_model("ocr", "crnn", num_classes=5, in_channels=1, img_size=32).eval()
    line = torch.rand(1, 1, 32, 64)
    padded = torch.cat([line, line[..., -1:].expand(1, 1, 32, 64)], dim=3)
    with torch.no_grad():
        alone, _ = net(line, torch.tensor([64]))
        inside, _ = net(padded, torch.tensor([64]))
    # the LSTM stops at the line's end; only the convolutions see a padded column or two
    assert torch.allclose(alone[:16], inside[:16], atol=2e-3)
    assert (inside[16:] != 0).any()


def test_synthetic_lines_are_reproducible_and_readable_as_data(tmp_path: Path) -> None:
    report = synthesize_lines(tmp_path / "a", count=6, test_count=3, length="4-6", seed=1)
    synthesize_lines(tmp_path / "b", count=6, test_count=3, length="4-6", seed=1)
    assert (report["train"], report["test"]) == (6, 3)
    first = (tmp_path / "a/train/000002.png").read_bytes()
    assert first == (tmp_path / "b/train/000002.png").read_bytes()
    data = load_text_lines(tmp_path / "a", height=32, val_fraction=0.3)
    texts = data.splits["train"].texts + data.splits["test"].texts
    assert all(4 <= len(t) <= 6 and t.isalnum() and t.upper() == t for t in texts)
    with pytest.raises(DeepImageError, match="--overwrite"):
        synthesize_lines(tmp_path / "a", count=1)


def test_synthetic_line_length_is_checked() -> None:
    assert parse_length("7") == (7, 7)
    for bad in ["0", "9-5", "x", "3-"]:
        with pytest.raises(DeepImageError, match="--length"):
            parse_length(bad)
