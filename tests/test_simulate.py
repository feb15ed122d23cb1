"""The simulator (icp_notify.simulate): random filing histories scored through the context engine."""

from __future__ import annotations

from icp_notify.simulate import simulate


def test_a_small_fixed_simulation_meets_the_targets() -> None:
    result = simulate(histories=150, seed=1)
    full, _, low = result.rows
    assert full.p == 1.0
    assert low.p == 0.7
    assert full.wrong == 0
    assert full.decided_share >= 0.90
    assert low.wrong_share <= 0.01
    assert low.truth_in_ambiguous_share >= 0.99
    assert simulate(histories=150, seed=1) == result  # fixed seeds: the same every run


def test_simulation_is_the_same_with_two_workers() -> None:
    from icp_notify.simulate import simulate

    one = simulate(24, seed=3, ps=(1.0, 0.7))
    two = simulate(24, seed=3, ps=(1.0, 0.7), workers=2)
    assert one == two
    assert one.rows[0].generic > 24  # every history has generic notices to score


def test_the_simulator_memo_gives_the_answers_of_classify() -> None:
    """The simulator keeps each notice's text evidence and reuses an answer whose context is
    the same at two p's; scored without any of that, through classify(), nothing changes."""
    from icp_notify.simulate import _chunk_counts

    ps = (1.0, 0.9, 0.7)
    assert _chunk_counts(5, 0, 40, ps, memo=True) == _chunk_counts(5, 0, 40, ps, memo=False)
