"""run.py - `make bench`: each lesson's C solution beside its Python original, under one C load generator.

    run.py [--quick] [--build DIR]

Starts each server (C, then Python) on port 0, reads its "listening on" line
with a deadline, drives it with build/bench/loadgen, and stops it (SIGTERM to
its process group, then SIGKILL). Every run repeats REPS times; the table shows
the median, the spread ((max - min) / median) and C/Python. Everything goes to
build/bench/results.json too, which report.py turns into docs/performance.md.
Standard library only; no step waits without a deadline, and a Ctrl-C or an
error still stops every server started.
"""
import argparse
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "harness" / "reference"
PY = [sys.executable, "-u"]  # the interpreter make chose (harness/find-python)
LIVE = set()  # servers running now: stopped in main()'s finally, whatever happens


class BenchError(Exception):
    pass


class Server:
    """A server in its own process group, up once it has printed `listening on HOST:PORT`."""

    def __init__(self, argv, deadline=10):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        LIVE.add(self)
        self.err = b""
        end = time.monotonic() + deadline
        while not (m := re.search(rb"listening on \S+:(\d+)", self.err)):
            left = end - time.monotonic()
            ready = select.select([self.proc.stderr], [], [], max(left, 0))[0]
            chunk = os.read(self.proc.stderr.fileno(), 4096) if ready else b""
            if not chunk:
                self.stop()
                why = "exited" if ready else f"printed no 'listening on' line in {deadline} s"
                raise BenchError(f"{' '.join(map(str, argv))}: {why}: {self.err.decode(errors='replace')}")
            self.err += chunk
        self.port = int(m.group(1))
        # Keep reading stderr, or a chatty server would block on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        while chunk := os.read(self.proc.stderr.fileno(), 4096):
            self.err = (self.err + chunk)[-4096:]

    def stop(self):
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)  # the whole group: fork's children too
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        LIVE.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def loadgen(build, mode, port, *args, seconds, grace=1.0):
    """One run of the load generator: its JSON line as a dict."""
    argv = [str(build / "bench" / "loadgen"), mode, "--seconds", str(seconds), "--grace", str(grace)]
    argv += (["--port", str(port)] if port else []) + [str(a) for a in args]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + grace + 30)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv)}: still running after {seconds + grace + 30:.0f} s")
    lines = p.stdout.strip().splitlines()
    if not lines:
        raise BenchError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(lines[-1])


def summary(values):
    """Median, min, max and the spread (max - min) / median of repeated runs."""
    med = statistics.median(values)
    return {"median": med, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / med if med else 0.0}


def servers(lesson, *args, py_args=()):
    """The C solution's and the Python reference's command lines for a lesson's server."""
    c = [str(BUILD / "solutions" / lesson / "server"), "--host", "127.0.0.1", "--port", "0", *args]
    py = [*PY, str(REF / lesson / "server.py"), "--host", "127.0.0.1", "--port", "0", *py_args]
    return {"c": c, "py": py}


# The side-by-side table: (id, lesson dir, what, unit, server args, loadgen mode and args, metric).
def table_specs(quick):
    bulk = ["--size", 1 << 20]
    return [
        ("01-echo-1", "01-tcp", "echo round trips, 1 client", "/s", (), ("echo", "--per-conn", 100), "rate"),
        ("01-echo-8", "01-tcp", "echo round trips, 8 clients", "/s", (),
         ("echo", "--per-conn", 100, "--clients", 8), "rate"),
        ("02-udp", "02-udp", "datagram round trips", "/s", (), ("udp",), "rate"),
        ("04-small", "04-struct-framing", "small frames, request/response", "/s", ("--echo",),
         ("frame",), "rate"),
        ("04-pipelined", "04-struct-framing", "small frames, 16 pipelined", "/s", ("--echo",),
         ("frame", "--depth", 16), "rate"),
        ("04-bulk", "04-struct-framing", "1 MiB frames (payload each way)", "MB/s", ("--echo",),
         ("frame", *bulk), "bytes_per_s"),
        ("05-md5", "05-hmac-auth", "handshakes, md5", "/s", (), ("hmac",), "rate"),
        ("05-sha256", "05-hmac-auth", "handshakes, sha256", "/s", ("--digest", "sha256"),
         ("hmac", "--digest", "sha256"), "rate"),
    ]


def measure(fn, reps):
    """Run fn() reps times; a list of the loadgen results."""
    return [fn() for _ in range(reps)]


def run_table(cfg):
    rows = []
    for rid, lesson, what, unit, sargs, load, metric in table_specs(cfg.quick):
        row = {"id": rid, "lesson": lesson[:2], "what": what, "unit": unit}
        for impl, argv in servers(lesson, *sargs, py_args=sargs).items():
            # Python's 05 server writes a warning first; its listen line comes after.
            with Server(argv) as srv:
                if cfg.warmup:  # not counted: the first requests pay for caches and allocators
                    loadgen(BUILD, load[0], srv.port, *load[1:], seconds=cfg.warmup)
                runs = measure(lambda: loadgen(BUILD, load[0], srv.port, *load[1:],
                                               seconds=cfg.seconds), cfg.reps)
            scale = 1e-6 if metric == "bytes_per_s" else 1
            row[impl] = summary([r[metric] * scale for r in runs])
            row[impl]["errors"] = sum(r["errors"] for r in runs)
            row[impl]["runs"] = runs
        row["ratio"] = row["c"]["median"] / row["py"]["median"] if row["py"]["median"] else None
        rows.append(row)
        show_row(row)
    return rows


