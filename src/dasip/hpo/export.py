"""What a sweep leaves behind: the best hyperparameters as a ready ``dasip/conf/hparams/`` preset (and,
for a DAS search variant, an ``experiment/`` preset that sets the variant and loads it), a
summary, and one trial record per Optuna trial (``report.py`` reads records, never the study).

Every job writes its own ``record.json``; a job that was killed could not, so the sweeper
writes a ``failed`` record for it into its run directory (when that directory is on this
machine).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from ..models.optim import HParams
from ..models.variants import Variant
from ..record import RECORD_FILE, TrialRecord
from .study import redact

log = logging.getLogger(__name__)

RESULTS_FILE = "optimization_results.yaml"
HPARAMS_PREFIX = "hparams."
#: the hparams group's schema, as dasip/conf/hparams/*.yaml name it in their defaults
HPARAMS_SCHEMA = "base_hparams"
METHOD_PREFIX = "method."
#: the config group of the preset that carries a search variant (``+experiment=<name>``)
EXPERIMENT_GROUP = "experiment"


@dataclass(frozen=True)
class SweepSummary:
    """What the export needs to know of a sweep (the sweeper makes one; nothing here imports
    the sweeper)."""

    study_name: str
    storage_url: str
    objective: str
    direction: str
    n_trials: int
    min_budget: int
    max_resource: int
    reduction_factor: int
    sweep_dir: Path
    hparams_name: str
    hparams_dir: str | None
    #: the sweep's hparams preset, the base of the best preset
    hparams: dict[str, Any] = field(default_factory=dict)
    #: the sweep's method config (with the fixed command-line overrides, e.g. its variant)
    method: dict[str, Any] = field(default_factory=dict)


def export(sweep: SweepSummary, study: Any) -> None:
    """Best-effort: an export problem is logged, it never hides the sweep's own outcome."""
    for step in (write_missing_records, write_results):
        try:
            step(sweep, study)
        except Exception as e:  # pragma: no cover - reporting must not mask the sweep's error
            log.warning("bohb sweeper: %s failed: %s", step.__name__, e)


def hparams_name(sweep: SweepSummary) -> str:
    return sweep.hparams_name


def best_hparams(sweep: SweepSummary, trial: Any, name: str) -> dict[str, Any]:
    """The sweep's hparams preset with the best trial's ``hparams.*`` values, checked by
    :class:`HParams` (the same keys as ``dasip/conf/hparams/H1.yaml``)."""
    base = {k: v for k, v in sweep.hparams.items() if k != "defaults"}
    for key, value in trial.params.items():
        if key.startswith(HPARAMS_PREFIX):
            base[key[len(HPARAMS_PREFIX) :]] = value
    base["name"] = name
    return HParams.from_config(base).to_dict()


def best_method(sweep: SweepSummary, trial: Any) -> dict[str, Any]:
    """The ``method.*`` keys of the best trial's DAS search variant (:meth:`Variant.preset`:
    the variant, its own keys, changed and swept keys), from the sweep's method config and the
    trial's sampled ``method.*`` values; ``{}`` when the method is not ``das`` or is the paper's
    DAS with every variant key at its default (the hparams preset is then all there is)."""
    method = dict(sweep.method)
    swept = []
    for key, value in trial.params.items():
        if key.startswith(METHOD_PREFIX):
            method[key[len(METHOD_PREFIX) :]] = value
            swept.append(key[len(METHOD_PREFIX) :])
    if method.get("name") != "das" or "variant" not in method:
        return {}
    keys = Variant.from_config(method).preset(also=tuple(swept))
    return {} if keys == {"variant": "darts"} else keys


def experiment_yaml(name: str, method: dict[str, Any], header: list[str]) -> str:
    """An ``experiment/`` preset (package ``_global_``) that loads the hparams preset ``name``
    and sets ``method=das`` with the variant's keys ``method``."""
    lines = ["# @package _global_", *(f"# {h}" for h in header)]
    lines += ["defaults:", "  - override /method: das", f"  - override /hparams: {name}", ""]
    lines += ["method:", *(f"  {k}: {_yaml_scalar(v)}" for k, v in method.items())]
    return "\n".join(lines) + "\n"


def _yaml_scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        s = repr(v)
        mantissa, _, exp = s.partition("e")
        if exp and "." not in mantissa:  # YAML 1.1 needs the dot: 1e-05 -> 1.0e-05
            s = f"{mantissa}.0e{exp}"
        return s
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


