"""Acquisition: a source's bytes, fetched safely (file:// or http(s)://) with provenance.

    fetch()        one URL -> checked bytes + FetchRecord, kept in the raw store   (fetch.py)
    HttpClient     the one shared HTTP resource with timeouts/retries/caps/rules  (http.py)
    SourcePolicy   per-source allowlist, expected format, caps, budget           (policy.py)
    FetchRecord    provenance of one fetch                                        (provenance.py)
    sniff          content checks and strict decoding                             (sniff.py)
    errors         typed `AcquireError`s                                          (errors.py)
"""