def free_port():
    """A port free now, for iperf3, which cannot take port 0; retried if taken meanwhile."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_limit(cfg):
    """One TCP stream's MB/s on loopback: iperf3 if installed, else loadgen's raw mode."""
    if shutil.which("iperf3"):
        return iperf3_limit(cfg)
    runs = measure(lambda: loadgen(BUILD, "raw", 0, seconds=cfg.seconds)["bytes_per_s"] / 1e6,
                   cfg.reps)
    return {"tool": "loadgen raw", **summary(runs)}


def iperf3_limit(cfg):
    """iperf3 once per repetition, each with its own one-off server."""
    secs = max(1, round(cfg.seconds))
    runs = []
    while len(runs) < cfg.reps:
        port = free_port()
        srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port), "--forceflush"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # iperf3 prints "Server listening on PORT" once it is up; it exits if the port is taken.
            end, seen, chunk = time.monotonic() + 10, b"", b"-"
            while b"listening" not in seen and chunk:
                if not select.select([srv.stdout], [], [], max(end - time.monotonic(), 0))[0]:
                    raise BenchError("iperf3 -s did not start within 10 s")
                chunk = os.read(srv.stdout.fileno(), 4096)
                seen += chunk
            if b"listening" not in seen:
                continue  # the port was taken meanwhile: another one
            p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(secs), "-J"],
                               capture_output=True, text=True, timeout=secs + 30)
            runs.append(json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 8e6)
        finally:
            try:
                os.killpg(srv.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            srv.wait(5)
    return {"tool": "iperf3", **summary(runs)}


def json_doc():
    """A lesson 04 payload of a realistic shape: records with text, numbers, nesting, non-ASCII."""
    return [{"id": i, "message": "Hello, Server", "user": f"user{i:05d}", "score": i * 1.25 + 0.1,
             "ratio": 1 / (i + 3), "tags": ["alpha", "beta", "caf\u00e9"], "ok": i % 2 == 0,
             "parent": None, "text": "na\u00efve caf\u00e9 \u2615 " * 3, "pos": {"x": i, "y": -i}}
            for i in range(500)]


def json_codec(cfg):
    """The C codec (jsonbench) and Python's json, in process, on the same bytes: MB/s."""
    text = json.dumps(json_doc()).encode()
    path = BUILD / "bench" / "doc.json"
    path.write_bytes(text)
    c = [json.loads(subprocess.run([str(BUILD / "bench" / "jsonbench"), str(path), str(cfg.seconds)],
                                   capture_output=True, text=True, check=True,
                                   timeout=cfg.seconds + 30).stdout) for _ in range(cfg.reps)]
    if not all(r["same_bytes"] for r in c):
        raise BenchError("jsonbench: json_dump did not give json.dumps's bytes back")

    def rate(fn):  # MB/s of the document, over half the time, as jsonbench does
        t0, n = time.perf_counter(), 0
        while n == 0 or time.perf_counter() - t0 < cfg.seconds / 2:
            fn()
            n += 1
        return n * len(text) / (time.perf_counter() - t0) / 1e6

    obj = json.loads(text)
    # As lesson 04's server does: decode the UTF-8 bytes, and encode back to bytes.
    py = [(rate(lambda: json.loads(text)), rate(lambda: json.dumps(obj).encode()))
          for _ in range(cfg.reps)]
    rows = []
    for i, way in enumerate(("decode", "encode")):
        cs = summary([r[f"{way}_mb_s"] for r in c])
        ps = summary([p[i] for p in py])
        rows.append({"id": f"04-json-{way}", "lesson": "04", "unit": "MB/s",
                     "what": f"JSON {way} ({len(text) // 1000} kB document, in process)",
                     "c": cs, "py": ps, "ratio": cs["median"] / ps["median"]})
        show_row(rows[-1])
    return rows


MODELS = ["thread", "fork", "pool", "poll"]


