"""The contracts between the packages, each written once (docs/contracts.md points here).

Standard library only: the API's Lambda bundle and the deployer Lambda ship this package as
it is, beside their own code.

- ``recs_contracts.store``: the ratings store (``store.db``) schema and its reader/writer.
- ``recs_contracts.registry``: the model registry (``registry.db``) schema and its read view.
- ``recs_contracts.dataset``: the RecBole atomic files (``.inter``/``.item``/``.user``) parser.
- ``recs_contracts.serving``: the serving signature and the TF Serving request/response shapes.
- ``recs_contracts.events``: the approval event (source, detail-type, detail).
"""
