"""Capability probe: which SOP classes (and roles) a peer accepts, and why not.

Proposes one presentation context per SOP class of interest, the way ``getscu -d`` lists
them, and reports the result of each (PS3.8 9.3.3.2: 0 acceptance, 1 user rejection,
2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported) and,
for contexts proposed with role selection, whether the role was granted (PS3.7 D.3.3.4).
More than 128 contexts are spread over several associations (PS3.8 9.3.2.2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from pynetdicom import sop_class as sc

from viewer.config import DimseNode
from viewer.errors import NetError
from viewer.cancel import CancelToken
from viewer.net.association import MAX_CONTEXTS, Context, associate, release

log = logging.getLogger(__name__)

#: The SOP classes the viewer uses, with a short name for reports.
PROBE_CLASSES: tuple[tuple[str, str], ...] = (
    ("Verification", sc.Verification),
    ("Patient Root Q/R FIND", sc.PatientRootQueryRetrieveInformationModelFind),
    ("Patient Root Q/R MOVE", sc.PatientRootQueryRetrieveInformationModelMove),
    ("Patient Root Q/R GET", sc.PatientRootQueryRetrieveInformationModelGet),
    ("Study Root Q/R FIND", sc.StudyRootQueryRetrieveInformationModelFind),
    ("Study Root Q/R MOVE", sc.StudyRootQueryRetrieveInformationModelMove),
    ("Study Root Q/R GET", sc.StudyRootQueryRetrieveInformationModelGet),
    ("Modality Worklist FIND", sc.ModalityWorklistInformationFind),
    ("Basic Grayscale Print Management Meta", sc.BasicGrayscalePrintManagementMeta),
    ("Basic Color Print Management Meta", sc.BasicColorPrintManagementMeta),
    ("Presentation LUT", sc.PresentationLUT),
    ("Print Job", sc.PrintJob),
    ("Basic Annotation Box", sc.BasicAnnotationBox),
)

#: Storage classes proposed with SCP role selection, as C-GET needs them.
ROLE_CLASSES: tuple[tuple[str, str], ...] = (
    ("CT Image Storage (SCP role, for C-GET)", sc.CTImageStorage),
    ("MR Image Storage (SCP role, for C-GET)", sc.MRImageStorage),
)


@dataclass(frozen=True)
class ContextResult:
    """What the peer said about one proposed presentation context."""

    name: str
    abstract_syntax: str
    accepted: bool
    #: pynetdicom's text for the result: "Accepted", "Abstract Syntax Not Supported", ...
    reason: str
    transfer_syntax: str = ""
    #: For role-selection proposals: did the peer let us act as SCP (None if not asked).
    scp_role_accepted: bool | None = None

    def line(self) -> str:
        """One report line, ``getscu -d`` style."""
        verdict = "ACCEPTED" if self.accepted else "REJECTED"
        text = f"{verdict:8s} {self.name} ({self.abstract_syntax}): {self.reason}"
        if self.accepted and self.transfer_syntax:
            text += f", transfer syntax {self.transfer_syntax}"
        if self.scp_role_accepted is not None:
            text += ", our SCP role " + ("accepted" if self.scp_role_accepted else "NOT accepted")
        return text


def probe(node: DimseNode, calling_aet: str, classes: Sequence[tuple[str, str]] = PROBE_CLASSES + ROLE_CLASSES,
          token: CancelToken | None = None) -> list[ContextResult]:
    """Propose every class in ``classes`` and report the peer's answer for each.

    Raises
    ------
    NetError
        The association itself was rejected or could not be made; a peer that accepts
        none of the contexts is reported, not raised.
    """
    role_uids = {uid for _, uid in ROLE_CLASSES}
    results: list[ContextResult] = []
    for start in range(0, len(classes), MAX_CONTEXTS):
        chunk = classes[start:start + MAX_CONTEXTS]
        contexts = [Context(uid, scu_role=False, scp_role=True) if uid in role_uids else Context(uid)
                    for _, uid in chunk]
        try:
            assoc = associate(node, calling_aet, contexts, token=token, require_accepted=False)
        except NetError as exc:
            if "accepted none" not in str(exc):
                raise
            results.extend(ContextResult(name, uid, False, "rejected (no context accepted)") for name, uid in chunk)
            continue
        try:
            by_uid = {str(cx.abstract_syntax): cx for cx in assoc.accepted_contexts}
            rejected = {str(cx.abstract_syntax): cx for cx in assoc.rejected_contexts}
            for name, uid in chunk:
                cx = by_uid.get(uid)
                if cx is not None:
                    scp_role = bool(cx.as_scp) if uid in role_uids else None
                    results.append(ContextResult(name, uid, True, "Accepted", str(cx.transfer_syntax[0].name)
                                                 if cx.transfer_syntax else "", scp_role))
                else:
                    rj = rejected.get(uid)
                    reason = rj.status if rj is not None else "not answered"
                    if rj is not None and uid in role_uids and rj.result == 0x01:
                        # PS3.7 D.3.3.4: the acceptor refused our SCP role and SCU was not
                        # proposed, so no role is left and the context is rejected.
                        reason += " (SCP role not accepted)"
                    results.append(ContextResult(name, uid, False, reason, scp_role_accepted=False
                                                 if uid in role_uids else None))
        finally:
            release(assoc)
    for r in results:
        log.debug("probe %s: %s", node.ae_title, r.line())
    return results
