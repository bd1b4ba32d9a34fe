"""The card's usage section: the kit a family writes it with (``Family.usage``).

:func:`usage_text` lays out shell commands, a torch snippet and a call of the client SDK;
:func:`seeded_usage` fills it in for a seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zoo.registry import ModelSpec

#: ``usage(spec) -> str``: a family's usage section of the card (``Family.usage``), Markdown.
CardUsage = Callable[[ModelSpec], str]


def usage_text(
    spec: ModelSpec, *, cli: Sequence[str], python: str, sdk: str, imports: str = ""
) -> str:
    """A card's usage section: shell commands, a torch snippet and a call of the client SDK.

    ``cli`` are the model's own commands (between ``zoo pull`` and ``zoo eval``); ``python``
    follows ``model = zoo.load(...)`` (and ``model_spec = zoo.get_spec(...)`` when it uses
    ``model_spec``), after ``imports``; ``sdk`` runs inside ``with ZooClient(...) as client``.
    """
    n = spec.name
    shell = [
        f"zoo pull {n}            # sha256-checked; falls back to the bundled copy offline",
        *cli,
        f"zoo eval {n}            # recompute the metrics below",
    ]
    code = (
        f"import torch\nimport zoo\n{imports}\n"
        f'model = zoo.load("{n}")  # torch module, weights sha256-checked\n'
        + (f'model_spec = zoo.get_spec("{n}")\n' if "model_spec" in python else "")
        + python
    )
    client = (
        "from serving.client import ZooClient  # needs only numpy + tritonclient\n\n"
        'with ZooClient("127.0.0.1:8000") as client:  # a running `zoo serve`\n'
        f"    {sdk}"
    )
    return (
        "```bash\n" + "\n".join(shell) + "\n```\n\n"
        "In Python:\n\n```python\n" + code + "\n```\n\n"
        "Through the Triton server, with the client SDK:\n\n```python\n" + client + "\n```"
    )


def seeded_usage(
    spec: ModelSpec, *, flags: str = "", kwargs: str = "", cli: Sequence[str] = (), python: str = ""
) -> str:
    """:func:`usage_text` of a seeded generator: ``zoo generate``, ``generator_inputs``, the SDK.

    ``flags`` extend the ``zoo generate`` command, ``kwargs`` the seeds of both calls (e.g.
    ``", labels=[3, 3, 3]"``); ``cli`` and ``python`` are further commands and lines.
    """
    n, entry = spec.name, spec.entry_points[0].name
    call = (
        f'inputs = generator_inputs(model_spec.entry_point("{entry}"), [0, 1, 2]{kwargs})\n'
        f"images = model.{entry}(*map(torch.from_numpy, inputs))  # NCHW in [-1, 1]"
    )
    return usage_text(
        spec,
        cli=[f"zoo generate {n} --seeds 0-15{flags} --out grid.png", *cli],
        python=call + python,
        sdk=f'images = client.generate("{n}", seeds=[0, 1, 2]{kwargs})  # uint8 NHWC',
        imports="from zoo.pipeline import generator_inputs\n",
    )
