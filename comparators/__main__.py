"""Command-line interface over the engine: `python -m comparators <command> ... [--json]`.

With --json, one JSON object on stdout; proportions are fractions in [0, 1]. Bad input: exit
code 2 and one plain-language line on stderr; a bug: exit code 1 (--debug prints the traceback).
Every command with an example: README.md, section "Command line"; the options of one:
`python -m comparators COMMAND --help`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeAlias, TypeVar

from comparators.analysis.options import AnalysisOptions
from comparators.errors import InputError
from comparators.inputs import (
    clean_text,
    parse_choice,
    parse_count,
    parse_level,
    parse_number,
    printable,
)
from comparators.limits import MAX_MU_PRIOR_SD, MAX_TAU_SCALE, MIN_PRIOR_SCALE

# The engine is imported per command, lazily; these three are light (standard library only).
from comparators.vocab import (
    CI_CHOICES,
    ENDPOINTS,
    HKSJ_CHOICES,
    KM_CONF_CHOICES,
    LIKELIHOOD_CHOICES,
    MEASURE_CHOICES,
    MEDIAN_PFS,
    MODEL_CHOICES,
    TAU_PRIOR_CHOICES,
    TIME_UNIT_DAYS,
)

EXIT_BAD_INPUT = 2
EXIT_BUG = 1
#: Bounds of the Bayesian prior scales the CLI accepts (limits.py says why).
PRIOR_SCALE_RANGE = {"--tau-scale": (MIN_PRIOR_SCALE, MAX_TAU_SCALE),
                     "--mu-prior-sd": (MIN_PRIOR_SCALE, MAX_MU_PRIOR_SD)}
#: Every default of the model arguments is AnalysisOptions' own.
DEFAULTS = AnalysisOptions()

T = TypeVar("T")


class CLIError(Exception):
    """Bad input the user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise CLIError(f"{self.prog}: {message}")


def _argument(parse: Callable[[str], T | None], what: str) -> Callable[[str], T]:
    """An argparse type that reads the text through the input boundary (comparators.inputs);
    a refusal becomes argparse's one-line error with the boundary's message."""
    def convert(text: str) -> T:
        try:
            value = parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if value is None:
            raise argparse.ArgumentTypeError(f"{what}: value is missing")
        return value

    convert.__name__ = what
    return convert


# argparse starts each message with "argument NAME:", so the messages below do not repeat it.
def _whole_number(name: str) -> Callable[[str], int]:
    return _argument(parse_count, name)


