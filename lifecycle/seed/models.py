"""The synthetic monitored models a seeded database holds."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_MODELS", "SeedModel"]


@dataclass(frozen=True)
class SeedModel:
    """One synthetic monitored model."""

    name: str
    task: str
    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drifting: tuple[str, ...] = ()
    classes: tuple[str, ...] = ("0", "1")
    rate_per_hour: float = 120.0
    latency_ms: float = 18.0
    description: str = ""

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)


DEFAULT_MODELS: tuple[SeedModel, ...] = (
    SeedModel(
        "churn", "classification",
        numeric=("tenure_months", "monthly_charges", "support_calls"),
        categorical={"contract": ("month-to-month", "one-year", "two-year"),
                     "region": ("north", "south", "east", "west")},
        drifting=("monthly_charges", "contract"),
        description="Customer churn in the next 30 days",
    ),
    SeedModel(
        "fraud", "classification",
        numeric=("amount", "hour_of_day", "account_age_days"),
        categorical={"merchant_category": ("grocery", "travel", "electronics", "fuel",
                                           "online")},
        drifting=(), rate_per_hour=300.0, latency_ms=9.0,
        description="Card transaction fraud score",
    ),
    SeedModel(
        "house_prices", "regression",
        numeric=("sqft", "bedrooms", "age_years", "distance_km"),
        categorical={"neighborhood": ("old-town", "riverside", "hills", "docks")},
        drifting=("sqft",), rate_per_hour=40.0, latency_ms=35.0,
        description="Listing price estimate",
    ),
    SeedModel(
        "demand", "regression",
        numeric=("temperature", "price", "promo_depth"),
        categorical={"store_type": ("mall", "street", "outlet")},
        drifting=(), rate_per_hour=80.0, latency_ms=22.0,
        description="Daily units sold per store",
    ),
    SeedModel(
        "credit_risk", "classification",
        numeric=("income", "debt_ratio", "credit_lines"),
        categorical={"employment": ("salaried", "self-employed", "unemployed", "retired")},
        drifting=("debt_ratio",), rate_per_hour=60.0, latency_ms=27.0,
        description="Probability of default within 12 months",
    ),
)
