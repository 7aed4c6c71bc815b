"""Long-term memory in Chroma: four collections (notes with care-team messages, literature,
documents, preferences) of vectors Steve embeds itself. inputs.py checks and chunks what goes
in, chroma.py opens the client, store.py is the store; sync.py and reindex.py keep it in step
with the database, retrieval.py and lexical.py search it.
"""
