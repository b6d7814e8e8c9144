"""Ctrl-C on cue: what the auto tests press to interrupt a search at a known point."""

import autorecs.auto as A


def ctrl_c_after(monkeypatch, trials: int) -> None:
    """The next auto search raises KeyboardInterrupt (as Ctrl-C does) once ``trials`` trials are recorded."""
    original = A._Run.run_batch

    def pressed(self, requests):
        if len(self.trials) >= trials:
            raise KeyboardInterrupt
        return original(self, requests)

    monkeypatch.setattr(A._Run, "run_batch", pressed)
