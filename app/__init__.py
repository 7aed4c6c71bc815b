"""The ways into Steve: the `steve` command line (cli/), the HTTP API (api/) and web pages
(web/), the settings they share (settings.py) and what they build from them: briefing runs,
chat sessions, the memory store, patient erasure.
"""
