"""Partners' DCAT catalogs harvested as sources (`kind: dcat_catalog` in the run config).

Data flow of one partner: `harvest` (catalog -> checksum-verified dump, or the event
stream's new pages) -> `records` (the partner's statements per record, kept as
`partner.nt`) -> `adapter` (canonical rows, for identity links, checks and exports) ->
the gate (`gate/source.py`, which publishes the partner's own statements). `spec` makes
the `SourceSpec` of each partner of a run config; `options` is what the config may say.
"""
