"""The one options object that travels through the pipeline.

Every choice that changes a number (model, measure, interval, exclusions, whether this cohort is
inside the class pools) lives here, so a page, the CLI and every export pass one value instead of
loose arguments, and every export can print the settings that produced it (`stamp`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from comparators.errors import InputError
from comparators.inputs import parse_choice, parse_level
from comparators.vocab import (
    CI_CHOICES,
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    HKSJ_CHOICES,
    MEASURE_CHOICES,
    MODEL_CHOICES,
)


class OptionsError(InputError):
    """An option outside its allowed values; the message lists the valid ones."""


def _choice(value: str, allowed: Iterable[str], what: str) -> str:
    return parse_choice(value, list(allowed), what=what, error=OptionsError)


@dataclass(frozen=True)
class AnalysisOptions:
    """How to pool: the model, the intervals and what goes into the pools."""

    measure: str = "logit"
    method: str = "REML"
    hksj: bool = False
    hksj_variant: str = "adhoc"
    level: float = 0.95
    ci_method: str = "wilson"
    exclude: tuple[str, ...] = ()  # row keys ("STUDY · arm") left out of every pool
    include_cohort: bool = False  # is this cohort inside its regimen class's pool?
    include_overlapping: bool = False  # rows that re-count another study's patients
    primary_only: bool = False  # sensitivity: only rows read from the trial's own full paper
    endpoint: str = DEFAULT_ENDPOINT  # what is pooled (analysis.endpoints): orr, dcr, pfs3, ...
    low_risk_of_bias_only: bool = False  # sensitivity: only arms of studies at low risk of bias

    def __post_init__(self) -> None:
        for name, allowed, what in (("measure", MEASURE_CHOICES, "measure"),
                                    ("method", MODEL_CHOICES, "model"),
                                    ("hksj_variant", HKSJ_CHOICES, "HKSJ variant"),
                                    ("ci_method", CI_CHOICES, "CI method"),
                                    ("endpoint", ENDPOINTS, "endpoint")):
            object.__setattr__(self, name, _choice(getattr(self, name), allowed, what))
        object.__setattr__(self, "level", parse_level(self.level, error=OptionsError))
        object.__setattr__(self, "hksj", bool(self.hksj))
        object.__setattr__(self, "low_risk_of_bias_only", bool(self.low_risk_of_bias_only))
        object.__setattr__(self, "exclude", tuple(sorted({str(k) for k in self.exclude})))

    @property
    def level_text(self) -> str:
        """'95%' — the level as every header, axis and caption prints it."""
        return f"{100 * self.level:g}%"

    @property
    def interval_name(self) -> str:
        """'95% CI' of a pooled estimate (or '95% CrI' under the Bayesian model)."""
        return f"{self.level_text} {'CrI' if self.method == 'BAYES' else 'CI'}"

    @property
    def arm_interval_name(self) -> str:
        """'95% CI': an arm's own interval (Wilson, exact, ...) is a confidence interval under
        every pooling model."""
        return f"{self.level_text} CI"

    @property
    def figure_interval_name(self) -> str:
        """What a figure of arms and pools calls its intervals: '95% CI', or under the Bayesian
        model '95% CI (arms) / CrI (pools)'."""
        if self.method == "BAYES":
            return f"{self.arm_interval_name} (arms) / CrI (pools)"
        return self.interval_name

    def pool_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `stats.pooling.pool_proportions` for these options."""
        return {"measure": self.measure, "method": self.method, "hksj": self.hksj,
                "hksj_variant": self.hksj_variant, "level": self.level,
                "study_ci": self.ci_method}

    def model_text(self) -> str:
        """One line: 'random-effects REML, logit scale, HKSJ (ad hoc)'."""
        parts = [MODEL_CHOICES.short(self.method),
                 f"{MEASURE_CHOICES.short(self.measure)} scale"]
        if self.hksj and self.method != "FE":
            parts.append(HKSJ_CHOICES[self.hksj_variant].short)
        return ", ".join(parts)

    def stamp(self) -> str:
        """Every setting that produced a number, for the header of every export (the
        endpoint when it is not the default, the objective response rate)."""
        return "; ".join([
            *([f"endpoint: {ENDPOINTS[self.endpoint].name}"]
              if self.endpoint != DEFAULT_ENDPOINT else []),
            *([f"model: {self.model_text()}", f"level: {self.level_text}",
               f"study intervals: {CI_CHOICES[self.ci_method].short}"]
              if ENDPOINTS[self.endpoint].is_proportion else
              # a median is pooled by the method its arms allow (each class names it); the
              # measure, model and interval choices apply to proportions only
              ["model: McGrath et al.'s median pooling, the method each class names",
               f"level: {self.level_text}"]),
            f"this cohort {'inside' if self.include_cohort else 'outside'} the class pools",
            f"overlapping cohorts {'included' if self.include_overlapping else 'left out'}",
            "rows: " + ("primary-source only (no †‡§¶* mark)" if self.primary_only else "all"),
            *(["comparator arms: low risk of bias only"] if self.low_risk_of_bias_only else []),
            "left out: " + (", ".join(self.exclude) if self.exclude else "none"),
        ])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exclude"] = list(self.exclude)
        return out
