"""``deepimage demo``, the README's first command, end to end."""

from __future__ import annotations

from pathlib import Path


def test_demo_trains_evaluates_and_predicts(tmp_path: Path, deepimage) -> None:
    result = deepimage("demo", "--epochs", "3", "--runs", str(tmp_path), "--quiet", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["test"]["metrics"]["top1"] > 0.3  # 10 classes: chance is 0.1
    assert len(report["results"]) == 6  # the samples' predictions (were "predictions")
    plots = {p.name for p in (Path(report["out_dir"]) / "plots").glob("*.png")}
    assert {"training_curves.png", "confusion_test.png"} <= plots
