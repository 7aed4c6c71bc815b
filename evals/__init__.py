"""Quality evaluations with labelled data, run on the demo practice: retrieval/ measures how
well memory search finds the records a query is about.
"""
