"""`zoo bench` records the machine's GPUs: the nvidia-smi parser on pinned output."""

from __future__ import annotations

import shutil

import pytest

from serving.apps.bench.environment import NVIDIA_SMI_QUERY, environment, gpus, parse_nvidia_smi
from serving.apps.bench.report import describe_gpus

# What `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`
# prints: one line per GPU, fields joined by ", ", memory.total in MiB without its unit
# ("nvidia-smi --help-query-gpu" documents the fields). Names and sizes are those of an H100
# 80GB HBM3 and an A10G with a 535 driver; no GPU was lent to this project, so this sample
# was written from that documented format, not captured on a GPU host.
TWO_GPUS = """\
NVIDIA H100 80GB HBM3, 81559, 580.82.07
NVIDIA A10G, 23028, 535.183.01
"""


def test_the_query_asks_for_name_memory_and_driver() -> None:
    assert "--query-gpu=name,memory.total,driver_version" in NVIDIA_SMI_QUERY
    assert "--format=csv,noheader,nounits" in NVIDIA_SMI_QUERY


def test_parse_pinned_output() -> None:
    assert parse_nvidia_smi(TWO_GPUS) == [
        {"name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559, "driver": "580.82.07"},
        {"name": "NVIDIA A10G", "memory_mib": 23028, "driver": "535.183.01"},
    ]
    assert describe_gpus(parse_nvidia_smi(TWO_GPUS)) == (
        "NVIDIA H100 80GB HBM3 (81559 MiB, driver 580.82.07), "
        "NVIDIA A10G (23028 MiB, driver 535.183.01)"
    )


def test_parse_unknown_fields_and_noise() -> None:
    text = "\nNVIDIA GH200 480GB, [N/A], [N/A]\nNo devices were found\n"
    assert parse_nvidia_smi(text) == [
        {"name": "NVIDIA GH200 480GB", "memory_mib": None, "driver": None}
    ]
    assert parse_nvidia_smi("") == []
    assert describe_gpus(None) == "no GPU"


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host has nvidia-smi")
def test_no_gpu_here_is_none() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA device")
    assert gpus() is None
    assert environment()["gpu"] is None
