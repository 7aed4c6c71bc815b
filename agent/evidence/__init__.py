"""Evidence summaries: the graph that summarises an article for a protocol (graph.py) and the
model judge that grades a summary against its abstract (judge.py).
"""
