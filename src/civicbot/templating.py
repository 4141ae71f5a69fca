"""Jinja2 sandboxes with bounded arithmetic, for every template a config can hold.

Jinja's sandbox already keeps templates away from Python's internals, but not from the CPU
and memory: ``{{ 9**(9**9) }}`` (a number of 370 million digits, computed when the template is
*compiled*, by constant folding) or ``{{ "x" * 10**9 }}`` hang ``check-config``, and
``range(10**9)`` ends in a traceback. :func:`template_sandbox` returns a sandbox where ``**``,
``*`` and ``range`` refuse results that large with a :class:`jinja2.exceptions.SecurityError`
(a :class:`jinja2.TemplateError`, reported like any template mistake).

Jinja2 is imported on first use, not with civicbot.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Largest number of digits a ``**`` may produce, and largest string/list a ``*`` or a
#: ``range`` may produce.
MAX_DIGITS = 1000
MAX_ITEMS = 100_000


@lru_cache(maxsize=1)
def _sandbox_class() -> type[Any]:
    import math

    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    def too_big(what: str) -> SecurityError:
        return SecurityError(f"{what}: a result that large is refused in a template")

    def power(left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            digits = right * math.log10(abs(left))
            if digits > MAX_DIGITS:
                raise too_big(f"{left} ** {right}")
        if isinstance(left, float | int) and isinstance(right, float | int):
            try:
                return left ** right
            except OverflowError as exc:
                raise too_big(f"{left} ** {right}") from exc
        return left ** right

    def times(left: Any, right: Any) -> Any:
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) \
                    and len(seq) * count > MAX_ITEMS:
                raise too_big(f"a text or list repeated {count} times")
        if isinstance(left, int) and isinstance(right, int) and \
                (abs(left).bit_length() + abs(right).bit_length()) * 0.302 > MAX_DIGITS:
            raise too_big("a product that large")
        return left * right

    def bounded_range(*args: int) -> range:
        values = range(*args)
        if len(values) > MAX_ITEMS:
            raise too_big(f"range of {len(values)} numbers")
        return values

    class BoundedSandbox(SandboxedEnvironment):
        # intercepted operators are neither folded at compile time nor run unchecked
        intercepted_binops = frozenset({"**", "*"})

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.globals["range"] = bounded_range

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                return power(left, right)
            if operator == "*":
                return times(left, right)
            return super().call_binop(context, operator, left, right)

    return BoundedSandbox


def template_sandbox(**options: Any) -> Any:
    """A :class:`jinja2.sandbox.SandboxedEnvironment` (same options) whose ``**``, ``*`` and
    ``range`` refuse huge results. Example::

        env = template_sandbox(undefined=jinja2.StrictUndefined, autoescape=False)
        env.from_string("{{ 2 ** 10 }}").render()   # "1024"; {{ 9 ** (9 ** 9) }} is refused
    """
    return _sandbox_class()(**options)
