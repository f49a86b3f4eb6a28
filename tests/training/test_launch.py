"""The packaged ``accelerate launch`` configs: found by name, printed by the CLI, and read by
accelerate's own launcher into the environment its plugins are built from (FSDP and
DeepSpeed need GPUs; here only their parsing is checked)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mucode.cli import app
from mucode.core.errors import ConfigError
from mucode.training.launch import accelerate_config, accelerate_configs

accelerate_launch = pytest.importorskip("accelerate.commands.launch")
accelerate_utils = pytest.importorskip("accelerate.utils")
launch_utils = pytest.importorskip("accelerate.utils.launch")


def test_configs_are_found_by_name_and_an_unknown_name_lists_them():
    assert accelerate_configs() == ["ddp", "deepspeed-zero3", "fsdp"]
    assert accelerate_config("ddp").is_file()
    with pytest.raises(ConfigError, match=r"choose from \['ddp', 'deepspeed-zero3', 'fsdp'\]"):
        accelerate_config("zero2")


def test_the_cli_prints_a_config_path():
    result = CliRunner().invoke(app, ["accelerate-config", "fsdp"])
    assert result.exit_code == 0
    assert result.output.strip() == str(accelerate_config("fsdp"))


def launcher_arguments(name: str):
    """What ``accelerate launch --config_file NAME.yaml -m mucode ...`` resolves to."""
    parser = accelerate_launch.launch_command_parser()
    args = parser.parse_args(["--config_file", str(accelerate_config(name)), "-m", "mucode"])
    return accelerate_launch._validate_launch_command(args)  # what launch_command runs first


def test_ddp_launches_one_process_each_without_sharding():
    args, _, _ = launcher_arguments("ddp")
    assert args.multi_gpu and args.num_processes == 2 and args.mixed_precision == "no"
    env = launch_utils.prepare_multi_gpu_env(args)
    assert "ACCELERATE_USE_FSDP" not in env and "ACCELERATE_USE_DEEPSPEED" not in env


def test_fsdp_shards_with_fsdp2_and_saves_a_whole_model(monkeypatch):
    args, _, _ = launcher_arguments("fsdp")
    for key, value in launch_utils.prepare_multi_gpu_env(args).items():
        monkeypatch.setenv(key, value)
    plugin = accelerate_utils.FullyShardedDataParallelPlugin()  # built from that environment
    assert plugin.fsdp_version == 2
    assert plugin.state_dict_type.name == "FULL_STATE_DICT"


def test_deepspeed_runs_zero3_with_the_trainers_batch_and_gathers_weights_on_save(monkeypatch):
    args, defaults, _ = launcher_arguments("deepspeed-zero3")
    assert args.use_deepspeed
    args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
    _, env = launch_utils.prepare_deepspeed_cmd_env(args)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = accelerate_utils.DeepSpeedPlugin().deepspeed_config  # deepspeed itself not needed
    assert config["zero_optimization"]["stage"] == 3
    assert config["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert config["train_micro_batch_size_per_gpu"] == config["gradient_accumulation_steps"]
    assert config["gradient_accumulation_steps"] == "auto"  # the Trainer's own settings
