"""Benchmark ``icp-notify batch`` against the by-hand baseline (bench/baseline.py), side by side.

Generates two JSONL archives under a work directory:

* ``repeats``: N notices (default 200,000) drawn from a few hundred templates — notice wordings
  crossed with a small set of recipients, domains and filing numbers, as in a real archive
  where one company's filings come back again and again — with varying arrival times and
  senders; verification codes get a fresh code each time;
* ``unique``: M notices (default 10,000) where every text is different (fresh domain, number and
  name in each).

Then, side by side in one run, it times ``icp-notify batch ARCHIVE -o OUT`` end to end (reading,
parsing, classifying, advising, writing JSONL) in a fresh process pinned to one core
(``taskset -c 0``, ``--workers 1``), with that process's peak RSS, on the repeats archive at
N/10, N/2 and N notices (peak RSS at three sizes: memory must be flat) and on the no-repeats
archive (also with ``--workers 2``, unpinned); with ``--million``, also a 1,000,000-notice
archive of the same mix with ``--workers 2`` (issue 14: ≤ 90 s). The baseline (``jieba.lcut`` +
``TfidfVectorizer`` + ``LogisticRegression``, one call per message, classification only, in this
process) is timed on the first ``--baseline-sample`` messages of each archive and extrapolated
to the archive's size. Timed cases are run ``--runs`` times and the median is reported. On a
shared machine elapsed time swings with other jobs, so the table also gives the CPU seconds of
``icp-notify batch`` (user + system, with its worker processes) against the baseline's messages
per CPU second — a ratio less sensitive to the load (with workers it compares total work, not
elapsed time). Run::

    .venv/bin/python bench/batch_bench.py                  # 200k + 10k, 3 runs each
    .venv/bin/python bench/batch_bench.py --n 20000 --runs 1 --tracemalloc   # quicker
    .venv/bin/python bench/batch_bench.py --runs 1 --million --code /tmp/before --code .

All names, domains and numbers are made up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

SURNAMES = "张王李赵刘陈杨黄周吴"
PROVIDERS = ["示例云", "样例云", "演示互联", "测试数据", "范例网络"]
# each provider sends from two short codes, MIIT from 12381 (as on a real phone)
PROVIDER_SENDERS = {p: [f"10690{i}{j}0000" for j in range(2)] for i, p in enumerate(PROVIDERS)}
TEMPLATES = [
    "【工信部】尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    "尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    "【{p}】尊敬的用户，您的网站 {domain}（{icp}）已完成取消接入，请尽快在新接入商处办理接入备案，以免备案被注销。",
    "【{p}】您好，您在{p}提交的接入备案（{domain}）已审核通过，备案号 {icp} 保持不变。",
    "【{p}】您的备案申请（新增网站 {domain}）已审核通过，备案号：{icp}。",
    "【{p}】您提交的变更备案（{domain}）已通过管局审核，请核对备案信息。",
    "【{p}】您的备案订单 {order} 已通过初审，已提交管局审核，请留意工信部短信核验。",
    "【{p}】您的备案订单 {order} 被管局退回，原因：网站名称不符合要求，请修改后重新提交。",
    "【{p}】经核查，您的域名 {domain} 未解析至{p}服务器，请于7日内整改，逾期将取消接入。",
    "【{p}】请在网站 {domain} 底部悬挂备案号 {icp} 并链接至 beian.miit.gov.cn。",
    "【{p}】您的 CDN 加速域名 {domain} 已成功接入，回T退订",
    "【{p}】备案季特惠，云服务器低至9.9元，{domain} 用户专享，回T退订",
    "【{p}】尊敬的用户，您的主体备案 {icp} 已注销，如需继续开办网站请重新备案。",
]
CODE_TEMPLATE = (
    "【工信部】您的短信核验码为{code}，由{p}发起的{domain}网站的新增网站已提交，24小时内有效。"
)
SUFFIXES = ["", "详情见控制台。", "如有疑问请联系客服。", "感谢您的支持。"]
PROVINCES = "京沪粤浙苏川鲁闽"


def _owner(rng: random.Random, i: int) -> dict[str, str]:
    return {
        "name": rng.choice(SURNAMES) + rng.choice(["**", "*", "某", "XX"]),
        "domain": f"site{i}-example.cn",
        "icp": f"{rng.choice(PROVINCES)}ICP备20{rng.randint(10, 24)}{rng.randint(10**5, 10**6 - 1)}号-{rng.randint(1, 5)}",
        "p": rng.choice(PROVIDERS),
        "order": f"BA{rng.randint(10**9, 10**10 - 1)}",
    }


def generate(path: Path, n: int, *, unique: bool, seed: int = 7) -> int:
    """Write ``n`` notices as JSONL; return the number of distinct texts."""
    rng = random.Random(seed)
    owners = [_owner(rng, i) for i in range(12)]
    texts: set[str] = set()
    start = 1_700_000_000
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            owner = _owner(rng, 100_000 + i) if unique else rng.choice(owners)
            if rng.random() < 0.04:
                text = CODE_TEMPLATE.format(code=f"{rng.randint(0, 999999):06d}", **owner)
            else:
                template = rng.choice(TEMPLATES) + rng.choice(SUFFIXES)
                text = template.format(**owner)
            if unique:
                text = f"{text}（编号{i}）"
            texts.add(text)
            miit = text.startswith(("【工信部】", "尊敬的用户"))
            sender = "12381" if miit else rng.choice(PROVIDER_SENDERS[owner["p"]])
            record = {"id": f"m{i}", "text": text, "sender": sender, "received_at": start + i * 97}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(texts)


def run_batch(
    archive: Path,
    out: Path,
    *,
    workers: int = 1,
    one_core: bool = True,
    code: Path = ROOT,
) -> tuple[float, int, int, float]:
    """Time ``icp-notify batch`` in a fresh process; return (seconds, rows, peak RSS KiB, CPU).

    CPU is the user + system seconds of the process and its worker processes.

    ``one_core`` pins the process (and its children) to CPU 0 with ``taskset`` when available.
    ``code`` is the checkout whose ``icp_notify`` runs (this one by default; another worktree
    to compare before and after side by side), with this interpreter, through
    ``icp_notify.cli.program`` as the installed ``icp-notify`` runs it.
    """
    probe = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "err = open(sys.argv[1] + '.stderr', 'w');"
        "rc = subprocess.run(sys.argv[2:], stderr=err).returncode;"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(time.perf_counter() - t, rc, u.ru_maxrss, u.ru_utime + u.ru_stime)"
    )
    cmd = [
        sys.executable,
        "-c",
        probe,
        str(out),
        sys.executable,
        "-c",
        # the installed ``icp-notify``'s entry point (cli.program: its collector threshold and
        # its end of the process included); cli.main in a checkout that predates it
        "import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from icp_notify import cli; sys.exit(getattr(cli, 'program', cli.main)())",
        str(code),
        "batch",
        str(archive),
        "-o",
        str(out),
        "--workers",
        str(workers),
        "--now",
        "2025-01-01T00:00:00",
    ]
    if one_core and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    seconds, rc, rss, cpu = result.stdout.split()
    if rc != "0":
        raise SystemExit(f"icp-notify batch exited {rc}; see {out}.stderr")
    with open(out, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh)
    return float(seconds), rows, int(rss), float(cpu)


def run_baseline(model: Any, archive: Path, sample: int) -> tuple[float, float]:
    """Classify the first ``sample`` texts with the baseline; return messages per second of
    wall time and of CPU time (this process's)."""
    texts: list[str] = []
    with open(archive, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= sample:
                break
    model.classify(texts[0])  # warm-up: jieba loads its dictionary on first use
    t, c = time.perf_counter(), time.process_time()
    for text in texts:
        model.classify(text)
    return len(texts) / (time.perf_counter() - t), len(texts) / (time.process_time() - c)


def traced_peak(archive: Path, checkpoints: list[int]) -> list[tuple[int, float]]:
    """Label in this process under ``tracemalloc``; (rows, MiB traced) at each checkpoint.

    The pipeline is loaded before tracing starts, so the figures are what labelling adds
    (caches, duplicate set, rows in flight).
    """
    import tracemalloc

    from icp_notify.batch import label
    from icp_notify.pipeline import Pipeline

    Pipeline.default()
    list(label([ROOT / "icp_notify" / "data" / "examples.jsonl"]))  # warm every lazy load
    tracemalloc.start()
    out: list[tuple[int, float]] = []
    wanted = sorted(checkpoints)
    for n, _row in enumerate(label([archive], now="2025-01-01T00:00:00"), start=1):
        if wanted and n == wanted[0]:
            out.append((n, tracemalloc.get_traced_memory()[0] / 2**20))
            wanted.pop(0)
            if not wanted:
                break
    tracemalloc.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=200_000, help="notices in the archive with repeats"
    )
    parser.add_argument(
        "--unique", type=int, default=10_000, help="notices in the archive without repeats"
    )
    parser.add_argument("--baseline-sample", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (median)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations in-process"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        default=None,
        help="checkout to time (repeat to compare, e.g. before/after; default: this one)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only the N-notice repeats and the no-repeats archive, one core",
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="also 1,000,000 notices (the repeats mix) with --workers 2, one run",
    )
    args = parser.parse_args(argv)
    codes: list[Path] = args.code or [ROOT]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="icp_batch_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    from baseline import Baseline

    model = Baseline.from_corpus()
    # (name, notices, no repeats, timed runs, workers)
    cases = [
        ("repeats", args.n // 10, False, 1, 1),
        ("repeats", args.n // 2, False, 1, 1),
        ("repeats", args.n, False, args.runs, 1),
        ("no repeats", args.unique, True, args.runs, 1),
        ("no repeats, 2 workers", args.unique, True, args.runs, 2),
    ]
    if args.quick:
        cases = [cases[2], cases[3]]
    if args.million:
        cases.append(("repeats, 2 workers", 1_000_000, False, 1, 2))
    lines = []
    archives: dict[tuple[int, bool], tuple[Path, int]] = {}
    for name, n, unique, runs, workers in cases:
        if (n, unique) not in archives:
            path = work / f"{'unique' if unique else 'repeats'}-{n}.jsonl"
            archives[n, unique] = (path, generate(path, n, unique=unique))
        archive, distinct = archives[n, unique]
        # the checkouts take turns, run by run, so they see the same machine load
        timings: dict[Path, list[tuple[float, int, int, float]]] = {code: [] for code in codes}
        for _ in range(runs):
            for k, code in enumerate(codes):
                timings[code].append(
                    run_batch(
                        archive,
                        work / f"{archive.stem}.out{k}.jsonl",
                        workers=workers,
                        one_core=workers == 1,
                        code=code,
                    )
                )
        samples = [run_baseline(model, archive, min(args.baseline_sample, n)) for _ in range(runs)]
        theirs = statistics.median(s[0] for s in samples)
        theirs_cpu = statistics.median(s[1] for s in samples)
        for code in codes:
            seconds = statistics.median(t[0] for t in timings[code])
            cpu = statistics.median(t[3] for t in timings[code])
            rows = timings[code][0][1]
            rss = max(t[2] for t in timings[code])
            ours = rows / seconds
            cores = "1 core" if workers == 1 else f"{workers} workers"
            label = name if len(codes) == 1 else f"{name} [{code}]"
            line = (
                f"| {label} | {n:,} | {distinct:,} | {cores} | {seconds:.1f} s | {ours:,.0f}/s "
                f"| {rss / 1024:.0f} MiB | {theirs:,.0f}/s (≈{n / theirs:.0f} s) "
                f"| {ours / theirs:.1f}× | {cpu:.1f} s | {theirs_cpu:,.0f}/s "
                f"| {rows / cpu / theirs_cpu:.1f}× |"
            )
            print(line, flush=True)
            lines.append(line)
    print()
    print(
        "| archive | notices | distinct texts | cores | icp-notify batch | rows/s | peak RSS "
        "| baseline (extrapolated) | speed-up | CPU (all processes) | baseline per CPU-s "
        "| speed-up per CPU-s |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for line in lines:
        print(line)
    if args.tracemalloc:
        archive, _ = archives[args.n, False]
        points = [args.n // 10, args.n // 2, args.n]
        print("\ntracemalloc (Python allocations while labelling, pipeline already loaded):")
        for rows, mib in traced_peak(archive, points):
            print(f"  after {rows:,} rows: {mib:.1f} MiB traced")
    print(f"\nwork directory: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
