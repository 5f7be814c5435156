"""The instructor's grader behind harness/grade (see harness/grade --help):

    cli.py         the command line and the grading run: submissions in, results out
    submission.py  finding a learner's sources in a directory or a (hostile) archive
    sandbox.py     running builds and tests isolated, bounded in time, output and resources
    init.py        the first process inside each sandbox
    results.py     reading TAP and JUnit results, scoring, and writing the outputs
    rubric.py      reading harness/rubric.ini
"""
