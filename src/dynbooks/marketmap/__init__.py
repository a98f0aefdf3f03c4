"""The market map (SPEC §7): lookalike fit scores, tiers, named clusters, similar accounts, a 2-D map."""

from __future__ import annotations

from dynbooks.marketmap.model import AccountTable, MarketMap, build_map, similar_accounts, tier_of

__all__ = ["AccountTable", "MarketMap", "build_map", "similar_accounts", "tier_of"]
