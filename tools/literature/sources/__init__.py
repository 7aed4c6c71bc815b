"""Where articles come from: PubMed E-utilities (pubmed.py, pubmed_xml.py), journal RSS and
Atom feeds (feeds.py, feed_text.py), saved files for offline runs (offline.py), over one
rate-limited HTTP client (http.py, ratelimit.py); harvest.py runs a fetch across them.
"""