def concurrency(cfg):
    """06: connections/s and latency at each number of concurrent clients, every server design."""
    out = []
    for name in MODELS + ["python"]:
        argv = (servers("06-concurrency")["py"] if name == "python"
                else servers("06-concurrency", "--model", name)["c"])
        with Server(argv) as srv:
            if cfg.warmup:
                loadgen(BUILD, "upper", srv.port, "--clients", 32, seconds=cfg.warmup, grace=cfg.grace)
            for clients in cfg.clients:
                runs = measure(lambda: loadgen(BUILD, "upper", srv.port, "--clients", clients,
                                               seconds=cfg.seconds, grace=cfg.grace), cfg.reps)
                row = {"server": name, "clients": clients, **summary([r["rate"] for r in runs]),
                       **{k: statistics.median(r[k] for r in runs) for k in ("p50_ms", "p99_ms")},
                       "max_ms": max(r["max_ms"] for r in runs),
                       **{k: sum(r[k] for r in runs) for k in ("stalled", "timed", "unfinished", "errors", "ops")},
                       "runs": runs}
                out.append(row)
                print(f"  06 {name:<7} {clients:>4} clients {row['median']:>9.0f} conn/s "
                      f"±{100 * row['spread']:.0f}%  p50 {row['p50_ms']:.2f} ms  p99 "
                      f"{row['p99_ms']:.1f} ms  max {row['max_ms']:.0f} ms  stalled >= 1 s: "
                      f"{row['stalled']} of {row['timed']}"
                      + (f"  ERRORS {row['errors']}" if row["errors"] else ""), flush=True)
    return out


def idle(cfg):
    """06: silent connections held, and the server's RSS growth per connection."""
    out = []
    for name, counts in cfg.idle:
        argv = (servers("06-concurrency")["py"] if name == "python"
                else servers("06-concurrency", "--model", name)["c"])
        for n in counts:
            with Server(argv) as srv:
                extra = ["--threaded"] if name in ("thread", "python") else []
                r = loadgen(BUILD, "idle", srv.port, "--conns", n, "--pid", srv.proc.pid, *extra,
                            seconds=60, grace=0)
            out.append({"server": name, **r})
            print(f"  06 idle {name:<7} {n:>6} connections: RSS {r['rss_before_kb'] / 1024:.1f} -> "
                  f"{r['rss_after_kb'] / 1024:.1f} MB, {r['bytes_per_conn'] / 1024:.1f} kB each",
                  flush=True)
    return out


def show_row(r):
    unit = r["unit"]
    err = "  ERRORS" if r["c"].get("errors") or r["py"].get("errors") else ""
    print(f"  {r['lesson']} {r['what']:<46} C {r['c']['median']:>10.1f} ±{100 * r['c']['spread']:>3.0f}%"
          f"   Python {r['py']['median']:>9.1f} ±{100 * r['py']['spread']:>3.0f}%  {unit:<5}"
          f"  C/Py {r['ratio']:.1f}x{err}", flush=True)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    cc = subprocess.run([os.environ.get("CC", "cc"), "--version"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "") if hasattr(
                platform, "freedesktop_os_release") else "",
            "python": platform.python_version(), "cc": cc.stdout.splitlines()[0] if cc.stdout else "",
            "loadavg_start": os.getloadavg(), "nofile": subprocess.run(
                ["sh", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip()}


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    global BUILD
    ap = argparse.ArgumentParser(description="make bench: C against Python, one load generator.")
    ap.add_argument("--quick", action="store_true", help="one short run of each (CI: it runs)")
    ap.add_argument("--build", default="build", help="where make built everything (build)")
    cfg = ap.parse_args()
    BUILD = ROOT / cfg.build
    cfg.reps, cfg.seconds, cfg.grace, cfg.warmup = (1, 0.2, 1.2, 0) if cfg.quick else (3, 1.0, 1.2, 0.2)
    cfg.clients = [1, 32, 256]
    cfg.idle = ([("poll", [1000, 10000])] if cfg.quick else
                [("poll", [1000, 10000]), ("thread", [1000, 10000])])
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, through the finally below.
    signal.signal(signal.SIGTERM, interrupted)
    t0 = time.monotonic()
    res = {"command": "make bench" + (" QUICK=1" if cfg.quick else ""), "quick": cfg.quick,
           "date": time.strftime("%Y-%m-%d %H:%M %Z"), "reps": cfg.reps, "seconds": cfg.seconds,
           "machine": machine()}
    print(f"bench: {res['command']}: {cfg.reps} run(s) of {cfg.seconds} s each; "
          f"load average {res['machine']['loadavg_start'][0]:.2f}", flush=True)
    try:
        res["table"] = run_table(cfg)
        res["table"] += json_codec(cfg)
        res["loopback"] = loopback_limit(cfg)
        bulk = next(r for r in res["table"] if r["id"] == "04-bulk")
        print(f"  loopback limit ({res['loopback']['tool']}): {res['loopback']['median']:.0f} MB/s; "
              f"04 bulk is {100 * bulk['c']['median'] / res['loopback']['median']:.0f}% of it (C), "
              f"{100 * bulk['py']['median'] / res['loopback']['median']:.0f}% (Python)", flush=True)
        res["concurrency"] = concurrency(cfg)
        res["idle"] = idle(cfg)
    except (BenchError, subprocess.SubprocessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for srv in list(LIVE):
            srv.stop()
    res["machine"]["loadavg_end"] = os.getloadavg()
    res["duration_s"] = round(time.monotonic() - t0, 1)
    out = BUILD / "bench" / "results.json"
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"bench: done in {res['duration_s']:.0f} s; results in {out.relative_to(ROOT)} "
          f"(make bench-docs writes them into docs/performance.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
