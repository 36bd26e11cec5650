"""Two-party runs without nodes: one protocol role in this process, over the gRPC transport.

What ``coalition psi`` and ``coalition pir`` run: each side's operator holds a certificate
folder (minted here), and the role code of :mod:`coalition.protocols` runs on a
:class:`~coalition.core.context.Context` this layer opens with
:func:`~coalition.transport.grpc.open_grpc_context`. Protocols never open a transport
themselves; wiring a protocol to a network is this layer's job (and the node's, for jobs).

* :mod:`.psi` — private set intersection between two processes;
* :mod:`.pir` — PIR table building, serving and querying.
"""
