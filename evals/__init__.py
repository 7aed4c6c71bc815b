"""Quality evaluations with labelled data. None yet: the first arrive with memory retrieval."""
