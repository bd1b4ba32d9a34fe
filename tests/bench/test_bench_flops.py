"""FLOP counting against a hand count, and the matmul peak."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from serving.apps.bench.flops import count_flops, count_module_flops, measure_matmul_peak
from zoo.registry import create_model, get_spec


class Tiny(nn.Module):
    """conv 1→2 (3×3, no padding) on 5×5, then linear 18→4."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(18, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


def test_flops_match_hand_count() -> None:
    # conv: 2 out channels × 3×3 outputs × (1 in channel × 3×3 taps) = 162 MACs;
    # linear: 18 × 4 = 72 MACs; 2 FLOPs per MAC → 468 per image.
    net = Tiny()
    assert count_module_flops(net, torch.zeros(1, 1, 5, 5)) == 468
    assert count_module_flops(net, torch.zeros(3, 1, 5, 5)) == 3 * 468
    assert all(p.requires_grad for p in net.parameters())  # restored afterwards


def test_flops_of_a_transposed_conv() -> None:
    # ConvTranspose2d 4→2, 4×4 kernel, on 1×1 input: every input value meets every tap once:
    # 4 × 2 × 16 = 128 MACs → 256 FLOPs.
    net = nn.ConvTranspose2d(4, 2, 4, bias=False)
    assert count_module_flops(net, torch.zeros(1, 4, 1, 1)) == 256


def test_count_flops_per_image_of_a_zoo_model() -> None:
    spec = get_spec("dcgan-mnist")
    torch.manual_seed(0)
    model = create_model("dcgan-mnist")
    per_image = count_flops(model, spec.entry_point(), batch=2)
    assert per_image > 0
    assert count_flops(model, spec.entry_point(), batch=4) == pytest.approx(per_image)
    wider = create_model("dcgan-mnist", width=64)
    assert count_flops(wider, spec.entry_point()) > 2 * per_image  # convs scale ~ width²


def test_matmul_peak_is_positive() -> None:
    peak = measure_matmul_peak(size=256, seconds=0.05, threads=1, min_reps=3)
    assert peak.gflops > 0
    assert peak.gflops >= peak.median_gflops
    assert peak.repetitions >= 3
    d = peak.to_dict()
    assert d["threads"] == 1 and d["size"] == 256 and "torch.mm" in d["method"]
    assert torch.get_num_threads() == 1  # restored (the session fixture set 1)
