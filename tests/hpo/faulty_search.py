"""``search.py`` with injected faults, for the bohb sweeper's tests (never used otherwise).

``+fault.raise_trials=[N,..]``: the method raises in those Optuna trials;
``+fault.nan_trials=[N,..]``: the method returns a NaN one-shot PSNR (status ok);
``+fault.kill_trial=N``: the process SIGKILLs itself at the end of trial N's first epoch.
"""

import dataclasses
import math
import os
import signal

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig

from dasip import CONF_DIR, cli, config, methods

CONF = str(CONF_DIR)
#: this script's own top-level key: not one of dasip's (checked) keys
config.FOREIGN = (*config.FOREIGN, "fault")


class _Kill(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        os.kill(os.getpid(), signal.SIGKILL)


def _faulty(run):
    def method(ctx):
        fault = ctx.cfg.get("fault") or {}
        n = int(ctx.cfg.optuna.trial_number)
        if n in (fault.get("raise_trials") or []):
            raise RuntimeError(f"injected failure in trial {n}")
        if n == fault.get("kill_trial"):
            ctx.callbacks.append(_Kill())
        result = run(ctx)
        if n in (fault.get("nan_trials") or []):
            result.one_shot_psnr = math.nan
        return result

    return method


methods.METHODS["das"] = dataclasses.replace(
    methods.METHODS["das"], run=_faulty(methods.METHODS["das"].run)
)


@hydra.main(version_base="1.3", config_path=CONF, config_name="search")
def main(cfg: DictConfig) -> float | None:
    return cli.search(cfg)


if __name__ == "__main__":
    main()
