"""Print demo documents to help write labels: `python -m evals.retrieval.dump [PATIENT...]`.

With no patient ids, prints the patients with the most notes and messages, then articles.
"""

from __future__ import annotations

import sys
from collections import Counter

from evals.retrieval.demo import build_corpus, text_hash


def main(argv: list[str]) -> int:
    corpus = build_corpus()
    docs = corpus.documents.values()
    if not argv:
        counts = Counter(d.metadata.get("patient_id") for d in docs if "patient_id" in d.metadata)
        for patient, n in counts.most_common(40):
            print(f"patient {patient}: {n} documents")
        wanted = {str(p) for p, _ in counts.most_common(40)}
    else:
        wanted = set(argv)
    for doc in sorted(docs, key=lambda d: (str(d.metadata.get("patient_id", "")), d.id)):
        patient = str(doc.metadata.get("patient_id", "literature"))
        if patient in wanted or (not argv and patient == "literature"):
            print(f"\n[{doc.id}] patient={patient} hash={text_hash(doc.text)} {doc.metadata}")
            print(doc.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
