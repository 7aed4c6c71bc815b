"""Model instructions and email templates, as files loaded by name (loader.py): the chat
system prompt and its canned replies, briefing, evidence and digest prompts, email templates.
"""
