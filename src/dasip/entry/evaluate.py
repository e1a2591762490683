"""``dasip-evaluate`` / ``python -m dasip evaluate`` / ``python evaluate.py``: the architecture-validation protocol, or score a saved model."""

import hydra
from omegaconf import DictConfig

from .. import cli


def evaluate(cfg: DictConfig) -> float | None:
    return cli.evaluate(cfg)


#: the Hydra app (config ``dasip/conf/evaluate.yaml``); the task function ``evaluate`` stays importable
main = cli.one_line_errors(
    hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")(evaluate)
)

if __name__ == "__main__":
    main()
