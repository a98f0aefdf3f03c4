"""A generated market with planted lookalikes, for tests and the benchmark.

The closed-won customers share a profile (fintech or software, 200–2,000 employees, on Salesforce, a high
tech spend); a planted set of prospects has the same profile without being customers; everyone else is
drawn from the whole market. A good lookalike score ranks the planted prospects highest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dynbooks.marketmap.model import AccountTable

__all__ = ["Planted", "planted_market"]

INDUSTRIES = ("Software", "Fintech", "Healthcare", "Manufacturing", "Retail", "Logistics", "Education",
              "Media", "Energy", "Construction", "Hospitality", "Government")
COUNTRIES = ("US", "US", "US", "CA", "GB", "DE", "FR", "AU", "NL", "SE")
CRMS = ("Salesforce", "HubSpot", "Dynamics", "Pipedrive", "none")


@dataclass
class Planted:
    table: AccountTable
    reference: npt.NDArray[np.float64]
    lookalike: npt.NDArray[np.bool_]


def planted_market(n: int, *, customers: float = 0.03, lookalikes: float = 0.03, seed: int = 0) -> Planted:
    """``n`` accounts: the first ``customers`` share are the references (weight 1), the next
    ``lookalikes`` share the planted prospects, the rest the market at large."""
    rng = np.random.default_rng(seed)
    n_ref, n_look = max(1, int(n * customers)), max(1, int(n * lookalikes))
    profiled = n_ref + n_look
    industry = rng.integers(len(INDUSTRIES), size=n)
    industry[:profiled] = rng.integers(0, 2, size=profiled)
    employees = np.rint(np.clip(rng.lognormal(np.log(120), 1.6, n), 1, 300_000))
    employees[:profiled] = rng.integers(200, 2000, size=profiled)
    revenue = employees * rng.lognormal(np.log(150_000), 0.5, n)
    crm = rng.integers(len(CRMS), size=n)
    crm[:profiled] = 0
    spend = rng.normal(50, 15, n)
    spend[:profiled] = rng.normal(85, 6, profiled)
    country = rng.integers(len(COUNTRIES), size=n)
    width = len(str(n))
    table = AccountTable(
        ids=np.array([f"acc-{i:0{width}d}" for i in range(n)], dtype=object),
        numeric={"employees": employees, "annual_revenue": revenue, "tech_spend": spend},
        categorical={
            "industry": np.array(INDUSTRIES, dtype=object)[industry],
            "country": np.array(COUNTRIES, dtype=object)[country],
            "crm_system": np.array(CRMS, dtype=object)[crm],
        },
    )
    reference = np.zeros(n)
    reference[:n_ref] = 1.0
    lookalike = np.zeros(n, dtype=bool)
    lookalike[n_ref:profiled] = True
    return Planted(table, reference, lookalike)
