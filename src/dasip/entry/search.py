"""``dasip-search`` / ``python -m dasip search`` / ``python search.py``: one search trial (a study with ``-m``)."""

import hydra
from omegaconf import DictConfig

from .. import cli


def search(cfg: DictConfig) -> float | None:
    return cli.search(cfg)


#: the Hydra app (config ``dasip/conf/search.yaml``); the task function ``search`` stays importable
main = cli.one_line_errors(
    hydra.main(version_base="1.3", config_path="../conf", config_name="search")(search)
)

if __name__ == "__main__":
    main()
