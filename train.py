"""`python train.py [overrides]`: see README.md. Configs live in conf/."""

import hydra
from omegaconf import DictConfig

from dasip import cli


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return cli.train(cfg)


if __name__ == "__main__":
    main()
