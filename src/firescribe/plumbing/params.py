"""A rule's params, and the options that must stay out of them.

Snakemake re-runs a job whose params changed: it compares the params recorded with the job's
outputs to the params the rule has now (its ``params`` rerun trigger). An option that does not
change a job's results must therefore not appear in its params, or adding it (or changing it
where it has no effect) re-runs every finished corpus:

* an option added after corpora were finished stays out while it has the value that gives
  the results of before (usually its default): a finished corpus re-runs nothing, a corpus
  that sets it re-runs what it changes;
* an option a run does not use (the event model's thresholds with events off, a hotword
  weight without hotword lists) stays out, so changing it re-runs nothing there.

``rule_params`` is the one way to leave such options out; the settings and the stages' option
dataclasses (``params()`` methods) call it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping


def rule_params(values: Mapping, *, unused: Collection[str] = (), as_before: Mapping | None = None) -> dict:
    """``values`` (option -> value) as a rule's param, in their order, less the options in
    ``unused`` and each option of ``as_before`` while it has the value given there (the value
    every run had before the option existed)."""
    as_before = as_before or {}
    return {k: v for k, v in values.items() if k not in unused and not (k in as_before and v == as_before[k])}
