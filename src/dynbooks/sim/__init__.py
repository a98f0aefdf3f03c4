"""The market simulator (SPEC §7): models of who works which accounts, driven by the real allocator."""

from __future__ import annotations

from dynbooks.sim.jane_joe import jane_joe, render_table, seeds_market

__all__ = ["jane_joe", "render_table", "seeds_market"]
