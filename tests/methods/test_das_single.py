"""``das_single``: frozen pre-trained ops, only alpha moves; the pre-training cache."""

import math

import torch

from dasip.config import check_keys
from dasip.methods import das_single
from dasip.models.single_level import FrozenOp
from dasip.record import read_record
from dasip.trial import TrialContext, run_trial

from ..conftest import compose_cfg


def _cfg(tmp_path, *overrides):
    return compose_cfg(
        overrides=[
            "method=das_single",
            "hparams=BOHB-DAS-single",  # no alpha warm-up: alpha moves from the first step
            f"method.cache_dir={tmp_path / 'cache'}",
            *overrides,
        ]
    )


def test_search_changes_alpha_and_leaves_pretrained_ops_bit_for_bit(tmp_path, monkeypatch):
    seen = {}
    real_freeze = das_single.freeze_into

    def spy(body, pretrained):
        seen["body"] = body
        seen["alpha0"] = body.alpha.detach().clone()
        seen["pretrained"] = {
            op: [{k: v.clone() for k, v in layer.state_dict().items()} for layer in net.layers]
            for op, net in pretrained.items()
        }
        return real_freeze(body, pretrained)

    monkeypatch.setattr(das_single, "freeze_into", spy)
    rec = run_trial(_cfg(tmp_path), tmp_path / "run")
    assert rec.status == "ok" and math.isfinite(rec.one_shot_psnr) and math.isfinite(rec.arch_psnr)

    body = seen["body"]
    assert not torch.equal(body.alpha.detach(), seen["alpha0"])  # alpha was optimised
    assert rec.extra["alpha_steps"] == 2 * 3  # FAST: 2 epochs of 3 batches
    names = body.op_names
    checked = 0
    for i, layer in enumerate(body.layers):
        for j, name in enumerate(names):
            if name in ("grad", "net"):
                op = layer.ops[j]
                assert isinstance(op, FrozenOp) and not op.op.training
                state = op.op.state_dict()  # weights and BN running statistics
                expected = seen["pretrained"][name][i]
                assert state.keys() == expected.keys()
                assert all(torch.equal(state[k], expected[k]) for k in state)
                checked += 1
    assert checked == 2 * len(body.layers)
    # the weights of every other op (noise's tau) are not trained either
    assert all(not p.requires_grad for p in body.weight_parameters())


def test_pretrained_networks_are_cached_and_a_hit_reproduces_a_miss(tmp_path):
    miss = run_trial(_cfg(tmp_path), tmp_path / "miss")
    info = miss.extra["pretrain"]
    assert miss.extra["pretrain_cache_hit"] is False
    assert {n["cache"] for n in info["networks"].values()} == {"miss"}
    assert set(info["networks"]) == {"grad", "net"}
    files = sorted((tmp_path / "cache").glob("*.pt"))
    assert len(files) == 2
    assert miss.search_time_s >= info["seconds"] > 0  # pre-training is search time

    hit = run_trial(_cfg(tmp_path), tmp_path / "hit")
    assert hit.extra["pretrain_cache_hit"] is True
    assert hit.genotype == miss.genotype
    assert hit.one_shot_psnr == miss.one_shot_psnr and hit.arch_psnr == miss.arch_psnr
    assert hit.alpha_probs == miss.alpha_probs
    assert hit.extra["pretrain"]["seconds"] < info["seconds"]

    # another op set reuses the same pre-trained networks; another seed does not
    good = run_trial(_cfg(tmp_path, "ops=good"), tmp_path / "good")
    assert good.extra["pretrain_cache_hit"] is True
    assert sorted((tmp_path / "cache").glob("*.pt")) == files
    d = read_record(tmp_path / "good")
    assert d["extra"]["pretrain"]["networks"]["grad"]["file"] == str(
        next(f for f in files if f.name.startswith("gradx10"))
    )


def test_cache_key_separates_what_changes_a_pretrained_network(tmp_path):
    def file(*overrides, device="cpu"):
        cfg = _cfg(tmp_path, *overrides)
        conf = check_keys(cfg)["method"]
        key = das_single.cache_key(cfg, "grad*10", conf.pretrain_epochs, device)
        return das_single.cache_file(das_single.cache_dir(conf), key).name

    base = file()
    assert file(device="cuda") != base  # a GPU-trained network is not the CPU one
    assert file("ops=good") == base == file("ops.noise_std=0.5")  # op set, noise op: no
    for change in (
        "seed=1",
        "data=downsampling",
        "hparams=H1",
        "hparams.param_lr=0.01",
        "ops.width=8",
        "retrain_epochs=3",  # pretrain_epochs follows retrain_epochs
        "method.pretrain_epochs=7",
        "space.n_layers=4",
        "loss.reduction=mean",
    ):
        assert file(change) != base, change


def test_cache_off_trains_and_writes_nothing(tmp_path):
    cfg = _cfg(tmp_path, "method.cache=false", "ops=good")
    ctx = TrialContext(cfg, tmp_path)
    net, info = das_single.pretrained_network(ctx, "grad")
    assert info["cache"] == "off" and math.isfinite(info["psnr"])
    assert not (tmp_path / "cache").exists()


def test_relative_cache_dir_is_taken_from_the_start_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = check_keys(compose_cfg(overrides=["method=das_single"]))["method"]
    assert das_single.cache_dir(conf) == tmp_path / ".cache" / "dasip" / "pretrained"
