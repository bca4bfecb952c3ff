"""The latch's timer counts only time the condition was seen to hold: tables of observation
sequences (condition, time) on a fake clock, with gaps of missing data (None)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.events.latch import Latch

T, F, U = True, False, None  # U: unknown (a failed poll)


def run(latch: Latch, sequence: list[tuple[bool | None, float]]) -> list[str | None]:
    return [latch.update(c, t) for c, t in sequence]


def polls(condition: bool | None, start: float, end: float, period: float = 0.1):
    """One observation per poll period from `start` up to and including `end`."""
    n = round((end - start) / period)
    return [(condition, round(start + i * period, 6)) for i in range(n + 1)]


@pytest.mark.parametrize("policy", ["restart", "pause"])
@pytest.mark.parametrize(
    "sequence, edges",
    [
        # held throughout, seen every poll: starts exactly at the timer
        ([(T, 0.0), (T, 0.5), (T, 0.9), (T, 1.0)], [None, None, None, "start"]),
        # a False observation restarts the timer
        ([(T, 0.0), (F, 0.5), (T, 0.6), (T, 1.5)], [None, None, None, None]),
        # single lost polls (gaps within the bridge) count as held
        ([(T, 0.0), (U, 0.1), (T, 0.2), (U, 0.3), (U, 0.4), (T, 0.5), (T, 0.9), (T, 1.0)],
         [None] * 7 + ["start"]),
        # unknown on its own neither starts nor ends anything
        ([(U, 0.0), (U, 5.0), (U, 10.0)], [None, None, None]),
    ],
)
def test_latch_table_same_for_both_gap_policies(policy, sequence, edges):
    assert run(Latch(1.0, 1.0, bridge_s=0.5, on_gap=policy), sequence) == edges


@pytest.mark.parametrize(
    "policy, sequence, edges",
    [
        # a gap longer than the bridge: restart counts from the first poll after it
        ("restart", [(T, 0.0), (T, 0.4), (T, 0.8), (U, 1.0), (T, 5.0), (T, 5.5), (T, 5.9),
                     (T, 6.0)],
         [None] * 7 + ["start"]),
        # pause keeps the 0.8 s counted before the gap (0.8 + 0.2 seen after it)
        ("pause", [(T, 0.0), (T, 0.4), (T, 0.8), (U, 1.0), (T, 5.0), (T, 5.1), (T, 5.2)],
         [None, None, None, None, None, None, "start"]),
        # restart: the old wrong behaviour started here, counting the 5 s gap as held
        ("restart", [(T, 0.0), (U, 5.0), (T, 5.1)], [None, None, None]),
        ("pause", [(T, 0.0), (U, 5.0), (T, 5.1)], [None, None, None]),
        # gaps between isolated observations never add up, whatever the policy
        ("restart", [(T, t) for t in (0.0, 1.0, 2.0, 3.0)], [None] * 4),
        ("pause", [(T, t) for t in (0.0, 1.0, 2.0, 3.0)], [None] * 4),
    ],
)
def test_gap_longer_than_the_bridge_is_not_counted_as_held(policy, sequence, edges):
    assert run(Latch(1.0, 1.0, bridge_s=0.5, on_gap=policy), sequence) == edges


@pytest.mark.parametrize("policy", ["restart", "pause"])
def test_active_event_neither_ends_nor_restarts_during_missing_data(policy):
    latch = Latch(0.0, 1.0, bridge_s=0.5, on_gap=policy)
    assert latch.update(T, 0.0) == "start"
    assert run(latch, polls(U, 0.1, 60.0)) == [None] * 600
    assert latch.active


def test_clearing_across_a_long_gap_restarts_the_clear_timer():
    latch = Latch(0.0, 1.0, bridge_s=0.5)
    latch.update(T, 0.0)
    edges = run(latch, [(F, 0.1), (F, 0.5), (F, 0.9), (U, 1.0), (F, 3.0), (F, 3.5), (F, 3.9),
                        (F, 4.0)])
    assert edges == [None] * 7 + ["end"]


def test_door_cycles_hidden_in_gaps_do_not_add_up_to_a_door_timeout():
    """The HIL defect: door commanded-and-moving seen before a gap, again after it; in the gap
    the door reached its limit and a new cycle began. 15 s of such glimpses is no fault."""
    latch = Latch(15.0, 0.0, bridge_s=0.5)
    sequence = []
    for cycle in range(10):  # a 3 s door movement every 4 s, the limit hidden by a 1 s gap
        t0 = cycle * 4.0
        sequence += polls(T, t0, t0 + 2.9) + [(U, t0 + 3.5)]
    assert "start" not in run(latch, sequence)


def test_trapped_alarm_rises_through_an_intermittent_bus_under_pause():
    """Gaps of 1 s every 3 s would restart a trapped timer forever; pausing counts the 2 s
    seen in each stretch and raises after 20 s of observed trapping."""
    latch = Latch(20.0, 2.0, bridge_s=0.5, on_gap="pause")
    sequence = []
    for stretch in range(15):
        t0 = stretch * 3.0
        sequence += polls(T, t0, t0 + 2.0) + [(U, t0 + 2.5)]
    edges = run(latch, sequence)
    assert edges.count("start") == 1
    started = sequence[edges.index("start")][1]
    assert started == pytest.approx(9 * 3.0 + 2.0)  # 10 stretches of 2 s observed


def test_bad_gap_policy_or_negative_bridge_is_rejected():
    with pytest.raises(ValueError, match="gap policy"):
        Latch(1.0, 1.0, on_gap="forget")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        Latch(1.0, 1.0, bridge_s=-1.0)


@given(st.lists(st.tuples(st.sampled_from([T, F, U]), st.floats(0.01, 3.0)), max_size=80),
       st.sampled_from(["restart", "pause"]))
def test_never_starts_before_the_raise_time_has_been_observed(steps, policy):
    """Property: at a start, the condition was seen True over at least raise_after_s, counting
    only intervals of at most bridge_s between consecutive known observations."""
    latch = Latch(2.0, 1.0, bridge_s=0.5, on_gap=policy)
    t, seen, last = 0.0, 0.0, None
    for cond, dt in steps:
        t += dt
        was_active = latch.active
        edge = latch.update(cond, t)
        if cond is None:
            assert edge is None
            continue
        if cond and not was_active:
            if last is not None and last[0] is True and t - last[1] <= 0.5:
                seen += t - last[1]
            elif last is None or last[0] is not True or policy == "restart":
                seen = 0.0
        else:
            seen = 0.0
        if edge == "start":
            assert seen >= 2.0 - 1e-6
        last = (cond, t)
