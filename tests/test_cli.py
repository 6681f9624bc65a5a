"""The CLI contract (README, "Command line"): JSON on stdout, exit 2 + one stderr line on bad
input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "comparators", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def test_ci_json_reproduces_the_seed_paper() -> None:
    # Liu et al. 2023, Abstract: ORR 48.1% (95% CI 30.7-66.0%).
    out = run_cli("ci", "13", "27", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"estimate", "low", "high", "method", "level"}
    assert (round(result["low"], 3), round(result["high"], 3)) == (0.307, 0.660)
    assert result["method"] == "wilson" and result["level"] == 0.95


def test_ci_method_and_level_options() -> None:
    # Newcombe 1998 Table I: 81/263 exact interval 0.2527-0.3676.
    result = json.loads(run_cli("ci", "81", "263", "--method", "clopper-pearson", "--json").stdout)
    assert (round(result["low"], 4), round(result["high"], 4)) == (0.2527, 0.3676)
    wide = json.loads(run_cli("ci", "13", "27", "--level", "0.99", "--json").stdout)
    assert wide["low"] < 0.307 and wide["level"] == 0.99


def test_ci_plain_text_output() -> None:
    out = run_cli("ci", "13", "27")
    assert out.stdout.strip() == "13/27 = 48.1% (95% CI 30.7–66.0%) [Wilson score]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ci", "14", "13"], "cannot exceed"),
        (["ci", "-1", "5"], "must not be negative"),
        (["ci", "1.5", "5"], "whole number"),
        (["ci", "abc", "5"], "whole number"),
        (["ci", "3", "5", "--level", "1.2"], "between 0.5 and 0.999"),
        (["ci", "3", "5", "--level", "abc"], "expected a number"),
        (["ci", "3", "5", "--method", "logit"], "invalid choice"),
        (["ci", "3", "0"], "at least 1"),
        (["ci", "3"], "required"),
        (["nonsense"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = run_cli(*args, "--json") if args else run_cli()
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_simon_reproduces_simon_1989() -> None:
    # Simon R. Controlled Clin Trials 1989;10:1-10, p0 = 0.1, p1 = 0.3, alpha 0.05, beta 0.2:
    # optimal 1/10, 5/29 (EN0 15.0); minimax 1/15, 5/25.
    out = run_cli("simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--beta", "0.2",
                  "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    opt, mm = result["optimal"], result["minimax"]
    assert (opt["r1"], opt["n1"], opt["r"], opt["n"], round(opt["en0"], 1)) == (1, 10, 5, 29, 15.0)
    assert (mm["r1"], mm["n1"], mm["r"], mm["n"]) == (1, 15, 5, 25)
    for design in (opt, mm):
        assert set(design) >= {"r1", "n1", "r", "n", "en0", "pet0", "alpha", "power"}


def test_predictive_reproduces_lee_and_liu_2008() -> None:
    # Lee JJ, Liu DD. Clin Trials 2008;5:93-106: Nmax 40, p0 0.6, theta_T 0.9, Beta(0.6, 0.4),
    # 16 responses in 23 patients -> PP = 0.5656.
    out = run_cli("predictive", "--responders", "16", "--n", "23", "--nmax", "40", "--p0", "0.6",
                  "--theta-t", "0.9", "--prior", "0.6", "0.4", "--json")
    assert round(json.loads(out.stdout)["pp"], 4) == 0.5656


def test_pool_with_groups_reports_between_group_q(tmp_path: Path) -> None:
    # The contract's shape and the subgroup test; the pooled numbers themselves are validated
    # against metafor's documented outputs in tests/test_pooling.py.
    csv = tmp_path / "asps.csv"
    csv.write_text("study,events,n,group\nLIU2023,5,7,AI+ICI\nWILKY2019,6,11,AI+ICI\n"
                   "TQB,9,12,AI+ICI\nATEZO,19,52,ICI\nSOMAIAH,5,10,ICI+ICI\n")
    out = run_cli("pool", str(csv), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) >= {"k", "measure", "method", "estimate", "low", "high", "pi_low",
                           "pi_high", "tau2", "i2", "q", "q_df", "q_p", "studies", "subgroups",
                           "q_between", "q_between_df", "q_between_p"}
    assert result["k"] == 5 and result["measure"] == "logit" and result["method"] == "REML"
    assert {g["group"] for g in result["subgroups"]} == {"AI+ICI", "ICI", "ICI+ICI"}
    assert result["q_between_df"] == 2
    assert all(0 <= s["low"] <= s["estimate"] <= s["high"] <= 1 for s in result["studies"])
    fe = json.loads(run_cli("pool", str(csv), "--method", "FE", "--json").stdout)
    assert fe["tau2"] is None and fe["pi_low"] is None


#: Imports `pool` must not pay for on its default paths (start-up budget: 1 s wall for a small
#: file). pandas, scipy.stats and scipy.optimize each take about as long as the budget on
#: this machine; scipy.special (the distribution functions, stats.distributions) fits in it.
HEAVY = ("pandas", "scipy.stats", "scipy.optimize")
POOL_SMALL = "study,events,n,group\nA,3,10,x\nB,5,12,x\nC,1,9,y\nD,4,11,y\n"


def _imported(importtime_stderr: str) -> set[str]:
    """Module names from `python -X importtime` output ("import time: self | cumul | name")."""
    return {line.rsplit("|", 1)[-1].strip() for line in importtime_stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_pooling_module_imports_neither_pandas_nor_scipy_stats() -> None:
    code = ("import sys, comparators.stats.pooling, comparators.stats.proportions\n"
            f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize("extra", [
    ["--json"], [], ["--method", "FE", "--json"], ["--method", "DL", "--json"],
    ["--method", "PM", "--json"], ["--method", "ML", "--json"],
    ["--measure", "ft", "--json"], ["--measure", "raw", "--level", "0.9", "--json"],
    ["--hksj", "--json"],
], ids=lambda a: " ".join(a) or "text")
def test_pool_command_path_imports_neither_pandas_nor_scipy_stats(tmp_path: Path,
                                                                   extra: list[str]) -> None:
    # The whole command (argument parsing, CSV reader, fit, Wilson study intervals, subgroups
    # and their Q-between test, output), as -X importtime lists every module it loads.
    csv = tmp_path / "small.csv"
    csv.write_text(POOL_SMALL)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "comparators", "pool",
                          str(csv), *extra], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = _imported(out.stderr)
    assert "comparators.stats.pooling" in modules  # the parse worked: the module is listed
    assert _heavy(modules) == [], _heavy(modules)[:10]


def test_pool_glmm_still_gets_scipy_optimize(tmp_path: Path) -> None:
    # The lazy import is there, not missing: GLMM (Nelder-Mead) loads scipy.optimize on use.
    csv = tmp_path / "small.csv"
    csv.write_text(POOL_SMALL)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "comparators", "pool",
                          str(csv), "--json", "--method", "GLMM"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    assert any(m.startswith("scipy.optimize.") for m in _imported(out.stderr))
    payload = json.loads(out.stdout.splitlines()[-1])
    assert 0 < payload["low"] < payload["estimate"] < payload["high"] < 1


def test_km_reproduces_r_survival_lung_by_sex(tmp_path: Path) -> None:
    # R survival: survfit(Surv(time, status) ~ sex, data = lung, conf.type = "log-log")
    # prints medians 270 (210, 306) for sex = 1 and 426 (345, 524) for sex = 2.
    from lifelines.datasets import load_lung

    csv = tmp_path / "lung.csv"
    load_lung()[["time", "status", "sex"]].to_csv(csv, index=False)
    out = run_cli("km", str(csv), "--event", "status", "--group", "sex", "--conf-type",
                  "log-log", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["conf_type"] == "log-log"
    groups = {str(g["group"]): g for g in payload["groups"]}
    assert (groups["1"]["median"], groups["1"]["median_low"], groups["1"]["median_high"]) == (
        270, 210, 306)
    assert (groups["2"]["median"], groups["2"]["median_low"], groups["2"]["median_high"]) == (
        426, 345, 524)
    assert "median_spss_low" in groups["1"]


def test_km_default_conf_type_is_r_log_and_time_unit_is_converted(tmp_path: Path) -> None:
    # R survival, survfit(Surv(c(1, 2, 3, 4), rep(1, 4)) ~ 1): median 2.5 (midpoint rule),
    # 0.95LCL 1, UCL NA (default conf.type "log").
    csv = tmp_path / "four.csv"
    csv.write_text("time,event\n1,1\n2,1\n3,1\n4,1\n")
    out = run_cli("km", str(csv), "--json")
    payload = json.loads(out.stdout)
    g = payload["groups"][0]
    assert payload["conf_type"] == "log" and g["conf_type"] == "log"
    assert (g["median"], g["median_low"], g["median_high"]) == (2.5, 1.0, None)
    text = run_cli("km", str(csv)).stdout
    assert "median CI: log" in text
    # 30.4375 days = 1 month, 7 days = 1 week (365.25 / 12 days per month, as evidence.ipd)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("time,event,time_unit\n30.4375,1,days\n2,1,months\n")
    g = json.loads(run_cli("km", str(mixed), "--json").stdout)
    assert g["time_unit"] == "months"
    assert g["groups"][0]["median"] == pytest.approx(1.5)
    w = json.loads(run_cli("km", str(mixed), "--unit", "days", "--json").stdout)
    assert w["groups"][0]["median"] == pytest.approx((30.4375 + 2 * 30.4375) / 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("time,event,time_unit\n3,1,fortnights\n")
    out = run_cli("km", str(bad))
    assert out.returncode == 2 and "row 1, column 'time_unit'" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simon", "--p0", "0.3", "--p1", "0.1"], "must be larger"),
        (["simon", "--p0", "1.5", "--p1", "0.3"], "between 0 and 1"),
        (["predictive", "--responders", "30", "--n", "23", "--nmax", "40", "--p0", "0.6",
          "--theta-t", "0.9"], "cannot exceed"),
        (["pool", "does-not-exist.csv"], "does-not-exist.csv"),
        (["km", "does-not-exist.csv"], "not found"),
        (["pool", "README.md"], "not a readable CSV"),
    ],
)
def test_engine_commands_refuse_bad_input(args: list[str], message: str) -> None:
    out = run_cli(*args, "--json")
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_trials_json_holds_the_named_trials_with_identifiers() -> None:
    # Facts from ../shared/reference/trial-facts.md (primary sources: Tawbi, Lancet Oncol 2017;
    # Wilky, Lancet Oncol 2019; Chen, NEJM 2023).
    rows = json.loads(run_cli("trials", "--json").stdout)["rows"]
    studies = {r["study"] for r in rows}
    assert {"LIU2023", "SARC028", "A091401", "WILKY2019", "TQB2450-ANLO"} <= studies
    assert {"arm", "subtype", "responders", "evaluable", "regimen_class", "ref",
            "verified"} <= set(rows[0])
    counts = {(r["study"], r["subtype"]): (r["responders"], r["evaluable"]) for r in rows
              if r["study"] in {"SARC028", "WILKY2019", "ATEZO-ASPS"}}
    assert counts[("SARC028", "UPS")] == (4, 10)
    assert counts[("SARC028", "DDLPS")] == (2, 10)  # the "liposarcoma" cohort
    assert counts[("SARC028", "LMS")] == (0, 10)
    assert counts[("SARC028", "SS")] == (1, 10)
    assert counts[("WILKY2019", "ASPS")] == (6, 11)
    assert counts[("ATEZO-ASPS", "ASPS")] == (19, 52)


def test_trials_subtype_filter_and_csv() -> None:
    asps = json.loads(run_cli("trials", "--subtype", "ASPS").stdout)["rows"]
    assert asps and {r["subtype"] for r in asps} == {"ASPS"}
    csv = run_cli("trials", "--subtype", "ASPS", "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("study,arm,") and len(csv) == len(asps) + 1
    bad = run_cli("trials", "--subtype", "XYZ")
    assert bad.returncode == 2 and "unknown subtype code 'XYZ'" in bad.stderr


def test_audit_json_reports_the_known_findings() -> None:
    findings = json.loads(run_cli("audit", "--json").stdout)["findings"]
    keys = {"where", "claim", "reported_pct", "numerator", "denominator", "recomputed_pct",
            "consistent"}
    assert all(keys <= set(f) for f in findings)
    by_claim = {f["claim"]: f for f in findings if f["check"] == "arithmetic"}
    non_asps = by_claim["Non-ASPS: DCR 90% (3 CR + 5 PR + 8 SD of 20)"]
    assert (non_asps["numerator"], non_asps["denominator"], non_asps["consistent"]) == (
        16, 20, False)
    orr = by_claim["ORR 48.1% (13/27)"]
    assert (orr["recomputed_pct"], orr["consistent"]) == (48.1, True)
    assert findings[0]["consistent"] is False


def test_help_points_only_to_files_in_the_repository() -> None:
    import re

    out = run_cli("--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    named = set(re.findall(r"[\w./-]+\.(?:md|csv|cff|toml)\b", text))
    assert "README.md" in named, text  # where every command is shown with an example
    for name in named:
        assert (ROOT / name).is_file(), f"--help names {name}, which is not in the repository"
    km_help = " ".join(run_cli("km", "--help").stdout.split())
    for name in re.findall(r"[\w./-]+\.csv\b", km_help):
        assert (ROOT / name).is_file(), name


def test_km_reads_the_apps_own_ipd_template_without_flags() -> None:
    import pandas as pd

    template = ROOT / "data" / "ipd_template.csv"
    rows = pd.read_csv(template)
    out = run_cli("km", str(template), "--json")
    assert out.returncode == 0, out.stderr
    plain = json.loads(out.stdout)
    (group,) = plain["groups"]
    assert (group["n"], group["events"]) == (len(rows), int(rows["pfs_event"].sum()))
    named = run_cli("km", str(template), "--time", "pfs_time", "--event", "pfs_event", "--json")
    assert json.loads(named.stdout) == plain
    # one flag given: the other column is the template's partner, not the R-style name
    half = run_cli("km", str(template), "--time", "pfs_time", "--json")
    assert json.loads(half.stdout) == plain


def test_km_prefers_the_template_columns_and_names_what_is_missing(tmp_path: Path) -> None:
    both = tmp_path / "both.csv"  # PFS: two events at 1 and 3; the R-style pair: none
    both.write_text("time,event,pfs_time,pfs_event\n5,0,1,1\n6,0,3,1\n")
    g = json.loads(run_cli("km", str(both), "--json").stdout)["groups"][0]
    assert (g["events"], g["median"]) == (2, 2.0)  # midpoint of 1 and 3, as R survfit
    neither = tmp_path / "neither.csv"
    neither.write_text("start,status\n1,1\n")
    out = run_cli("km", str(neither))
    assert out.returncode == 2 and "'pfs_time', 'pfs_event'" in out.stderr
    assert "--time" in run_cli("km", "--help").stdout


@pytest.mark.parametrize(("header", "missing"), [
    ("pfs_time,status", "'pfs_event'"), ("months,pfs_event", "'pfs_time'"),
])
def test_km_half_a_template_pair_names_the_missing_column_and_the_flags(
        tmp_path: Path, header: str, missing: str) -> None:
    half = tmp_path / "half.csv"
    half.write_text(f"{header}\n3,1\n5,0\n")
    out = run_cli("km", str(half))
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.splitlines()
    assert missing in line and "--time" in line and "--event" in line


@pytest.mark.parametrize("subtype", ["ASPS", "UPS", "LMS"])
def test_unknown_exclude_names_the_subtype_arms_without_a_wrong_article(subtype: str) -> None:
    import re

    out = run_cli("benchmark", "--subtype", subtype, "--exclude", "NO-SUCH-ARM")
    assert out.returncode == 2
    line = out.stderr.strip()
    assert line.count("\n") == 0 and f"not one of the {subtype} arms" in line
    assert not re.search(rf"\ba {subtype}\b", line), line
