"""`python -m evals.retrieval [--ranker bm25]`: print recall@5 and MRR as Markdown."""

from __future__ import annotations

import argparse
import sys

from evals.retrieval.demo import build_corpus
from evals.retrieval.rankers import RANKERS
from evals.retrieval.runner import DemoMismatch, check_demo, load_queries, report, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.retrieval")
    parser.add_argument("--ranker", choices=sorted(RANKERS), default="bm25")
    args = parser.parse_args(argv)
    meta, queries = load_queries()
    corpus = build_corpus()
    try:
        check_demo(meta, queries, corpus)
    except DemoMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(run(RANKERS[args.ranker](), corpus, queries), args.ranker))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
