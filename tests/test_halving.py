from autorecs.halving import better_half, successive_halving


def test_better_half_keeps_the_best_and_breaks_ties_by_order():
    scores = {"a": 0.3, "b": 0.1, "c": 0.3, "d": 0.9}
    assert better_half(list("abcd"), scores) == ["b", "a"]
    assert better_half(list("abcd"), scores, minimize=False) == ["d", "a"]
    assert better_half(list("cab"), scores, order="abc") == ["b"]  # a before c on a tie, whatever the current order
    assert better_half(["d"], scores) == ["d"]


def test_driver_gives_each_survivor_more_budget_and_returns_the_best():
    true = {c: v for c, v in zip("abcdefgh", [5, 3, 8, 1, 7, 2, 6, 4])}
    budget = {c: 0 for c in true}
    calls = []

    def run_rung(alive, rung):
        calls.append((rung, len(alive)))
        for c in alive:
            budget[c] += 1
        return {c: true[c] + 1.0 / budget[c] for c in alive}  # noisy at low budget, the true order at high

    assert successive_halving(list(true), run_rung) == "d"
    assert calls == [(0, 8), (1, 4), (2, 2)] and budget["d"] == 3 and budget["c"] == 1
    assert successive_halving(["only"], lambda alive, rung: {"only": 0.0}) == "only"
