"""`svidok timestamp` output stays short when thousands of checkpoints are pending."""

from __future__ import annotations

from svidok.cli_timestamp import SHOWN, _lines
from svidok.timestamps import Outcome


def test_pending_checkpoints_are_counted_per_tsa_and_reason() -> None:
    refused = "connection refused"
    outcomes = [Outcome(size, "tsa-a", "failed", refused) for size in range(5000, 2, -1)]
    outcomes += [Outcome(7, "tsa-b", "skipped", "not asked again after a failure")]
    outcomes += [Outcome(s, "tsa-c", "stamped", time="2026-12-05T18:00:00Z") for s in range(50)]
    lines = _lines(outcomes)
    assert len(lines) == SHOWN + 3
    assert "4998 checkpoints (sizes 3 to 5000): tsa-a: still pending (connection refused)" in lines
    assert "checkpoint 7: tsa-b: still pending (not asked again after a failure)" in lines
    assert f"... and {50 - SHOWN} more checkpoints time-stamped" in lines
    assert lines[0] == "checkpoint 0: tsa-c: time-stamped at 2026-12-05T18:00:00Z"


def test_every_stamped_checkpoint_is_listed_when_few() -> None:
    outcomes = [Outcome(s, "tsa", "stamped", time="t") for s in (3, 2)]
    assert _lines(outcomes) == ["checkpoint 3: tsa: time-stamped at t",
                                "checkpoint 2: tsa: time-stamped at t"]
