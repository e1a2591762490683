"""``search.py`` whose method raises for the seeds in ``+fail_seeds=[..]`` (tests only)."""

import dataclasses

import hydra
from omegaconf import DictConfig

from dasip import CONF_DIR, cli, config, methods

CONF = str(CONF_DIR)
#: this script's own top-level key: not one of dasip's (checked) keys
config.FOREIGN = (*config.FOREIGN, "fail_seeds")


def _failing(run):
    def method(ctx):
        if ctx.seed in (ctx.cfg.get("fail_seeds") or []):
            raise RuntimeError(f"injected failure for seed {ctx.seed}")
        return run(ctx)

    return method


for _name, _m in list(methods.METHODS.items()):
    methods.METHODS[_name] = dataclasses.replace(_m, run=_failing(_m.run))


@hydra.main(version_base="1.3", config_path=CONF, config_name="search")
def main(cfg: DictConfig) -> float | None:
    return cli.search(cfg)


if __name__ == "__main__":
    main()
