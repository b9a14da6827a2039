"""The one heartbeat that keeps a window's lease and a queued request's claim alive."""

from __future__ import annotations

import threading

from lifecycle.jobs.leases import Heartbeat


def test_renews_until_halted_keeps_going_after_errors_and_stops_when_lost() -> None:
    calls: list[str] = []
    answers = iter(["ok", "error", "ok", "lost"])
    lost = threading.Event()

    def renew_once() -> bool:
        answer = next(answers)
        calls.append(answer)
        if answer == "error":
            raise ConnectionError("database away for a moment")
        if answer == "lost":
            lost.set()
            return False
        return True

    beat = Heartbeat(renew_once, lease_seconds=0.3, name="lease test")  # renews every 0.1 s
    assert beat.interval == 0.1
    beat.start()
    assert lost.wait(10)
    beat.join(timeout=5)
    assert not beat.is_alive() and beat.lost
    assert calls == ["ok", "error", "ok", "lost"]  # an error did not stop it; "lost" did


def test_halt_stops_it_and_it_was_not_lost() -> None:
    beat = Heartbeat(lambda: True, lease_seconds=300, name="lease test")
    assert beat.interval == 100
    beat.start()
    beat.halt.set()
    beat.join(timeout=5)
    assert not beat.is_alive() and not beat.lost
