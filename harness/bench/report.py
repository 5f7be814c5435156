"""report.py - `make bench-docs`: write a bench run's numbers into the docs, and plot them.

    report.py build/bench/results.json

Replaces what lies between <!-- bench:begin --> and <!-- bench:end --> in
docs/performance.md (machine, tables, targets), and draws
docs/plots/06-designs.svg and docs/plots/throughput.svg with gnuplot. Every
number in those places comes from results.json; none is typed by hand.  Generated
text goes into docs/ only: the lesson pages link to it.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SERVERS = {"thread": "C `--model thread`", "fork": "C `--model fork`", "pool": "C `--model pool`",
           "poll": "C `--model poll`", "python": "Python `ThreadingTCPServer`"}


def num(x):
    """Three significant figures, as a person would write them."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def cell(s):
    return f"{num(s['median'])} ±{100 * s['spread']:.0f}%"


def provenance(r):
    m = r["machine"]
    la0, la1 = m["loadavg_start"], m["loadavg_end"]
    return textwrap.fill(f"Produced by `{r['command']}` then `make bench-docs`, {r['date']}, in {r['duration_s']:.0f} s: "
            f"{r['reps']} run{'s' * (r['reps'] > 1)} of {r['seconds']} s each; median ±spread ((max - min) / median). "
            f"Machine: {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}, {m['os']}, "
            f"{m['cc']}, Python {m['python']}; load average (1, 5, 15 min) "
            f"{la0[0]:.2f} {la0[1]:.2f} {la0[2]:.2f} at the start, {la1[0]:.2f} {la1[1]:.2f} "
            f"{la1[2]:.2f} at the end.", width=100)


def conc(r, server, clients):
    return next(c for c in r["concurrency"] if c["server"] == server and c["clients"] == clients)


def ms(x):
    return f"{x:,.0f}" if x >= 10 else f"{x:.2f}"


