"""A self-contained HTML report of an ``autorecs auto`` run: the leaderboard, the best value found so
far against time per family, the learning curves of the finalists, the chosen configuration and
the ensemble weights.  Figures are PNGs embedded as data URIs and the styling is inline, so the
file opens in any browser with no network."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _best_so_far_figure(result) -> str:
    from .plots import _subplots

    fig, ax = _subplots(figsize=(7.2, 4.0))
    sign = 1.0 if result.direction == "minimize" else -1.0
    families = sorted({t.family for t in result.leaderboard})
    for fam in families:
        xs, ys, best = [], [], None
        for t in sorted((t for t in result.leaderboard if t.family == fam), key=lambda t: t.elapsed):
            if t.state == "COMPLETE" and t.value is not None and (best is None or sign * t.value < sign * best):
                best = t.value
            if best is not None:
                xs.append(t.elapsed)
                ys.append(best)
        if xs:
            ax.step(xs, ys, where="post", marker=".", label=fam)
    better = "lower" if result.direction == "minimize" else "higher"
    ax.set_xlabel("seconds since the start of the search")
    ax.set_ylabel(f"validation {result.metric}\n(best so far; {better} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def _curves_figure(result, finalists) -> str | None:
    from .plots import _subplots

    curves = [(t, [v for v in t.curve if v is not None]) for t in finalists]
    curves = [(t, c) for t, c in curves if len(c) > 1]
    if not curves:
        return None
    from matplotlib.ticker import MaxNLocator

    fig, ax = _subplots(figsize=(7.2, 4.0))
    for t, c in curves:
        ax.plot(range(1, len(c) + 1), c, marker=".", label=f"#{t.number} {t.family}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {result.metric}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.3g}"
    return html.escape(str(v))


_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f4f4f4; } tr.chosen { background: #e8f4e8; font-weight: 600; } tr.failed { color: #a33; }
code, pre { background: #f6f6f6; padding: 2px 4px; font-size: 0.9em; } .small { color: #666; font-size: 0.85em; }
"""


def _short(params: dict) -> dict:
    """Parameters as a reader wants them: long weight lists (SIF's transforms) summarised."""
    out = {}
    for k, v in params.items():
        if k == "monitor":
            continue
        out[k] = f"[{len(v)} weights]" if isinstance(v, (list, tuple)) and len(v) > 4 else v
    return out


