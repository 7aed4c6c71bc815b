"""Prompt and email templates, as files loaded by name. None yet: the agent issue adds them."""
