"""``dasip-train`` / ``python -m dasip train`` / ``python train.py``: train one architecture from scratch."""

import hydra
from omegaconf import DictConfig

from .. import cli


def train(cfg: DictConfig) -> float | None:
    return cli.train(cfg)


#: the Hydra app (config ``dasip/conf/train.yaml``); the task function ``train`` stays importable
main = cli.one_line_errors(
    hydra.main(version_base="1.3", config_path="../conf", config_name="train")(train)
)

if __name__ == "__main__":
    main()