def _fraction(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = parse_number(text)
        assert value is not None
        if not 0 < value < 1:
            raise InputError(f"must be between 0 and 1 (exclusive), got {text}")
        return value

    return _argument(parse, name)


def _level(name: str) -> Callable[[str], float]:
    return _argument(lambda text: parse_level(text, what="the level"), name)


def _positive(name: str, low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = parse_number(text)
        assert value is not None
        if not low <= value <= high:
            raise InputError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return _argument(parse, name)


def _number(name: str) -> Callable[[str], float]:
    return _argument(parse_number, name)


def _code(choices: Sequence[str], what: str) -> Callable[[str], str]:
    """A code from `choices` in any case (--method reml is REML)."""
    def parse(text: str) -> str:
        try:
            return parse_choice(text, choices, what=what)
        except InputError:  # argparse's own wording for a choice
            raise InputError(f"invalid choice: {clean_text(text)!r} (choose from "
                             f"{', '.join(choices)})") from None

    return _argument(parse, what)


def _column(name: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        column = clean_text(text, max_chars=200)
        if not column:
            raise InputError("needs a column name, got an empty one")
        return column

    return _argument(parse, name)


def cmd_ci(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.stats.proportions import proportion_ci

    ci = proportion_ci(args.k, args.n, method=args.method, level=args.level)
    text = f"{args.k}/{args.n} = {ci.as_percent()} [{CI_CHOICES[ci.method].label}]"
    return ci.to_dict(), text


def _catalog(args: argparse.Namespace) -> Any:
    """The curated catalog, with the rows of --extra-rows FILE added (evidence.added_rows:
    validated as the catalog's rows are, marked as added by the user)."""
    from pathlib import Path

    from comparators.evidence.added_rows import read_added_rows, with_added_rows
    from comparators.evidence.catalog import load_catalog

    catalog = load_catalog()
    if getattr(args, "extra_rows", None) is None:
        return catalog
    return with_added_rows(catalog, read_added_rows(Path(args.extra_rows), catalog))


def cmd_trials(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.evidence.catalog import catalog_rows_json, trials_for
    from comparators.reports.export import safe_csv

    catalog = _catalog(args)
    if args.format == "csv":
        args.json = False  # CSV is the whole output, written as the page's download is
        stamp = catalog.info.stamp() if catalog.info else None
        text = safe_csv(trials_for(catalog, args.subtype), stamp).decode("utf-8")
        return {}, text.replace("\r\n", "\n").rstrip("\n")  # the terminal's line ends
    args.json = True  # the contract's default format is JSON
    return catalog_rows_json(catalog, args.subtype), ""


def cmd_audit(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.evidence.audit import audit_published

    findings = audit_published()
    lines = [
        f"{'ok ' if f.consistent else 'BAD'} {f.where}: {f.claim} -- {f.explanation}"
        for f in findings
    ]
    return {"findings": [f.to_dict() for f in findings]}, "\n".join(lines)


def cmd_rob(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.evidence.risk_of_bias import load_risk_of_bias

    rob = load_risk_of_bias()
    study = None
    if args.study is not None:
        try:  # a study id is a code: matched in any case, as --subtype is
            study = parse_choice(args.study, [s.study for s in rob.studies], what="study")
        except InputError:
            raise CLIError(f"unknown study {clean_text(args.study, max_chars=200)!r}; see "
                           "`python -m comparators trials` for the study ids") from None
    payload = rob.to_dict(study)
    lines = [payload["tool"], payload["rule"]]
    for s in payload["studies"]:
        marks = " ".join(f"{i['item']}={i['judgement']}" for i in s["items"])
        lines.append(f"{s['study']}: {s['overall']} (score {s['score']}/16, "
                     f"{s['unclear_items']} unclear) {marks}")
    return payload, "\n".join(lines)


def cmd_km(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.stats.survival import (
        SurvivalColumnsError,
        km_by_group,
        read_survival_csv,
        survival_columns,
    )

    try:
        frame = read_survival_csv(args.file, args.time, args.event, args.group)
    except SurvivalColumnsError as exc:
        flags = "--time and --event" + (" (and --group)" if args.group else "")
        raise CLIError(f"{exc}; name the file's columns with {flags}") from None
    time_col, event_col = survival_columns(list(frame.columns), args.time, args.event)
    result = km_by_group(frame, time_col, event_col, args.group, conf_type=args.conf_type,
                         unit=args.unit)
    payload = result.to_dict()

    def fmt(x: float | None) -> str:
        return "NR" if x is None else f"{x:.2f}"

    lines = [f"time unit: {result.time_unit}; median CI: {KM_CONF_CHOICES[result.conf_type].short} "
             f"({result.to_dict()['conf_type_label']})"]
    lines += [
        f"{g['group']}: n={g['n']}, events={g['events']}, median {fmt(g['median'])} "
        f"({KM_CONF_CHOICES[g['conf_type']].short} {fmt(g['median_low'])}-{fmt(g['median_high'])}; "
        f"SPSS-style {fmt(g['median_spss_low'])}-{fmt(g['median_spss_high'])})"
        for g in payload["groups"]
    ]
    if payload.get("logrank"):
        lines.append(f"log-rank chi2 = {payload['logrank']['chi2']:.3f}, "
                     f"p = {payload['logrank']['p']:.4f}")
    return payload, "\n".join(lines)


def cmd_pool(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.stats.pooling import pool_proportions, read_pool_csv

    studies, events, n, groups = read_pool_csv(args.file)
    method = "BAYES" if args.method.upper() == "BAYES" else args.method
    bayes = None
    if method == "BAYES":
        from comparators.stats.bayes_pooling import BayesOptions, BayesPrior

        bayes = BayesOptions(
            BayesPrior(args.tau_prior_given or "half-normal",
                       1.0 if args.tau_scale_given is None else args.tau_scale_given,
                       args.mu_prior_mean, args.mu_prior_sd),
            args.likelihood_given or "normal")
    elif any(v is not None for v in (args.likelihood_given, args.tau_prior_given,
                                     args.tau_scale_given, args.mu_prior_sd)):
        raise CLIError("pool: --likelihood, --tau-prior, --tau-scale and --mu-prior-sd go with "
                       "--method bayes")
    result = pool_proportions(
        events, n, studies=studies, measure=args.measure, method=method, hksj=args.hksj,
        level=args.level, groups=groups, hksj_variant=args.hksj_variant, bayes=bayes,
    )
    payload = result.to_dict()
    i2 = "–" if payload["i2"] is None else f"{payload['i2']:.1f}%"  # None for k = 1 and FE
    what = "pooled proportion" if result.estimable else (
        f"NOT ESTIMABLE by random-effects pooling; summed counts {result.events}/{result.n}, "
        "exact interval")
    lines = [
        f"k = {payload['k']}, {args.measure}/{args.method}: {what} "
        f"{payload['estimate']:.4f} [{payload['low']:.4f}, {payload['high']:.4f}], I2 = {i2}",
        f"estimable: {'yes' if result.estimable else 'no'}; model used: {result.method_used}; "
        f"hksj_variant: {result.hksj_variant or 'none'}",
    ]
    if payload.get("tau_median") is not None:
        lines.append(f"posterior tau median {payload['tau_median']:.4f} "
                     f"[{payload['tau_low']:.4f}, {payload['tau_high']:.4f}]; predictive "
                     f"[{payload['pi_low']:.4f}, {payload['pi_high']:.4f}]; prior: "
                     f"{payload['prior']}")
    for g in result.subgroups:
        flag = "" if g.estimable else " (not estimable: summed counts, exact interval)"
        lines.append(f"  {g.group}: k = {g.k}, {g.estimate:.4f} [{g.low:.4f}, {g.high:.4f}]"
                     f"{flag}")
    lines += [f"note: {note}" for note in result.notes]
    return payload, "\n".join(lines)


def cmd_metareg(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Meta-regression of a `pool`-shaped file with moderator columns (metafor rma with mods).
    The catalog form (--subtype CODE --endpoint E) needs the endpoint pipeline: not yet."""
    from comparators.stats.metareg import metareg_proportions, read_metareg_csv

    data = read_metareg_csv(args.file, args.moderator)
    result = metareg_proportions(
        data.events, data.n, data.moderators, studies=data.studies, measure=args.measure,
        method=args.method, hksj=args.hksj, hksj_variant=args.hksj_variant, level=args.level)
    payload = {"k": result.k, "endpoint": "orr", **result.to_dict()}
    test = "z" if result.df is None else f"t({result.df})"
    lines = [f"k = {result.k}, {args.measure}/{args.method}, {test}: tau2 = {result.tau2:.4f}, "
             f"residual I2 = {result.i2:.1f}%, R2 = {result.r2:.1f}%",
             f"{'term':<28} {'estimate':>9} {'se':>8} {'low':>9} {'high':>9} {'p':>7}"]
    lines += [f"{c.term:<28} {c.estimate:>9.4f} {c.se:>8.4f} {c.low:>9.4f} {c.high:>9.4f} "
              f"{c.p:>7.4f}" for c in result.coefficients]
    qm = ("QM not available (perfect fit)" if result.qm is None else
          f"QM = {result.qm:.4f} ({'F' if result.df is not None else 'chi2'}, df "
          f"{result.qm_df}{'' if result.df is None else f', {result.df}'}), "
          f"p = {result.qm_p:.4f}")
    lines += [qm, f"QE = {result.qe:.4f} (df {result.qe_df}), p = {result.qe_p:.4f}"]
    lines += [f"note: {note}" for note in result.notes]
    return payload, "\n".join(lines)


def cmd_simon(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.stats.phase2_design import simon_designs

    result = simon_designs(args.p0, args.p1, alpha=args.alpha, beta=args.beta, nmax=args.nmax)
    text = "\n".join([result.optimal.sentence(), result.minimax.sentence(), *result.notes])
    return result.to_dict(), text


def cmd_predictive(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from comparators.stats.bayes import JEFFREYS, predictive_probability

    prior = tuple(args.prior) if args.prior else JEFFREYS
    result = predictive_probability(args.responders, args.n, args.nmax, args.p0, args.theta_t,
                                    prior=prior)
    return result.to_dict(), result.sentence()


def cmd_summary(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The evidence summary (published cohort, default model) as Markdown, HTML or Word."""
    from pathlib import Path

    from comparators.evidence.audit import audit_published
    from comparators.evidence.cohort import load_seed_cohort, published_cohort
    from comparators.reports.summary import (
        build_summary,
        render_figures,
        summarisable_subtypes,
        to_docx,
        to_html,
        to_markdown,
    )

    catalog = _catalog(args)
    known = summarisable_subtypes(catalog.trials)
    subtypes = [_subtype_code(raw, known) for raw in args.subtype]
    if args.format == "docx" and not args.output:
        raise CLIError("--format docx writes a Word file: give -o FILE (e.g. -o summary.docx)")
    if args.endpoint == MEDIAN_PFS:
        _refuse_proportion_options(args)
    names = catalog.subtype_names
    summary = build_summary(
        catalog.trials, catalog.references, audit_published(), published_cohort(catalog.trials),
        subtypes, _options(args), subtype_names=names, claims=load_seed_cohort().claims,
        catalog_stamp=catalog.stamp() if catalog.info else "",
    )
    if args.format == "md":
        document: str | bytes = to_markdown(summary)
    elif args.format == "html":
        document = to_html(summary, render_figures(summary, "svg"))
    else:
        document = to_docx(summary, render_figures(summary, "png"))
    payload = summary.to_dict()
    if args.output:
        out = Path(args.output)
        if isinstance(document, bytes):
            out.write_bytes(document)
        else:
            out.write_text(document, encoding="utf-8")
        payload["output"] = str(out)
        return payload, f"wrote {out} ({args.format}, {', '.join(subtypes)})"
    return payload, str(document).rstrip("\n")


def _options(args: argparse.Namespace) -> Any:
    """The one options object from the model arguments (benchmark, summary)."""
    from comparators.analysis.options import AnalysisOptions

    return AnalysisOptions(
        measure=args.measure or DEFAULTS.measure, method=args.method, hksj=args.hksj,
        hksj_variant=args.hksj_variant, level=args.level,
        ci_method=args.ci_method or DEFAULTS.ci_method,
        exclude=tuple(args.exclude or ()), include_cohort=args.include_cohort,
        include_overlapping=args.include_overlapping, primary_only=args.primary_only,
        endpoint=getattr(args, "endpoint", "orr"),
        low_risk_of_bias_only=args.low_rob_only,
    )


def _subtype_code(raw: str, known: Sequence[str]) -> str:
    return parse_choice(raw, sorted(known), what="subtype")


def cmd_benchmark(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Exactly the benchmark page's numbers for one subtype, arms named as on the page."""
    if args.endpoint == MEDIAN_PFS:
        return _median_benchmark(args)
    bm = _benchmark(args)
    options = bm.options
    lines = [f"{bm.subtype}, {ENDPOINTS[options.endpoint].name}: {options.model_text()}, "
             f"{options.interval_name}"]
    lines += [f"  {p.label}: {100 * p.estimate:.1f}% ({100 * p.low:.1f}–{100 * p.high:.1f}%)"
              for p in bm.class_pools.values()]
    lines += [f"  {c.what}: {100 * c.difference:+.1f} points ({100 * c.low:+.1f} to "
              f"{100 * c.high:+.1f}; {c.evidence})" for c in bm.headline]
    if bm.excluded:
        lines.append("  Left out: " + ", ".join(bm.label(k) for k in bm.excluded))
    if options.endpoint != "orr":
        lines += [f"  note: {note}" for note in bm.notes]
    return bm.to_dict(), "\n".join(lines)


def _median_benchmark(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The benchmark page's median PFS numbers (months); options that only a proportion has
    (an effect measure, an arm-level interval method) are refused, not ignored."""
    from comparators.analysis.median_pfs import benchmark_median, interval_text, months_text

    _refuse_proportion_options(args)
    rows, options, cohort = _subtype_rows(args)
    bm = benchmark_median(rows, options, cohort)
    lines = [f"{bm.subtype}, {ENDPOINTS[MEDIAN_PFS].name} (months): "
             f"this cohort {bm.cohort.text}"
             + (f" ({bm.cohort.source})" if bm.cohort.reported else "")]
    lines += [f"  {p.label}: {months_text(p.estimate)} months"
              + (f" ({interval_text(p.low, p.high)})" if interval_text(p.low, p.high) else "")
              + f"; {p.method_name}" for p in bm.class_pools.values()]
    if bm.excluded:
        lines.append("  Left out: " + ", ".join(bm.label(k) for k in bm.excluded))
    lines += [f"  note: {note}" for note in bm.notes]
    return bm.to_dict(), "\n".join(lines)


def _refuse_proportion_options(args: argparse.Namespace) -> None:
    """Options only a proportion has (an effect measure, an arm-level interval method) are
    refused for median PFS, not ignored (benchmark, summary)."""
    for given, flag in ((args.measure, "--measure"), (args.ci_method, "--ci-method")):
        if given is not None:
            raise CLIError(f"{flag} applies to proportions; median PFS is pooled from the "
                           "arms' reported medians and intervals (leave out " + flag + ")")


def _subtype_rows(args: argparse.Namespace) -> tuple[Any, AnalysisOptions, Any]:
    """One subtype's rows (this cohort's in place of the seed's), the options and the cohort, from
    --subtype and the model arguments; an --exclude that names no arm of it is refused."""
    from comparators.analysis.benchmark import subtype_rows
    from comparators.evidence.cohort import published_cohort
    from comparators.evidence.labels import arm_labels
    from comparators.reports.summary import summarisable_subtypes

    catalog = _catalog(args)
    code = _subtype_code(args.subtype, summarisable_subtypes(catalog.trials))
    options = _options(args)
    cohort = published_cohort(catalog.trials)
    rows = subtype_rows(catalog.trials, cohort, code, options.include_overlapping,
                        arm_labels(catalog.trials, catalog.references), options.endpoint)
    unknown = sorted(set(options.exclude) - set(rows["key"]))
    if unknown:
        arms = "; ".join(f"{k} ({lab})" for k, lab, own in
                         zip(rows["key"], rows["label"], rows["is_cohort"], strict=True)
                         if not own)
        raise CLIError(f"--exclude {unknown[0]!r} is not one of the {code} arms ({arms})")
    return rows, options, cohort


def _benchmark(args: argparse.Namespace) -> Any:
    """One subtype's benchmark from --subtype and the model arguments (benchmark, certainty,
    reproduce)."""
    from comparators.analysis.benchmark import benchmark_subtype

    rows, options, _ = _subtype_rows(args)
    return benchmark_subtype(rows, options)


def cmd_certainty(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """GRADE certainty of each class pool of one subtype (the benchmark's fits)."""
    from comparators.analysis.certainty import certainty_of, summary_of_findings
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort

    bm = _benchmark(args)
    catalog = load_catalog()
    sc = certainty_of(bm, catalog, published_cohort(catalog.trials), args.threshold)
    sof = summary_of_findings(sc)
    lines = [sof.caption, sof.table.to_string(index=False), *sof.lettered]
    return sc.to_dict(), "\n".join(lines)


def cmd_reproduce(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """A .zip that reruns the benchmark's class pools outside the app (R metafor, Python)."""
    from pathlib import Path

    from comparators.evidence.catalog import load_catalog
    from comparators.reports.bundle import build_bundle, bundle_files

    bm = _benchmark(args)
    info = load_catalog().info
    stamp = info.stamp() if info else ""
    out = Path(args.output)
    out.write_bytes(build_bundle(bm, stamp))
    names = sorted(bundle_files(bm, stamp))
    return ({"output": str(out), "subtype": bm.subtype, "files": names},
            f"wrote {out} ({', '.join(names)})")


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    # None when not given: median PFS refuses a proportion's options only when they are given
    parser.add_argument("--measure", type=_code(MEASURE_CHOICES.codes, "--measure"),
                        choices=MEASURE_CHOICES.codes, default=None,
                        help=f"proportions only (default {DEFAULTS.measure})")
    parser.add_argument("--method", type=_code(MODEL_CHOICES.codes, "--method"),
                        choices=MODEL_CHOICES.codes, default=DEFAULTS.method)
    parser.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman CI")
    parser.add_argument("--hksj-variant", dest="hksj_variant", choices=HKSJ_CHOICES.codes,
                        type=_code(HKSJ_CHOICES.codes, "--hksj-variant"),
                        default=DEFAULTS.hksj_variant,
                        help="adhoc (default; never narrower) or plain")
    parser.add_argument("--level", type=_level("--level"), default=DEFAULTS.level)
    parser.add_argument("--ci-method", dest="ci_method", choices=CI_CHOICES.codes,
                        type=_code(CI_CHOICES.codes, "--ci-method"),
                        default=None,
                        help=f"arm-level interval of a proportion (default {DEFAULTS.ci_method})")
    parser.add_argument("--exclude", action="append", metavar="KEY",
                        help="leave out an arm, e.g. 'SARC028 · pembrolizumab' (repeatable)")
    parser.add_argument("--include-cohort", dest="include_cohort", action="store_true",
                        help="put this cohort inside its regimen class's pool")
    parser.add_argument("--include-overlapping", dest="include_overlapping",
                        action="store_true", help="also pool rows that re-count patients")
    parser.add_argument("--primary-only", dest="primary_only", action="store_true",
                        help="sensitivity analysis: only rows read from the trial's own full "
                             "paper (no †‡§¶* mark)")
    parser.add_argument("--low-rob-only", dest="low_rob_only", action="store_true",
                        help="sensitivity analysis: only comparator arms of studies judged low "
                             "risk of bias overall (MINORS; see `rob`)")


def _endpoint_argument(parser: argparse.ArgumentParser) -> None:
    """--endpoint, read by one parser for every command that pools an endpoint."""
    endpoints = list(ENDPOINTS)
    parser.add_argument("--endpoint", type=_code(endpoints, "--endpoint"), choices=endpoints,
                        default="orr",
                        help="what is pooled: orr (default), dcr, pfs3 / pfs6 (progression-free "
                             "at 3 / 6 months), grade3 (grade >= 3 treatment-related adverse "
                             "events, per arm), median_pfs (median PFS in months)")


def _extra_rows_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extra-rows", dest="extra_rows", metavar="FILE",
                        help="add the arms in FILE (a CSV with the catalog's columns, e.g. the "
                             "app's 'Download the arms you added'), marked as added by the user")


# The subcommand registry that `add_subparsers` returns.
_Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def _add_ci_command(commands: _Commands) -> None:
    ci = commands.add_parser("ci", help="confidence interval for K responders of N evaluable")
    ci.add_argument("k", metavar="K", type=_whole_number("K (responders)"))
    ci.add_argument("n", metavar="N", type=_whole_number("N (evaluable)"))
    ci.add_argument("--method", type=_code(CI_CHOICES.codes, "--method"),
                    choices=CI_CHOICES.codes, default=DEFAULTS.ci_method)
    ci.add_argument("--level", type=_level("--level"), default=DEFAULTS.level)
    ci.set_defaults(run=cmd_ci)


def _add_trials_command(commands: _Commands) -> None:
    trials = commands.add_parser("trials", help="the curated comparator-trial rows")
    trials.add_argument("--subtype", help="subtype code, e.g. ASPS (see data/subtypes.csv)")
    trials.add_argument("--format", choices=["json", "csv"], default="json")
    _extra_rows_argument(trials)
    trials.set_defaults(run=cmd_trials)


def _add_audit_command(commands: _Commands) -> None:
    audit = commands.add_parser("audit", help="recompute every percentage the seed paper prints")
    audit.set_defaults(run=cmd_audit)


def _add_pool_command(commands: _Commands) -> None:
    pool = commands.add_parser("pool", help="pool single proportions (random-effects by default)")
    pool.add_argument("file", metavar="FILE", help="CSV with columns study,events,n[,group]")
    pool.add_argument("--measure", type=_code(MEASURE_CHOICES.codes, "--measure"),
                      choices=MEASURE_CHOICES.codes, default=DEFAULTS.measure)
    pool.add_argument("--method", type=_code(MODEL_CHOICES.codes, "--method"),
                      choices=MODEL_CHOICES.codes, default=DEFAULTS.method,
                      help="bayes in any case for the Bayesian model")
    pool.add_argument("--likelihood", dest="likelihood_given", choices=LIKELIHOOD_CHOICES.codes,
                      help="with --method bayes: normal (default; normal-normal model on the "
                           "measure's scale, bayesmeta's) or binomial (exact, logit scale)")
    pool.add_argument("--tau-prior", dest="tau_prior_given",
                      choices=[c for c in TAU_PRIOR_CHOICES if c != "uniform"],  # proper only
                      help="with --method bayes: prior family of tau (default half-normal)")
    pool.add_argument("--tau-scale", dest="tau_scale_given",
                      type=_positive("--tau-scale", *PRIOR_SCALE_RANGE["--tau-scale"]),
                      help="with --method bayes: scale of the tau prior (default 1)")
    pool.add_argument("--mu-prior-sd", dest="mu_prior_sd",
                      type=_positive("--mu-prior-sd", *PRIOR_SCALE_RANGE["--mu-prior-sd"]),
                      help="with --method bayes: normal(0, SD) prior on mu (default: flat)")
    pool.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman CI")
    pool.add_argument("--hksj-variant", dest="hksj_variant", choices=HKSJ_CHOICES.codes,
                      type=_code(HKSJ_CHOICES.codes, "--hksj-variant"),
                      default=DEFAULTS.hksj_variant,
                      help="with --hksj: adhoc (default; never narrower than the standard "
                           "interval, metafor test='adhoc') or plain (metafor test='knha')")
    pool.add_argument("--level", type=_level("--level"), default=DEFAULTS.level)
    pool.set_defaults(run=cmd_pool, mu_prior_mean=0.0)


def _add_metareg_command(commands: _Commands) -> None:
    metareg = commands.add_parser(
        "metareg", help="mixed-effects meta-regression of response rates (metafor rma with "
                        "mods); the catalog form --subtype is not available yet")
    metareg.add_argument("file", metavar="FILE",
                         help="CSV with columns study,events,n and one column per moderator")
    metareg.add_argument("--moderator", action="append", required=True, metavar="NAME",
                         type=_column("--moderator"),
                         help="a moderator column (repeatable): numeric, or categorical with "
                              "the first level alphabetically as reference")
    metareg.add_argument("--measure", type=_code(MEASURE_CHOICES.codes, "--measure"),
                         choices=MEASURE_CHOICES.codes, default=DEFAULTS.measure)
    metareg_methods = ["REML", "ML", "DL", "PM"]  # stats.metareg.METAREG_METHODS, unimported
    metareg.add_argument("--method", type=_code(metareg_methods, "--method"),
                         choices=metareg_methods, default=DEFAULTS.method)
    metareg.add_argument("--hksj", action="store_true",
                         help="Knapp-Hartung: t tests with k - p df and an F omnibus test")
    metareg.add_argument("--hksj-variant", dest="hksj_variant", choices=HKSJ_CHOICES.codes,
                         type=_code(HKSJ_CHOICES.codes, "--hksj-variant"),
                         default=DEFAULTS.hksj_variant,
                         help="with --hksj: adhoc (default, as pool; metafor test='adhoc') or "
                              "plain (metafor test='knha')")
    metareg.add_argument("--level", type=_level("--level"), default=DEFAULTS.level)
    metareg.set_defaults(run=cmd_metareg)


def _add_simon_command(commands: _Commands) -> None:
    simon = commands.add_parser("simon", help="Simon optimal and minimax two-stage designs")
    simon.add_argument("--p0", type=_fraction("--p0"), required=True,
                       help="uninteresting response rate")
    simon.add_argument("--p1", type=_fraction("--p1"), required=True,
                       help="target response rate")
    simon.add_argument("--alpha", type=_fraction("--alpha"), default=0.05)
    simon.add_argument("--beta", type=_fraction("--beta"), default=0.2)
    simon.add_argument("--nmax", type=_whole_number("--nmax"), default=100)
    simon.set_defaults(run=cmd_simon)


def _add_predictive_command(commands: _Commands) -> None:
    pred = commands.add_parser("predictive",
                               help="Lee & Liu 2008 predictive probability of success")
    pred.add_argument("--responders", type=_whole_number("--responders"), required=True)
    pred.add_argument("--n", type=_whole_number("--n"), required=True)
    pred.add_argument("--nmax", type=_whole_number("--nmax"), required=True)
    pred.add_argument("--p0", type=_fraction("--p0"), required=True)
    pred.add_argument("--theta-t", dest="theta_t", type=_fraction("--theta-t"), required=True)
    pred.add_argument("--prior", nargs=2, type=_number("--prior"), metavar=("A", "B"),
                      help="Beta prior (default: Jeffreys 0.5 0.5)")
    pred.set_defaults(run=cmd_predictive)


def _add_km_command(commands: _Commands) -> None:
    km = commands.add_parser("km", help="Kaplan-Meier medians with two kinds of CI")
    km.add_argument("file", metavar="FILE",
                    help="CSV with one row per patient, e.g. the app's IPD template "
                         "(data/ipd_template.csv)")
    km.add_argument("--time", type=_column("--time"), default=None,
                    help="time column (default: pfs_time, the upload template's, else time)")
    km.add_argument("--event", type=_column("--event"), default=None,
                    help="event column, 1 = event (default: pfs_event, the upload "
                         "template's, else event)")
    km.add_argument("--group", type=_column("--group"), default=None,
                    help="optional grouping column")
    km.add_argument("--conf-type", dest="conf_type", choices=KM_CONF_CHOICES.codes,
                    default="log", help="interval of the median (default log, as R survival; "
                                        "spss = median +/- 1.96 SE, the seed paper's form)")
    km.add_argument("--unit", choices=list(TIME_UNIT_DAYS), default=None,
                    help="report times in this unit; a time_unit column (days|weeks|months|"
                         "years per row) is converted to it (default months)")
    km.set_defaults(run=cmd_km)


def _add_rob_command(commands: _Commands) -> None:
    rob = commands.add_parser("rob", help="risk of bias per study (MINORS, 8 items)")
    rob.add_argument("--study", metavar="ID", help="one study id, e.g. SARC028")
    rob.set_defaults(run=cmd_rob)


def _add_summary_command(commands: _Commands) -> None:
    summary = commands.add_parser("summary",
                                  help="evidence summary of one or more subtypes (md, html, docx)")
    summary.add_argument("--subtype", action="append", required=True, metavar="CODE",
                         help="subtype code, e.g. ASPS; repeat for several")
    summary.add_argument("--format", choices=["md", "html", "docx"], default="md")
    summary.add_argument("-o", "--output", metavar="FILE",
                         help="write the document to FILE (required for docx)")
    _endpoint_argument(summary)
    _model_arguments(summary)
    _extra_rows_argument(summary)
    summary.set_defaults(run=cmd_summary)


def _add_benchmark_command(commands: _Commands) -> None:
    bench = commands.add_parser("benchmark",
                                help="one subtype's class pools and differences (the page's)")
    bench.add_argument("--subtype", required=True, metavar="CODE", help="subtype code")
    _endpoint_argument(bench)
    _model_arguments(bench)
    _extra_rows_argument(bench)
    bench.set_defaults(run=cmd_benchmark)


def _add_certainty_command(commands: _Commands) -> None:
    certainty = commands.add_parser(
        "certainty", help="GRADE certainty of each class pool of one subtype (summary of findings)")
    certainty.add_argument("--subtype", required=True, metavar="CODE", help="subtype code")
    certainty.add_argument("--threshold", type=_fraction("--threshold"), default=None,
                           help="decision threshold ORR as a fraction, e.g. 0.2 (imprecision "
                                "and inconsistency ask whether intervals cross it)")
    _model_arguments(certainty)
    certainty.set_defaults(run=cmd_certainty)


def _add_reproduce_command(commands: _Commands) -> None:
    reproduce = commands.add_parser(
        "reproduce", help="a .zip that reruns one subtype's class pools (R metafor, Python)")
    reproduce.add_argument("--subtype", required=True, metavar="CODE", help="subtype code")
    reproduce.add_argument("-o", "--output", required=True, metavar="FILE.zip",
                           help="where to write the bundle")
    _model_arguments(reproduce)
    reproduce.set_defaults(run=cmd_reproduce)


# In the order `--help` lists them.
_COMMANDS = (
    _add_ci_command,
    _add_trials_command,
    _add_audit_command,
    _add_pool_command,
    _add_metareg_command,
    _add_simon_command,
    _add_predictive_command,
    _add_km_command,
    _add_rob_command,
    _add_summary_command,
    _add_benchmark_command,
    _add_certainty_command,
    _add_reproduce_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m comparators", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_command in _COMMANDS:
        add_command(commands)
    for sub in [parser, *commands.choices.values()]:
        sub.add_argument("--debug", action="store_true",
                         help="on an internal error, print the traceback")
    for sub in commands.choices.values():
        sub.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _one_line(err: BaseException) -> str:
    return printable(" ".join(str(err).split()), keep_newlines=False) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        payload, text = args.run(args)
    except (CLIError, InputError) as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # a path the user gave: a missing directory, no permission
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("error: the input needs more memory than this machine has; use a smaller file",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # anything else is a bug, not the user's input
        if "--debug" in argv:
            import traceback

            traceback.print_exc()
        print(f"error: internal error, please report it ({type(err).__name__}: "
              f"{_one_line(err)}); rerun with --debug for the traceback", file=sys.stderr)
        return EXIT_BUG
    # Text output carries names from the user's files: shown, never acted on by the terminal.
    try:
        print(json.dumps(payload) if args.json else printable(text))
    except BrokenPipeError:  # the reader stopped early (| head): what it read was complete
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