def hparams_yaml(values: dict[str, Any], header: list[str]) -> str:
    """A preset as the shipped ones are written: it names the group's schema in its defaults
    (types and ranges checked when it is composed), then its values."""
    lines = [f"# {h}" for h in header]
    lines += ["defaults:", f"  - {HPARAMS_SCHEMA}", "  - _self_"]
    lines += [f"{k}: {_yaml_scalar(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def write_results(sweep: SweepSummary, study: Any) -> None:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    results: dict[str, Any] = {
        "study_name": sweep.study_name,
        "storage": redact(sweep.storage_url),
        "objective": sweep.objective,
        "direction": sweep.direction,
        "n_trials": sweep.n_trials,
        "trials": counts,
        "budget_epochs": {
            "min": sweep.min_budget,
            "max": sweep.max_resource,
            "reduction_factor": sweep.reduction_factor,
        },
    }
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if complete:
        best = study.best_trial
        name = hparams_name(sweep)
        values = best_hparams(sweep, best, name)
        method = best_method(sweep, best)
        header = [
            f"BOHB stand-in (Optuna TPE + Hyperband): best trial {best.number} of study "
            f"{sweep.study_name}",
            f"{sweep.objective} = {best.value:.4f} dB ({sweep.direction}), "
            f"{best.last_step or '-'} epochs on the report axis; storage {redact(sweep.storage_url)}",
        ]
        if method:
            use = [
                f"use: python search.py +{EXPERIMENT_GROUP}={name} (these hparams with the search "
                f"variant {method['variant']}: {EXPERIMENT_GROUP}/{name}.yaml); "
                f"hparams={name} alone runs the paper's DAS",
            ]
        else:
            use = [f"use: python search.py hparams={name}"]
        other = {
            k: v
            for k, v in best.params.items()
            if not k.startswith(HPARAMS_PREFIX) and k[len(METHOD_PREFIX) :] not in method
        }
        tail = [f"also tuned (not hparams): {other}"] if other else []
        files = [sweep.sweep_dir / "hparams" / f"{name}.yaml"]
        if sweep.hparams_dir:
            files.append(Path(sweep.hparams_dir) / f"{name}.yaml")
        texts = {path: hparams_yaml(values, header + use + tail) for path in files}
        if method:  # the experiment group beside each hparams group
            for path in files:
                experiment = path.parent.parent / EXPERIMENT_GROUP / f"{name}.yaml"
                texts[experiment] = experiment_yaml(name, method, header + use)
            results["method"] = method
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        files = list(texts)
        results["best"] = {
            "trial": best.number,
            "value": best.value,
            "params": dict(best.params),
            "record": best.user_attrs.get("record"),
        }
        results["hparams"] = {"name": name, "files": [str(p) for p in files]}
        log.info(
            "bohb sweeper: best trial %d, %s=%.3f; hparams preset %s written to %s",
            best.number,
            sweep.objective,
            best.value,
            name,
            ", ".join(str(p) for p in files),
        )
    else:
        log.warning("bohb sweeper: no COMPLETE trial yet: no hparams preset written")
    (sweep.sweep_dir / RESULTS_FILE).write_text(yaml.safe_dump(results, sort_keys=False))


def write_missing_records(sweep: SweepSummary, study: Any) -> None:
    """A ``failed`` record for every finished trial whose job left none (a killed job)."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False):
        if t.state != TrialState.FAIL:
            continue
        run_dir = Path(t.user_attrs.get("run_dir") or sweep.sweep_dir / f"trial_{t.number:04d}")
        if not run_dir.is_dir() or (run_dir / RECORD_FILE).exists():
            continue
        job_cfg = run_dir / ".hydra" / "config.yaml"
        config = OmegaConf.to_container(OmegaConf.load(job_cfg)) if job_cfg.is_file() else {}

        def get(key: str, default: Any = "?", config=config) -> Any:
            node: Any = config
            for part in key.split("."):
                if not isinstance(node, dict) or part not in node:
                    return default
                node = node[part]
            return node

        record = TrialRecord(
            study=str(get("study", sweep.study_name)),
            seed=int(get("seed", 0)),
            method=str(get("method.name")),
            data=str(get("data.name")),
            ops=str(get("ops.name")),
            space=str(get("space.name")),
            hparams=str(get("hparams.name")),
            status="failed",
            error=str(
                t.user_attrs.get("error")
                or "the job ended without a record (killed; its heartbeat went stale)"
            ),
            config=config,
            run_dir=str(run_dir.resolve()),
            extra={
                "hpo": {
                    "study_name": sweep.study_name,
                    "trial_number": t.number,
                    "objective": sweep.objective,
                    "params": dict(t.params),
                    "state": "FAIL",
                    "value": None,
                    "epochs": t.last_step,
                    "intermediate_values": {
                        str(k): v for k, v in t.intermediate_values.items() if math.isfinite(v)
                    },
                    "written_by": "sweeper",
                }
            },
        )
        record.write(run_dir)
        log.info("trial %d: wrote a failed record to %s", t.number, run_dir)
