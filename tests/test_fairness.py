"""The fair gate: the chat page, the widget and the API take turns for answer slots."""

from __future__ import annotations

import threading
import time

import pytest

from webapp.fairness import FairGate


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_a_page_question_waits_for_one_api_answer_not_for_every_queued_one():
    gate = FairGate(1)
    order: list[str] = []
    release = threading.Event()

    def hold(name: str, channel: str) -> None:
        with gate.slot(channel):
            order.append(name)
            if name == "api-0":
                release.wait(30)

    threads = []

    def start(name: str, channel: str, queued: int) -> None:
        thread = threading.Thread(target=hold, args=(name, channel))
        thread.start()
        threads.append(thread)
        _wait_for(lambda: gate.waiting()[channel] == queued or name == "api-0", name)

    start("api-0", "api", 0)  # holds the only slot
    _wait_for(lambda: order == ["api-0"], "api-0 to hold the slot")
    for i in range(1, 5):
        start(f"api-{i}", "api", i)
    start("page-0", "page", 1)
    start("widget-0", "widget", 1)
    start("page-1", "page", 2)
    release.set()
    for thread in threads:
        thread.join(30)
    # Round-robin by channel, each channel's own questions first come, first served.
    assert order == [
        "api-0",
        "api-1",
        "page-0",
        "widget-0",
        "api-2",
        "page-1",
        "api-3",
        "api-4",
    ]
    assert gate.waiting() == {"page": 0, "widget": 0, "api": 0}


def test_slots_bound_how_many_run_at_once():
    gate = FairGate(2)
    running, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with gate.slot("api"):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.01)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak[0] == 2 and running[0] == 0


def test_an_error_inside_the_slot_frees_it():
    gate = FairGate(1)
    with pytest.raises(RuntimeError), gate.slot("page"):
        raise RuntimeError("boom")
    with gate.slot("api"):
        pass
    assert gate.waiting() == {"page": 0, "widget": 0, "api": 0}


def test_unknown_channel_and_bad_slots_are_refused():
    with pytest.raises(ValueError, match="known: page, widget, api"), FairGate(1).slot("cli"):
        pass
    with pytest.raises(ValueError, match="slots"):
        FairGate(0)


def test_a_capped_channel_leaves_a_slot_for_the_others():
    gate = FairGate(2, caps={"api": 1})
    release = threading.Event()
    order: list[str] = []

    def hold(name: str, channel: str) -> None:
        with gate.slot(channel):
            order.append(name)
            if name == "api-0":
                release.wait(30)

    first = threading.Thread(target=hold, args=("api-0", "api"))
    first.start()
    _wait_for(lambda: order == ["api-0"], "api-0 to hold a slot")
    second = threading.Thread(target=hold, args=("api-1", "api"))
    second.start()
    _wait_for(lambda: gate.waiting()["api"] == 1, "api-1 to wait")
    # A slot is free, but the API may hold only one: api-1 waits while the page goes straight in.
    with gate.slot("page"):
        order.append("page-0")
        assert gate.waiting()["api"] == 1
    release.set()
    first.join(30)
    second.join(30)
    assert order == ["api-0", "page-0", "api-1"]


def test_caps_must_name_known_channels():
    with pytest.raises(ValueError, match="caps"):
        FairGate(2, caps={"cli": 1})