def _flat_metrics(test: dict) -> dict:
    """``{"topk": {"ndcg@50": x}}`` -> ``{"topk ndcg@50": x}``; rating metrics as they are."""
    out = {}
    for key, value in test.items():
        if isinstance(value, dict):
            out.update({f"{key} {k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def _metrics_table(test: dict, reference: dict | None = None) -> str:
    """Test metrics as a table: one row per metric (ranking: per family), beside the reference model's when given."""
    rows, ref = _flat_metrics(test), _flat_metrics(reference["test"]) if reference else {}
    head = "<tr><th>metric</th><th>test</th>" + (f"<th>{html.escape(reference['model'])} (reference)</th>" if ref else "") + "</tr>"
    return ("<table>" + head + "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td>"
                                       + (f"<td>{_fmt(ref.get(k))}</td>" if ref else "") + "</tr>" for k, v in rows.items())
            + "</table>")


def _families_table(result) -> str:
    """Best validation value per family, with the gap to the simplest model (popularity or the biases baseline)."""
    sign = 1.0 if result.direction == "minimize" else -1.0
    best: dict = {}
    for t in result.leaderboard:
        if t.state == "COMPLETE" and t.value is not None and (t.family not in best or sign * t.value < sign * best[t.family].value):
            best[t.family] = t
    floor = best.get("popularity") or best.get("baseline")
    counts: dict = {}
    for t in result.leaderboard:
        counts[t.family] = counts.get(t.family, 0) + 1
    rows = []
    for fam, t in sorted(best.items(), key=lambda kv: sign * kv[1].value):
        gap = "" if floor is None or floor is t or not floor.value else f"{100 * (t.value / floor.value - 1):+.1f}%"
        rows.append(f"<tr><td>{html.escape(fam)}</td><td>{_fmt(t.value)}</td><td>{gap}</td><td>#{t.number}</td><td>{counts[fam]}</td></tr>")
    ref = "" if floor is None else f" (vs {html.escape(floor.family)})"
    return (f"<table id='families-table'><tr><th>family</th><th>best validation</th><th>change{ref}</th><th>trial</th><th>trials</th></tr>"
            + "".join(rows) + "</table>")


def _shipped(result) -> list[int]:
    """The trials whose models make up the saved model: the ensemble's members, or the single final trial."""
    final = result.final or {}
    if final.get("kind") == "ensemble":
        return [m["trial"] for m in final.get("members", [])]
    return [final.get("trial", result.chosen["trial"])]


def _params_block(t) -> str:
    shown = _short(t.params)
    return ("<pre>" + html.escape(json.dumps(shown, indent=1, default=str)) + "</pre>") if shown else "<p class='small'>all at their defaults</p>"


_BLEND = {"rating": "the weighted average of the members' predicted ratings",
          "ranking": "the weighted sum of the members' scores, each standardised per user first (mean 0, standard deviation 1 "
                     "over the items), since members score on different scales"}


def _use_section(result) -> str:
    """How to use the model and what reproduces the run."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("autorecs")
    except PackageNotFoundError:  # the sources run without being installed
        __version__ = "(not installed)"
    model = f"{result.out_dir}/model" if result.out_dir else "OUT/model"
    d = result.data or {}
    saved = Path(model)
    size = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file()) if saved.is_dir() else None
    return ("<h2>Using the model</h2>"
            + (f"<p class='small'>Saved model: {size / 2**20:.1f} MB on disk (weights, ids and configuration; an ensemble holds "
               "every member).</p>" if size is not None else "")
            + f"<p>Command line: <code>autorecs recommend --model {html.escape(model)} --user USER_ID</code> (also <code>evaluate</code>, "
            f"<code>predict</code>).  Python: <code>from autorecs import Recommender; model = Recommender.load('{html.escape(model)}')</code>, "
            "then <code>model.recommend([user_id], n=10)</code> or <code>model.predict(users, items)</code>.</p>"
            f"<p class='small'>autorecs {html.escape(__version__)}; seed {html.escape(str(d.get('seed', '–')))}; rerun the same command with the "
            "same output directory to continue the run (a finished run returns its result), or give a larger budget to search on.</p>")


def write_auto_report(result, path: str | Path) -> Path:
    """Write ``report.html`` for an :class:`~autorecs.auto.AutoResult`."""
    sign = 1.0 if result.direction == "minimize" else -1.0
    rows = sorted(result.leaderboard, key=lambda t: (t.state != "COMPLETE", sign * (t.value if t.value is not None else 0.0), t.number))
    by = {t.number: t for t in result.leaderboard}
    shipped = _shipped(result)
    c, sec = result.chosen, result.seconds
    finalists = [by[n] for n in shipped if n in by] + ([by[c["trial"]]] if c["trial"] not in shipped and c["trial"] in by else [])
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>autorecs auto: {result.task}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>autorecs auto — {html.escape(result.task)} task, validation {html.escape(result.metric)}</h1>",
             f"<p>Budget {result.budget_seconds:.0f} s; used {sec['total']:.1f} s (search {sec['search']:.1f} s, ensemble selection "
             f"{sec['ensemble']:.1f} s, refit {sec['refit']:.1f} s; a continued run counts its earlier runs too); {len(result.leaderboard)} "
             f"trials; overhead outside fitting and scoring {sec['overhead']:.1f} s.  Every choice below was made on the validation data.</p>"]
    if getattr(result, "interrupted", False):
        parts.append("<p><b>The search was interrupted (Ctrl-C)</b>: the model was chosen among the trials finished by then; "
                     "rerun the same command with the same output directory to continue it.</p>")
    if result.data:
        d = result.data
        parts.append("<h2>Data</h2><table><tr><th></th><th>rows</th><th>users</th><th>items</th></tr>"
                     + "".join(f"<tr><td>{k}</td><td>{d[k]['rows']:,}</td><td>{d[k]['users']:,}</td><td>{d[k]['items']:,}</td></tr>"
                               for k in ("train", "valid") if k in d)
                     + f"</table><p class='small'>Validation: {html.escape(str(d.get('validation', '')))}."
                     + (f"  Trials are scored on {html.escape(str(d['scored_on']))}." if d.get("scored_on") else "") + "</p>")
    parts.append("<h2>Result</h2>")
    final = result.final or {}
    if final.get("kind") == "ensemble":
        e = result.ensemble
        parts.append(f"<p>Final model: an <b>ensemble</b> of {len(e['members'])} trials, validation {_fmt(e['valid'])} against "
                     f"{_fmt(e['best_single_valid'])} for the best single trial.  It predicts {_BLEND[result.task]}; its members "
                     "were chosen by greedy ensemble selection on validation (Caruana et al., 2004) and refit on train + validation.</p>"
                     "<table><tr><th>trial</th><th>family</th><th>weight</th><th>validation</th><th>parameters</th></tr>"
                     + "".join(f"<tr><td>#{m['trial']}</td><td>{html.escape(m['family'])}</td><td>{m['weight']:.2f}</td>"
                               f"<td>{_fmt(by[m['trial']].value) if m['trial'] in by else '–'}</td>"
                               f"<td><code>{html.escape(json.dumps(_short(by[m['trial']].params), default=str)) if m['trial'] in by else ''}</code></td></tr>"
                               for m in e["members"])
                     + "</table>")
    else:
        f = by.get(shipped[0], by.get(c["trial"]))
        why = final.get("ensemble") or ("no ensemble beat it on validation" if result.ensemble_tried else "ensembles were switched off")
        refit_on = final.get("refit", "train + validation")
        epochs = f.best_epoch if refit_on == "train + validation" and f.best_epoch else None
        parts.append(f"<p>Final model: the single trial <b>#{f.number} {html.escape(f.family)}</b> ({html.escape(f.model)}), "
                     f"validation {html.escape(result.metric)} {_fmt(f.value)}; trained again on {html.escape(refit_on)}"
                     + (f" for {epochs} epoch{'s' if epochs != 1 else ''}" if epochs else "") + f" ({html.escape(why)}).</p>")
        parts.append("<p class='small'>Its parameters (the others at the model's defaults: <code>autorecs models "
                     + html.escape(f.model) + "</code>):</p>" + _params_block(f))
    if c["trial"] not in shipped and c["trial"] in by:
        b = by[c["trial"]]
        reason = (f": {html.escape(final['why'])}." if final.get("why")
                  else ": the ensemble scored better on validation." if final.get("kind") == "ensemble" else ".")
        parts.append(f"<p class='small'>The best single trial on validation, #{b.number} {html.escape(b.family)} ({_fmt(b.value)}), is not "
                     f"in the final model{reason}</p>")
    if result.test:
        ref = result.test_reference
        note = (f"; beside it, {html.escape(ref['model'])}, the simplest model of the task, fitted on the same rows, for the lift"
                if ref else "")
        parts.append(f"<p>Test (scored once, after every choice{note}):</p>" + _metrics_table(result.test, ref))
    parts.append("<h2>Families</h2>" + _families_table(result))
    parts.append("<h2>Best so far against time, per family</h2>")
    parts.append(f"<img alt='best validation value so far against seconds, one line per family' src='{_best_so_far_figure(result)}'>")
    curves = _curves_figure(result, finalists)
    parts.append("<h2>Learning curves of the final model's trials</h2>")
    if curves:
        parts.append(f"<img alt='validation value per epoch of the trials in the final model' src='{curves}'>")
    else:
        parts.append("<p class='small'>None to draw: the final model's trials trained in one step or one epoch (closed-form "
                     "models such as EASE, popularity and item-kNN have no learning curve).</p>")
    parts.append("<h2 id='leaderboard'>Leaderboard</h2><table id='leaderboard-table'><tr><th>rank</th><th>trial</th><th>family</th>"
                 f"<th>phase</th><th>validation {html.escape(result.metric)}</th><th>fit s</th><th>epochs</th><th>best epoch</th>"
                 "<th>at s</th><th>parameters</th></tr>")
    for rank, t in enumerate(rows, 1):
        cls = "chosen" if t.number in shipped else ("failed" if t.state != "COMPLETE" else "")
        note = html.escape(t.error or "") + (" (cut short by the budget)" if getattr(t, "stopped_by_budget", False) else "")
        parts.append(f"<tr class='{cls}'><td>{rank}</td><td>#{t.number}</td><td>{html.escape(t.family)}</td><td>{t.phase}</td>"
                     f"<td>{_fmt(t.value) if t.state == 'COMPLETE' else t.state}</td><td>{t.fit_seconds:.1f}</td><td>{t.epochs}</td>"
                     f"<td>{_fmt(t.best_epoch)}</td><td>{t.elapsed:.0f}</td><td><code>{html.escape(json.dumps(_short(t.params), default=str))}</code>"
                     f"{' ' + note if note else ''}</td></tr>")
    parts.append("</table><p class='small'>Highlighted: the trials in the final model.</p>")
    parts.append(_use_section(result))
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
