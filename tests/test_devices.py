"""Device-agnostic trials: data and network never share device state, scoring runs on the
trial's device, and (marked ``gpu``, skipped without CUDA) a trial on CUDA finds what the CPU
finds."""

import math
import re

import pytest
import torch
from hydra import compose, initialize_config_dir

from dasip.trial import accelerator_device, build, parallel_gpu, run_trial

from .conftest import CONF, ROOT, compose_cfg

#: a problem built to have a known best op: {grad, noise} with a loud noise op (sigma_op = 1),
#: so every layer must pick grad
KNOWN_BEST = [
    "space.n_layers=4",
    "ops.names=[grad,noise]",
    "ops.noise_std=1.0",
    "ops.width=8",
    "hparams.alpha_lr=0.05",
    "hparams.alpha_optimizer=adam",
    "hparams.alpha_warmup=false",
    "hparams.alpha_scheduler=none",
    "epochs=4",
    "retrain_epochs=2",
    "data.batches_per_epoch=10",
    "data.batch_size=32",
    "data.val_size=128",
]


def test_moving_the_network_leaves_the_data_pipeline_untouched(tmp_path):
    ctx = build(compose_cfg(), tmp_path)
    assert ctx.operator is not ctx.data.operator
    net = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    before = next(iter(ctx.data.train_dataloader()))["train"]
    net.to("meta")
    assert all(b.device.type == "cpu" for b in ctx.data.operator.buffers())
    after = next(iter(ctx.data.train_dataloader()))["train"]  # a new fit: the same first batch
    assert after[0].device.type == "cpu" and torch.equal(before[1], after[1])


def test_the_trial_device_follows_the_accelerator():
    assert accelerator_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert accelerator_device("auto").type == "cuda"
    elif not (torch.backends.mps.is_available()):
        assert accelerator_device("auto") == torch.device("cpu")
    assert compose_cfg().trainer.accelerator == "auto"  # a GPU when there is one


def _with_hydra_job(monkeypatch, launcher: str, job_num: int):
    """This process as Hydra job ``job_num`` of a sweep under ``hydra/launcher=launcher``."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        full = compose("search", overrides=[f"hydra/launcher={launcher}"], return_hydra_config=True)
    with open_dict(full):
        full.hydra.job.num = job_num
    monkeypatch.setattr(HydraConfig.instance(), "cfg", full)


@pytest.mark.parametrize("gpus, job, expected", [(4, 6, 2), (2, 3, 1), (1, 3, None), (0, 3, None)])
def test_parallel_trials_take_the_gpus_in_turn(tmp_path, monkeypatch, gpus, job, expected):
    """Trials side by side (``hydra/launcher=local``) on a machine with several GPUs: job k
    trains and scores on GPU ``k mod count``; with one GPU or none nothing changes."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    _with_hydra_job(monkeypatch, "local", job)
    cfg = compose_cfg()
    assert parallel_gpu(cfg) == expected
    ctx = build(cfg, tmp_path)
    if expected is None:
        assert ctx.cfg.trainer.devices == 1 and ctx.device.index in (None, 0)
    else:
        assert list(ctx.cfg.trainer.devices) == [expected]
        assert ctx.device == torch.device("cuda", expected)
        assert cfg.trainer.devices == 1  # the caller's config is left as it was
    # devices chosen by the user, the CPU, or a trial alone: never reassigned
    assert parallel_gpu(compose_cfg(overrides=["trainer.devices=[1]"])) is None
    assert parallel_gpu(compose_cfg(overrides=["trainer.accelerator=cpu"])) is None
    _with_hydra_job(monkeypatch, "basic", job)
    assert parallel_gpu(cfg) is None


def test_no_tensor_is_created_on_a_hard_coded_device():
    """The package names no device except where an accelerator name is turned into one, and
    where a result deliberately goes to the CPU (marked ``# cpu: why``)."""
    pattern = re.compile(
        r"""device\s*=\s*["'](cpu|cuda)|\.(cuda|cpu)\(\)|\.to\(\s*["'](cpu|cuda)"""
    )
    offenders = []
    for path in (ROOT / "src" / "dasip").rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "map_location" not in line and "# cpu: " not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    # study/ draws pictures of saved results on the CPU: not part of a trial
    offenders = [o for o in offenders if not o.startswith("src/dasip/study/")]
    assert not offenders, "\n".join(offenders)


def test_a_trial_finds_the_known_best_op_end_to_end(tmp_path):
    rec = run_trial(compose_cfg(overrides=[*KNOWN_BEST, "trainer.accelerator=cpu"]), tmp_path)
    assert rec.status == "ok" and rec.genotype == "grad*4", rec.alpha_probs
    assert all(p[0] > 0.8 for p in rec.alpha_probs)


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.gpu
@needs_cuda
def test_das_trial_on_cuda_finds_what_the_cpu_finds(tmp_path):
    cpu = run_trial(compose_cfg(overrides=[*KNOWN_BEST, "trainer.accelerator=cpu"]), tmp_path / "c")
    gpu = run_trial(compose_cfg(overrides=[*KNOWN_BEST, "trainer.accelerator=gpu"]), tmp_path / "g")
    assert gpu.status == "ok" and gpu.genotype == cpu.genotype == "grad*4"
    assert math.isfinite(gpu.one_shot_psnr) and math.isfinite(gpu.arch_psnr)
    assert gpu.arch_psnr == pytest.approx(cpu.arch_psnr, abs=1.0)
    assert gpu.config["trainer"]["accelerator"] == "gpu"


@pytest.mark.gpu
@needs_cuda
def test_retraining_on_cuda_matches_the_cpu(tmp_path):
    args = ["method=grad_only", "retrain_epochs=3", "data.val_size=256"]
    cpu = run_trial(compose_cfg(overrides=[*args, "trainer.accelerator=cpu"]), tmp_path / "c")
    gpu = run_trial(compose_cfg(overrides=[*args, "trainer.accelerator=gpu"]), tmp_path / "g")
    assert gpu.status == "ok" and math.isfinite(gpu.arch_psnr)
    assert gpu.arch_psnr == pytest.approx(cpu.arch_psnr, abs=0.5)
    blob = torch.load(tmp_path / "g" / "model.pt", map_location="cpu", weights_only=True)
    assert blob["genotype"] == "grad*10"
