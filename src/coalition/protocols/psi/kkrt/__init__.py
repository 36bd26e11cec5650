"""KKRT16 OT-extension PSI (Kolesnikov, Kumaresan, Rosulek, Trieu, CCS 2016): the default
engine for balanced 2-party PSI. Protocol, leakage, parameters and bounds: :mod:`.spec`.

Engines follow the PSI package's shape, ``Session -> PsiResult``:
:func:`run_kkrt_guest` (receiver, learns the intersection) and :func:`run_kkrt_host` (sender).
"""

from coalition.protocols.psi.kkrt.receiver import run_kkrt_guest
from coalition.protocols.psi.kkrt.sender import run_kkrt_host

__all__ = ["run_kkrt_guest", "run_kkrt_host"]