def designs_table(r):
    lines = ["| server | clients | connections/s | p50 ms | p99 ms | max ms | stalled ≥ 1 s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in SERVERS:
        for n in sorted({c["clients"] for c in r["concurrency"]}):
            c = conc(r, s, n)
            err = f" ({c['errors']} errors)" if c["errors"] else ""
            lines.append(f"| {SERVERS[s]} | {n} | {cell(c)}{err} | {ms(c['p50_ms'])} | {ms(c['p99_ms'])} | "
                         f"{ms(c['max_ms'])} | {c['stalled']} of {c['timed']:,} |")
    return "\n".join(lines)


def idle_table(r):
    lines = ["| server | idle connections | server RSS before → after | per connection |",
             "| --- | --- | --- | --- |"]
    for i in r["idle"]:
        lines.append(f"| {SERVERS[i['server']]} | {i['conns']:,} | {i['rss_before_kb'] / 1024:.1f} MB → "
                     f"{i['rss_after_kb'] / 1024:.1f} MB | {i['bytes_per_conn'] / 1024:.1f} kB |")
    return "\n".join(lines)


def targets(r):
    row = {t["id"]: t for t in r["table"]}
    bulk, limit = row["04-bulk"], r["loopback"]["median"]
    poll, py = conc(r, "poll", 32), conc(r, "python", 32)
    big = [i for i in r["idle"] if i["server"] == "poll" and i["conns"] == 10000]
    ok = {True: "met", False: "**missed**"}
    out = [("framed bulk (1 MiB frames) ≥ 6× Python", f"{bulk['ratio']:.2f}×", bulk["ratio"] >= 6),
           ("framed bulk ≥ 70% of the loopback limit",
            f"{100 * bulk['c']['median'] / limit:.0f}% of {num(limit)} MB/s", bulk["c"]["median"] >= 0.7 * limit),
           ("`poll` model ≥ 10× `ThreadingTCPServer` connections/s at 32 clients",
            f"{poll['median'] / py['median']:.1f}×", poll["median"] >= 10 * py["median"]),
           ("no connection stalled ≥ 1 s on the `poll` model at 32 clients",
            f"{poll['stalled']} of {poll['timed']} (Python: {py['stalled']} of "
            f"{py['timed']})", poll["stalled"] == 0)]
    if big:
        out.append(("10,000 idle connections under 50 MB RSS on the `poll` model",
                    f"{big[0]['rss_after_kb'] / 1024:.1f} MB", big[0]["rss_after_kb"] < 50 * 1024))
    for way in ("decode", "encode"):
        j = row[f"04-json-{way}"]
        out.append((f"C JSON codec faster than Python's `json`: {way}", f"{j['ratio']:.2f}×", j["ratio"] > 1))
    return "\n".join(["| target | measured | |", "| --- | --- | --- |"]
                     + [f"| {t} | {m} | {ok[v]} |" for t, m, v in out])


def performance_md(r):
    table = ["| lesson | what | C | Python | C / Python |", "| --- | --- | --- | --- | --- |"]
    for t in r["table"]:
        err = " (errors!)" if t["c"].get("errors") or t["py"].get("errors") else ""
        table.append(f"| {t['lesson']} | {t['what']}, {t['unit']} | {cell(t['c'])} | {cell(t['py'])} | "
                     f"{t['ratio']:.2f}×{err} |")
    lb = r["loopback"]
    bulk = next(t for t in r["table"] if t["id"] == "04-bulk")
    return "\n\n".join([
        provenance(r),
        "### C against Python, the same load",
        "\n".join(table),
        textwrap.fill(f"Loopback limit, one TCP stream ({lb['tool']}): {cell(lb)} MB/s. Lesson 04's 1 MiB frames "
        f"reach {100 * bulk['c']['median'] / lb['median']:.0f}% of it in C and "
        f"{100 * bulk['py']['median'] / lb['median']:.0f}% in Python.", 100),
        "![1 MiB frames against the loopback limit](plots/throughput.svg)",
        "### Lesson 06: server designs, connections per second",
        designs_table(r),
        "![connections per second by server design](plots/06-designs.svg)",
        "### Lesson 06: idle connections held",
        idle_table(r),
        "### Targets",
        targets(r),
    ])


def splice(path, text):
    doc = path.read_text()
    pat = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pat.search(doc):
        sys.exit(f"report.py: {path}: no {BEGIN} ... {END} section")
    path.write_text(pat.sub(lambda _: f"{BEGIN}\n{text}\n{END}", doc, count=1))


def gnuplot(script, out):
    out.parent.mkdir(exist_ok=True)
    p = subprocess.run(["gnuplot"], input=f"set terminal svg size 760,420 dynamic font 'sans,12'\n"
                       f"set output '{out}'\n{script}", text=True, capture_output=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"report.py: gnuplot: {p.stderr}")


def plots(r):
    clients = sorted({c["clients"] for c in r["concurrency"]})
    data = "\n".join(f'"{s}" ' + " ".join(str(conc(r, s, n)["median"]) for n in clients) for s in SERVERS)
    gnuplot(f"""$d << EOD
{data}
EOD
set title "Lesson 06: connections per second by server design ({r['machine']['nproc']} cores, loopback)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "connections/s (median)"
set yrange [0:*]
set grid ytics
set key top left
plot """ + ", ".join(f"$d using {i + 2}:xtic(1) title '{n} client{'s' * (n > 1)}'"
                     for i, n in enumerate(clients)) + "\n", ROOT / "docs/plots/06-designs.svg")
    bulk = next(t for t in r["table"] if t["id"] == "04-bulk")
    gnuplot(f"""$d << EOD
"loopback limit ({r['loopback']['tool']})" {r['loopback']['median']}
"C, 1 MiB frames" {bulk['c']['median']}
"Python, 1 MiB frames" {bulk['py']['median']}
EOD
set title "Lesson 04: 1 MiB frames echoed, payload MB/s each way, against one TCP stream's limit"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.6
set ylabel "MB/s (median)"
set yrange [0:*]
set grid ytics
unset key
plot $d using 2:xtic(1) lc rgb '#4477aa'
""", ROOT / "docs/plots/throughput.svg")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS.json")
    path = Path(sys.argv[1])
    if not path.exists():
        sys.exit(f"report.py: no {path}: run make bench first")
    r = json.loads(path.read_text())
    splice(ROOT / "docs/performance.md", performance_md(r))
    plots(r)
    print(f"report.py: docs/performance.md and docs/plots/ from {r['command']} ({r['date']})")


if __name__ == "__main__":
    main()
