"""Long-term memory on Chroma (notes, literature, documents, preferences). Not built yet."""
