"""Chatterbox's loops stay off the terminal: the bars of T3's sampling loop and of S3Gen's
mean-flow solver (Turbo's, used by its serial path and zero-shot singing) are disabled,
and the solver's per-call line goes to the debug log."""

from __future__ import annotations

import importlib
import logging

import pytest

from engine.tts.quiet import quiet_chatterbox_progress


@pytest.mark.parametrize(
    "module", ["chatterbox.models.t3.t3", "chatterbox.models.s3gen.flow_matching"]
)
def test_the_library_loops_draw_no_bar(module: str, capfd: pytest.CaptureFixture[str]) -> None:
    quiet_chatterbox_progress()
    quiet_chatterbox_progress()  # idempotent
    bar = vars(importlib.import_module(module))["tqdm"]
    assert sum(bar(range(50), desc="Sampling")) == sum(range(50))
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_the_solvers_line_goes_to_the_debug_log(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    quiet_chatterbox_progress()
    flow_matching = importlib.import_module("chatterbox.models.s3gen.flow_matching")
    with caplog.at_level(logging.DEBUG, logger="engine.tts.quiet"):
        vars(flow_matching)["print"]("S3 Token -> Mel Inference...")
    assert capfd.readouterr().out == ""
    assert "S3 Token -> Mel Inference..." in caplog.text
