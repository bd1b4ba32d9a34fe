"""StyleGAN2, reduced: mapping network, non-fused modulated convolution, per-layer noise,
truncation ψ toward the tracked mean w, and style mixing from a second latent.

Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (2020). Differences
from the paper, chosen for export and CPU speed: bilinear resampling instead of FIR filters,
and the *non-fused* modulated convolution — the activations are scaled by the styles and the
output by the demodulation coefficients, so one ordinary convolution serves the whole batch.
(The fused form folds the styles into per-sample weights and needs a grouped convolution whose
group count is the batch size: it does not export with a dynamic batch axis.)

Noise: each layer owns a fixed noise buffer (drawn once from the seed rule, stored with the
weights), so inference is deterministic; training draws fresh noise per sample.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zoo.hub_mixin import HubMixin
from zoo.latent import seed_to_latent
from zoo.models.layers import EqualConv2d, EqualLinear, num_doublings
from zoo.models.stylegan2 import NOISE_STREAM

NoiseMode = Literal["const", "random", "none"]


class MappingNetwork(nn.Module):
    """z → w through an MLP with a reduced learning rate; tracks the mean w for truncation."""

    w_avg: torch.Tensor

    def __init__(
        self,
        z_dim: int,  # input latent size
        w_dim: int,  # intermediate latent size
        num_layers: int = 4,  # fully connected layers
        lr_multiplier: float = 0.01,  # learning-rate scale of the MLP
        w_avg_beta: float = 0.995,  # decay of the running mean of w during training
    ) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.Sequential(
            *(
                EqualLinear(a, b, lr_multiplier=lr_multiplier, activation=True)
                for a, b in itertools.pairwise(dims)
            )
        )
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, psi: torch.Tensor | None = None) -> torch.Tensor:
        """w of shape ``(B, w_dim)``; ``psi`` (B,) truncates toward the mean w (1 = none)."""
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # 2nd-moment norm
        w = self.layers(z)
        if self.training:
            self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        if psi is not None:
            w = self.w_avg + psi[:, None] * (w - self.w_avg)
        return w


class ModulatedConv2d(nn.Module):
    """Style-modulated convolution in the non-fused form (see the module docstring)."""

    def __init__(
        self,
        in_channels: int,  # input channels
        out_channels: int,  # output channels
        kernel_size: int,  # square kernel side
        w_dim: int,  # size of w, mapped to one style per input channel
        *,
        demodulate: bool = True,  # normalise output channels to unit expected variance
        up: bool = False,  # bilinear 2× up-sampling before the convolution
    ) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.demodulate, self.up, self.padding = demodulate, up, kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (B, in)
        weight = self.weight * self.weight_gain
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            # Σ_{i,k} (w_oik · s_i)² = s² @ (Σ_k w_oik²)ᵀ, per sample and output channel. (Not
            # `.t()`: the exporter names the folded constant "t", which clashes with the graph
            # input t of the interpolate entry point.)
            energy = weight.square().sum(dim=(2, 3)).transpose(0, 1)
            dcoefs = torch.rsqrt(styles.square() @ energy + 1e-8)
            x = x * dcoefs[:, :, None, None]
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3×3 convolution, noise injection, bias and leaky ReLU."""

    noise_const: torch.Tensor

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *, up: bool
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.resolution = resolution
        self.register_buffer("noise_const", torch.zeros(1, 1, resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        x = self.conv(x, w)
        if noise_mode == "random":
            x = x + torch.randn_like(x[:, :1]) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * math.sqrt(2)


class ToRGB(nn.Module):
    """Modulated 1×1 convolution to image channels (no demodulation)."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class SynthesisNetwork(nn.Module):
    """ws → image: a learned 4×4 constant, then per resolution two layers and a skip ToRGB."""

    def __init__(
        self, w_dim: int, resolution: int, channels: int, width: int, max_channels: int
    ) -> None:
        super().__init__()
        n = num_doublings(resolution)
        res = [4 * 2**i for i in range(n + 1)]

        def ch(r: int) -> int:
            return min(max_channels, width * resolution // r)

        self.const = nn.Parameter(torch.randn(ch(4), 4, 4))
        self.layers = nn.ModuleList([SynthesisLayer(ch(4), ch(4), w_dim, 4, up=False)])
        self.torgbs = nn.ModuleList([ToRGB(ch(4), channels, w_dim)])
        for r in res[1:]:
            self.layers.append(SynthesisLayer(ch(r // 2), ch(r), w_dim, r, up=True))
            self.layers.append(SynthesisLayer(ch(r), ch(r), w_dim, r, up=False))
            self.torgbs.append(ToRGB(ch(r), channels, w_dim))
        # Each layer reads one w; each ToRGB reads the w after its block's last layer.
        self.num_ws = len(self.layers) + 1

    def forward(self, ws: torch.Tensor, noise_mode: NoiseMode = "const") -> torch.Tensor:
        assert ws.shape[1] == self.num_ws, f"expected {self.num_ws} ws, got {ws.shape[1]}"
        x = self.const[None].expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise_mode)
        img = self.torgbs[0](x, ws[:, 1])
        for i, torgb in enumerate(self.torgbs[1:]):
            a = 1 + 2 * i
            x = self.layers[a](x, ws[:, a], noise_mode)
            x = self.layers[a + 1](x, ws[:, a + 1], noise_mode)
            img = F.interpolate(img, scale_factor=2.0, mode="bilinear", align_corners=False)
            img = img + torgb(x, ws[:, a + 2])
        return img


class StyleGAN2Generator(nn.Module, HubMixin):
    """Latent (+ ψ and a mixing latent) → image."""

    def __init__(
        self,
        z_dim: int = 64,  # input latent size
        w_dim: int = 64,  # intermediate latent size
        mapping_layers: int = 4,  # depth of the mapping network
        width: int = 32,  # channels at full resolution; doubles per halving of resolution
        max_channels: int = 128,  # cap on channels at low resolution
        resolution: int = 32,  # output side in pixels
        channels: int = 1,  # output image channels
        mix_cutoff: int = 4,  # layers from this w index on take the mixing latent's style
        noise_seed: int = 0,  # seed of the fixed noise buffers
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels, width, max_channels)
        if not 0 < mix_cutoff <= self.synthesis.num_ws:
            raise ValueError(f"mix_cutoff must be in 1..{self.synthesis.num_ws}")
        self.mix_cutoff = mix_cutoff
        for i, layer in enumerate(self.synthesis.layers):
            assert isinstance(layer, SynthesisLayer)
            r = layer.resolution
            draw = seed_to_latent(np.array([noise_seed + i]), r * r, stream=NOISE_STREAM)
            layer.noise_const.copy_(torch.from_numpy(draw).view(1, 1, r, r))

    def styles(
        self, z: torch.Tensor, psi: torch.Tensor | None = None, mix_z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """ws of shape ``(B, num_ws, w_dim)``, truncated and mixed."""
        w = self.mapping(z, psi)
        ws = w[:, None].expand(-1, self.synthesis.num_ws, -1)
        if mix_z is None:
            return ws
        w_mix = self.mapping(mix_z, psi)
        n_mix = self.synthesis.num_ws - self.mix_cutoff
        return torch.cat([ws[:, : self.mix_cutoff], w_mix[:, None].expand(-1, n_mix, -1)], dim=1)

    def forward(
        self,
        z: torch.Tensor,
        psi: torch.Tensor | None = None,
        mix_z: torch.Tensor | None = None,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """Images in [-1, 1]; ``psi`` (B,) defaults to 1 (no truncation)."""
        return self.synthesis(self.styles(z, psi, mix_z), noise_mode)

    def generate(self, z: torch.Tensor, psi: torch.Tensor, mix_z: torch.Tensor) -> torch.Tensor:
        """The ``generate`` entry point; pass ``mix_z = z`` for no mixing."""
        return self(z, psi, mix_z)

    def synthesize(
        self, w: torch.Tensor, psi: torch.Tensor, mix_z: torch.Tensor, mix_layer: torch.Tensor
    ) -> torch.Tensor:
        """The ``synthesize`` entry point: ws ``(B, num_ws, w_dim)`` → images.

        ws from index ``mix_layer`` (B,) on are replaced by the w of ``mix_z`` (``num_ws`` = no
        mixing), then every w is truncated toward the mean w by ``psi`` (B,).
        """
        w_mix = self.mapping(mix_z)[:, None]
        index = torch.arange(self.synthesis.num_ws, device=w.device)[None, :, None]
        ws = torch.where(index < mix_layer[:, None, None], w, w_mix)
        w_avg = self.mapping.w_avg
        return self.synthesis(w_avg + psi[:, None, None] * (ws - w_avg))

    def interpolate(self, z: torch.Tensor, z_to: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The ``interpolate`` entry point: lerp between the two latents' w at ``t`` (B,)."""
        w = torch.lerp(self.mapping(z), self.mapping(z_to), t[:, None])
        return self.synthesis(w[:, None].expand(-1, self.synthesis.num_ws, -1))


class StyleGAN2Discriminator(nn.Module):
    """Residual discriminator with minibatch-stddev, as in StyleGAN2 (bilinear down-sampling)."""

    def __init__(
        self, resolution: int = 32, channels: int = 1, width: int = 32, max_channels: int = 128
    ) -> None:
        super().__init__()
        n = num_doublings(resolution)

        def ch(r: int) -> int:
            return min(max_channels, width * resolution // r)

        self.from_rgb = EqualConv2d(channels, ch(resolution), 1)
        blocks = []
        for i in range(n):
            r = resolution // 2**i
            blocks.append(
                nn.ModuleDict(
                    {
                        "conv0": EqualConv2d(ch(r), ch(r), 3),
                        "conv1": EqualConv2d(ch(r), ch(r // 2), 3, down=True),
                        "skip": EqualConv2d(ch(r), ch(r // 2), 1, down=True, activation=False),
                    }
                )
            )
        self.blocks = nn.ModuleList(blocks)
        self.conv = EqualConv2d(ch(4) + 1, ch(4), 3)
        self.fc = EqualLinear(ch(4) * 16, ch(4), activation=True)
        self.out = EqualLinear(ch(4), 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B,)``."""
        x = self.from_rgb(img)
        for b in self.blocks:
            assert isinstance(b, nn.ModuleDict)
            x = (b["skip"](x) + b["conv1"](b["conv0"](x))) / math.sqrt(2)
        group = min(4, x.shape[0])
        while x.shape[0] % group:
            group -= 1
        y = x.reshape(group, -1, *x.shape[1:])
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (B / group,)
        y = y.repeat(group)[:, None, None, None].expand(-1, 1, 4, 4)
        x = self.conv(torch.cat([x, y], dim=1))
        return self.out(self.fc(x.flatten(1))).squeeze(1)


class StyleGAN2Encoder(nn.Module):
    """Image → per-layer ws (W+), in the manner of pSp/e4e: a shared base w plus layer offsets.

    The output is ``w_avg + base + offset_l`` per layer ``l``: it starts at the mean w, and the
    offsets (which a loss can keep small, as e4e does) let each layer's style differ.
    """

    def __init__(
        self,
        resolution: int,  # input side in pixels
        channels: int,  # input image channels
        num_ws: int,  # ws the synthesis network reads
        w_dim: int,  # size of each w
        width: int = 32,  # channels at full resolution; doubles per halving, capped at 2×
        hidden: int = 256,  # width of the fully connected layer before the ws
    ) -> None:
        super().__init__()
        n = num_doublings(resolution)
        chans = [min(2 * width, width * 2**i) for i in range(n + 1)]
        layers: list[nn.Module] = [EqualConv2d(channels, chans[0], 3)]
        for a, b in itertools.pairwise(chans):
            layers.append(EqualConv2d(a, b, 3, down=True))
        layers += [nn.Flatten(), EqualLinear(chans[-1] * 16, hidden, activation=True)]
        self.trunk = nn.Sequential(*layers)
        self.base = EqualLinear(hidden, w_dim)
        self.offsets = EqualLinear(hidden, num_ws * w_dim)
        self.num_ws, self.w_dim, self.resolution = num_ws, w_dim, resolution

    def forward(self, image: torch.Tensor, w_avg: torch.Tensor) -> torch.Tensor:
        """ws of shape ``(B, num_ws, w_dim)`` for images ``(B, C, H, W)`` in [-1, 1]."""
        assert image.shape[-1] == self.resolution, f"expected {self.resolution}² images"
        h = self.trunk(image)
        base = self.base(h)[:, None]
        offsets = self.offsets(h).view(-1, self.num_ws, self.w_dim)
        return w_avg + base + offsets


class StyleGAN2Projector(nn.Module, HubMixin):
    """A trained encoder in front of a frozen copy of the StyleGAN2 generator it inverts.

    The ``project`` entry point is one feed-forward call: image → ws → reconstruction. The
    generator's tensors are exactly those of the shipped ``stylegan2-mnist`` (training copies
    them and never updates them), so the ws it returns drive that model's ``synthesize``.
    """

    def __init__(
        self,
        z_dim: int = 64,  # generator: input latent size
        w_dim: int = 64,  # generator: intermediate latent size
        mapping_layers: int = 4,  # generator: depth of the mapping network
        width: int = 16,  # generator: channels at full resolution
        max_channels: int = 64,  # generator: cap on channels
        resolution: int = 32,  # image side in pixels
        channels: int = 1,  # image channels
        mix_cutoff: int = 4,  # generator: first w index of the mixing latent
        noise_seed: int = 0,  # generator: seed of its fixed noise buffers
        encoder_width: int = 32,  # encoder: channels at full resolution
    ) -> None:
        super().__init__()
        self.generator = StyleGAN2Generator(
            z_dim, w_dim, mapping_layers, width, max_channels, resolution, channels, mix_cutoff,
            noise_seed,
        )  # fmt: skip
        num_ws = self.generator.synthesis.num_ws
        self.encoder = StyleGAN2Encoder(resolution, channels, num_ws, w_dim, encoder_width)

    def train(self, mode: bool = True) -> StyleGAN2Projector:
        """Train mode for the encoder only: the generator stays frozen (its mean w too)."""
        super().train(mode)
        self.generator.eval()
        return self

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """ws ``(B, num_ws, w_dim)`` of images in [-1, 1]."""
        return self.encoder(image, self.generator.mapping.w_avg)

    def project(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``project`` entry point: images → (ws, their reconstruction in [-1, 1])."""
        ws = self.encode(image)
        return ws, self.generator.synthesis(ws)
