"""The grading rubric (harness/rubric.ini; its comments document the format)."""
import configparser
import re
from dataclasses import dataclass

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

# Every key, its type and its default; the file may leave any of them out.
GRADE_KEYS = {"deadline": (float, 10), "examples": (int, 10), "timeout": (float, 600),
              "build_timeout": (float, 120), "visibility": (str, "visible")}
LIMIT_KEYS = {"cpu_seconds": (int, 300), "memory_mb": (int, 2048), "build_memory_mb": (int, 1024),
              "runner_memory_mb": (int, 8192), "processes": (int, 512),
              "file_size_mb": (int, 4), "open_files": (int, 1024), "tmp_mb": (int, 256),
              "total_memory_mb": (int, 1024)}
LAB_KEYS = {"points": (float, 10), "bats": (float, 50), "conformance": (float, 50),
            "bats_filter": (str, ""), "conformance_filter": (str, "")}


class RubricError(Exception):
    pass


@dataclass
class LabRule:
    points: float
    bats: float  # weight
    conformance: float  # weight
    bats_filter: str
    conformance_filter: str


@dataclass
class Rubric:
    path: str
    grade: dict
    limits: dict
    labs: dict  # lab name -> LabRule


def _values(cp, section, keys, base, path):
    out = dict(base)
    if not cp.has_section(section):
        return out
    for key, raw in cp.items(section):
        if key not in keys:
            raise RubricError(f"{path}: unknown key '{key}' in [{section}]")
        kind = keys[key][0]
        try:
            value = kind(raw.strip())
        except ValueError:
            raise RubricError(f"{path}: [{section}] {key} = {raw!r} is not a {kind.__name__}")
        if kind is not str and value < 0:
            raise RubricError(f"{path}: [{section}] {key} must not be negative")
        out[key] = value
    return out


def load(path, labs):
    """Read the rubric at path for the lab names given; RubricError if it is wrong."""
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"),
                                   inline_comment_prefixes=None, default_section="-none-")
    try:
        with open(path, encoding="utf-8") as f:
            cp.read_file(f)
    except (OSError, configparser.Error, UnicodeDecodeError) as e:
        raise RubricError(f"{path}: {e}")
    for section in cp.sections():
        if section not in ("grade", "limits", "lab") and section not in labs:
            raise RubricError(f"{path}: unknown section [{section}] (labs: {', '.join(labs)})")
    defaults = lambda keys: {k: d for k, (_, d) in keys.items()}  # noqa: E731
    grade = _values(cp, "grade", GRADE_KEYS, defaults(GRADE_KEYS), path)
    if grade["visibility"] not in VISIBILITIES:
        raise RubricError(f"{path}: visibility must be one of {', '.join(VISIBILITIES)}")
    limits = _values(cp, "limits", LIMIT_KEYS, defaults(LIMIT_KEYS), path)
    lab_base = _values(cp, "lab", LAB_KEYS, defaults(LAB_KEYS), path)
    rules = {}
    for lab in labs:
        v = _values(cp, lab, LAB_KEYS, lab_base, path)
        if v["bats_filter"]:
            try:
                re.compile(v["bats_filter"])
            except re.error as e:
                raise RubricError(f"{path}: [{lab}] bats_filter: {e}")
        if v["points"] > 0 and v["bats"] + v["conformance"] == 0:
            raise RubricError(f"{path}: [{lab}] has points but both weights are 0")
        rules[lab] = LabRule(**v)
    return Rubric(path, grade, limits, rules)
