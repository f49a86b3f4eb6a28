"""Scale-out on Ray: program execution across a cluster (``--ray ADDRESS``).

``RaySandbox`` (``sandbox``) is the driver's side: it starts one ``SandboxActor``
(``actor``) per node, each owning that node's local sandbox pool, and schedules programs
over them with a bounded number in flight per actor (``dispatch``), re-running an actor's
programs elsewhere when it or its node dies. Only the driver writes run files.

Imported only when ``--ray`` is given (``mucode.sandbox.open_sandbox``): nothing else in
mucode imports Ray.
"""
