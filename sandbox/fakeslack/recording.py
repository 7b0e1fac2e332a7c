"""The call log: every request the fake received, and waiting on it without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sandbox.fakeslack.calls import Call, summarise
from sandbox.fakeslack.state import SlackState


class CallLog(SlackState):
    """The record of every request the fake received, and waiting on it without sleeps."""

    def calls_to(self, method: str) -> list[Call]:
        """Calls to `method` so far, in order (including failed and rate-limited ones)."""
        return [c for c in self.calls if c.method == method]

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        for observer in self.observers:
            observer(call)
        cond = self._condition()
        async with cond:
            cond.notify_all()

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 -- part of the agreed test API
    ) -> list[Call]:
        """Wait until at least `count` calls to `method` (matching `predicate`) exist.

        Event-driven: woken by each recorded call, no polling. Returns all matching calls.
        Counts failed/rate-limited calls too; use ``lambda c: c.ok`` to wait for successes.
        A predicate that raises (say ``c.params["thread_ts"]`` on a top-level post) fails the
        test with that error, noting the call: write ``c.params.get("thread_ts")`` to mean
        "calls without it do not match". Raises AssertionError listing every call received so
        far on timeout.
        """

        def matches(call: Call) -> bool:
            if call.method != method:
                return False
            if predicate is None:
                return True
            try:
                return predicate(call)
            except Exception as exc:
                exc.add_note(f"raised by the predicate given for {method}, on {summarise(call)}")
                raise

        def matching() -> list[Call]:
            return [c for c in self.calls if matches(c)]

        cond = self._condition()
        try:
            async with asyncio.timeout(timeout), cond:
                await cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            found = matching()
            lines = "\n".join(f"  {i}. {summarise(c)}" for i, c in enumerate(self.calls, 1))
            what = f"{method}" + (" matching the predicate" if predicate else "")
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} call(s) to {what}; "
                f"{len(found)} matched. Calls received so far ({len(self.calls)}):\n"
                + (lines or "  (none)")
            ) from None
        return matching()

    async def assert_no_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
    ) -> None:
        """Fail if a matching call has been received so far.

        Event-driven, no watching for a while: first wait (`wait_for`) for the call that must
        come — the bot's answer, or the last thing it does, or the answer to a later request
        sent once this one was acked — then assert here what must not have come. Calls made
        before are checked too; narrow with `predicate` if needed. A predicate that raises
        fails the test, as in `wait_for`.
        """
        found = [
            c for c in self.calls if c.method == method and (predicate is None or predicate(c))
        ]
        if found:
            raise AssertionError(
                f"expected no call to {method}, got {len(found)}:\n"
                + "\n".join(f"  {summarise(c)}" for c in found)
            )
