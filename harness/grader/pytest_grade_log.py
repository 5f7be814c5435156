"""A pytest plugin harness/grade loads into every conformance run (pytest -p pytest_grade_log):
the run's results, as pytest itself has them, appended as JSON lines to the file $GRADE_LOG
(in a directory of the grader's that no program under test can open):

    {"collected": [{"nodeid": ..., "name": ...}, ...]}     once, before the first test runs
    {"nodeid": ..., "when": "setup|call|teardown", "outcome": "passed|failed|skipped",
     "duration": S, "message": ..., "text": ...}             one per report, as it comes

so that the grader reads verdicts from pytest's own hooks, not from what was printed (a
program's output could look like anything), and knows which tests a run that was killed
or out of time had finished.  Each line is written and flushed at once.  The reports'
texts stop where the file would come near the file-size limit (RLIMIT_FSIZE), so that the
outcomes always fit.
"""
import json
import os
import resource

TEXT_MAX = 6000  # characters of a failure's report kept
RESERVE = 256 << 10  # bytes kept for outcomes once the texts stop


def _budget():
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    limit = 8 << 20 if soft == resource.RLIM_INFINITY else min(soft, 8 << 20)
    return max(0, limit - RESERVE)


_state = {"size": 0, "budget": None}


def _write(record):
    path = os.environ.get("GRADE_LOG")
    if not path:
        return
    if _state["budget"] is None:
        _state["budget"] = _budget()
    line = json.dumps(record, ensure_ascii=True) + "\n"
    if _state["size"] + len(line) > _state["budget"] and ("text" in record or "message" in record):
        record = {k: v for k, v in record.items() if k not in ("text", "message")}
        record["message"] = "(details left out: the log is at its size limit)"
        line = json.dumps(record, ensure_ascii=True) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
        _state["size"] += len(line)
    except OSError:
        pass  # past the file-size limit: the grader counts what is missing as not reported


def pytest_collection_finish(session):
    _write({"collected": [{"nodeid": item.nodeid, "name": item.name} for item in session.items]})


def pytest_runtest_logreport(report):
    record = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
              "duration": round(float(report.duration or 0), 3)}
    if report.outcome != "passed":
        crash = getattr(report.longrepr, "reprcrash", None)
        if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
            record["message"] = str(report.longrepr[-1])[:TEXT_MAX]  # (file, line, reason)
        else:
            record["message"] = (crash.message if crash is not None else "").split("\n")[0][:500]
            text = report.longreprtext or ""
            if len(text) > TEXT_MAX:
                text = text[:TEXT_MAX] + f"\n[... {len(text) - TEXT_MAX} more characters]"
            record["text"] = text
    _write(record)
