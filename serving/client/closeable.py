"""What every resource of the package shares: released by ``close()``, and by leaving ``with``.

The clients, the in-process zoo, the playground and the Triton launcher are such resources.
This module imports only the standard library, so the client SDK and the server side can both
build on it.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self


class Closeable(abc.ABC):
    """A resource released by :meth:`close`; a ``with`` block closes it on the way out."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the resource holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
