"""Private three-element verification (三要素核验) as a node service.

A provider (the telco) *publishes* a verification table from a registered dataset (phone, name
and ID-number columns): :func:`.service.publish` builds the keyed match tags of
:mod:`coalition.protocols.verify3` under a fresh OPRF key (an epoch) in the node's crypto suite
and keeps key and tags in ``home/verify3/<service>`` (key file mode 0600, never sent). A partner
(the bank) *queries* a batch of triples (:func:`.service.query`) through three peer methods over
the nodes' mTLS channel (:mod:`.peer_methods`): the manifest, the tags (paged, cached by the
bank per epoch) and one blinded OPRF evaluation per batch.

Trust decisions sit on the provider, in :mod:`.peer`, from its own records: every call needs an
approved, unexpired grant naming ``verify3`` on the service's dataset for the calling
organisation; every evaluation is charged against the partner's quota for the epoch before a
scalar is touched (``quota``: OPRF evaluations, three per padded triple; counted from the stored
batch rows, so it survives a restart). Both sides record each batch (:class:`.tables.
Verify3BatchRow`) and audit it by count: side, partner, service, epoch, elements — never a
phone, a name, an ID number or a flag.
"""
