"""Evaluation protocols of StyleGAN2 and its W+ encoder (``zoo eval``).

- stylegan2: seeds ``seed … seed+n−1`` → images; FID, precision and recall against the MNIST
  test split, class coverage of the predicted classes; then the same at ψ =
  :data:`TRUNCATED_PSI`.
- stylegan2-encoder: ``project`` on the MNIST test split: PSNR of the encoder's
  reconstructions, the share whose class (the evaluator's) survives projection; on
  :data:`REFINE_N` of them (spread evenly over the split), PSNR and class kept after the
  default refinement (:mod:`zoo.models.stylegan2.projection`), and the share keeping that
  class when layers from :data:`RESTYLE_LAYER` on take seed ``seed + i``'s styles; perceptual
  path length of the generator in the evaluator's feature space, in z and in w (the ratio
  w / z must stay below 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from zoo import metrics
from zoo.evaluate import EvalContext, MakeRunner, generate_batched, run_batched
from zoo.latent import seed_to_latent

if TYPE_CHECKING:
    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Projector

#: Truncation ψ of StyleGAN2's second evaluation.
TRUNCATED_PSI = 0.7
#: Digits refined in the encoder's evaluation (refinement costs ~100 generator passes each).
REFINE_N = 200
#: First w index restyled by a seed in the encoder's evaluation (the fine layers, 16² and 32²).
RESTYLE_LAYER = 4


def evaluate_stylegan2(ctx: EvalContext, make: MakeRunner) -> None:
    """FID, precision, recall and class coverage of ``n`` seeds' images, untruncated and at ψ."""
    runner = make("generate")
    seeds = ctx.seeds()
    ctx.distribution_metrics(generate_batched(runner, seeds))
    images = generate_batched(runner, seeds, psi=TRUNCATED_PSI)
    ctx.distribution_metrics(images, suffix=f"_psi{TRUNCATED_PSI}")


def evaluate_stylegan2_encoder(ctx: EvalContext, make: MakeRunner) -> None:
    """Projection PSNR and class kept (encoder alone, refined, restyled) and PPL in z and w."""
    import torch

    from zoo.hub import load
    from zoo.models.stylegan2 import projection

    test = ctx.test_set("mnist")
    x = test.images
    ws, rec = run_batched(make("project"), x)
    _, true_c = ctx.evaluator.features_and_classes(x)
    _, rec_c = ctx.evaluator.features_and_classes(rec.astype(np.float32))
    ctx.add("psnr_db", metrics.psnr(rec, x), "projection PSNR, encoder alone (dB)")
    ctx.add("class_kept", metrics.accuracy(rec_c, true_c), "class kept by projection")

    projector = cast("StyleGAN2Projector", load(ctx.spec.name))
    generator = projector.generator
    classifier = cast("DigitClassifier", ctx.evaluator.module)
    # Every (n / REFINE_N)-th digit: the test split is ordered by class, so a prefix is not.
    pick = np.unique(np.linspace(0, len(x) - 1, min(REFINE_N, len(x))).round().astype(int))
    k = len(pick)
    sub, ws0 = torch.from_numpy(x[pick]), torch.from_numpy(ws[pick].astype(np.float32))
    refined = projection.refine_ws(projector, classifier, sub, ws0)
    with torch.no_grad():
        refined_rec = generator.synthesis(refined).numpy()
        mix_z = torch.from_numpy(seed_to_latent(ctx.seed + np.arange(k), generator.z_dim))
        layer = torch.full((k,), RESTYLE_LAYER, dtype=torch.int64)
        restyled = generator.synthesize(refined, torch.ones(k), mix_z, layer).numpy()
    steps = projection.DEFAULT_STEPS
    ctx.add(
        "refined_psnr_db",
        metrics.psnr(refined_rec, x[pick]),
        f"projection PSNR, {steps} refinement steps, {k} digits (dB)",
        floor=metrics.psnr(rec[pick], x[pick]),
        floor_label="encoder alone, same digits",
    )
    _, refined_c = ctx.evaluator.features_and_classes(refined_rec)
    _, restyled_c = ctx.evaluator.features_and_classes(restyled)
    ctx.add("refined_class_kept", metrics.accuracy(refined_c, true_c[pick]), "class kept, refined")
    ctx.add(
        "restyled_class_kept",
        metrics.accuracy(restyled_c, refined_c),
        f"class kept, ws {RESTYLE_LAYER}+ from a seed",
    )
    ppl = {
        space: projection.perceptual_path_length(generator, classifier, space=space, seed=ctx.seed)
        for space in ("z", "w")
    }
    ctx.add("ppl_z", ppl["z"], "perceptual path length in z (classifier features)")
    ctx.add("ppl_w", ppl["w"], "perceptual path length in w (classifier features)")
    ctx.add("ppl_ratio_w_z", ppl["w"] / ppl["z"], "PPL ratio w / z")
