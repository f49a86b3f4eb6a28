"""Scale-out on Ray: program execution and verifier scoring across a cluster (``--ray``).

``RaySandbox`` (``sandbox``) is the driver's side of program execution: it starts one
``SandboxActor`` (``actor``) per node, each owning that node's local sandbox pool.
``RayScorer`` (``scoring``) does the same for ``verifier score`` with one ``VerifierActor``
per node. Both schedule their jobs over the actors with a bounded number in flight per
actor (``dispatch``), re-running an actor's jobs elsewhere when it or its node dies. Only
the driver writes run files.

Imported only when ``--ray`` is given (``mucode.sandbox.open_sandbox``,
``mucode.commands.verifier``): nothing else in mucode imports Ray.
"""
