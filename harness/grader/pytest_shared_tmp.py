"""A pytest plugin harness/grade loads into conformance runs (pytest -p pytest_shared_tmp)
when the programs under test run as another uid than pytest itself.

pytest makes its temporary directories (tmp_path, tmp_path_factory) mode 0700, and tests
hand files in them to the programs (lesson 05's key files): that uid could not read them,
and the submission would lose points for the grader's doing.  So each directory pytest
makes, and the ones above it up to /tmp, become 0711: passable, not listable.
"""
import os

from _pytest.tmpdir import TempPathFactory

_mktemp = TempPathFactory.mktemp


def mktemp(self, basename, numbered=True):
    path = _mktemp(self, basename, numbered)
    top = self.getbasetemp().parent  # pytest-of-USER
    for d in (path, *path.parents):
        os.chmod(d, 0o711)
        if d == top:
            break
    return path


TempPathFactory.mktemp = mktemp
