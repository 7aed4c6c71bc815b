"""The pre-appointment briefing graph (gather -> compose -> verify -> render)."""
