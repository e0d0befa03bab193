"""Anchors: the chains' heads, bound together and signed with a key the database never holds.

A hash chain can be rewritten by anyone who can write to the database: edit
an entry, recompute every hash after it, move the head. An anchor stops
that. Every ``BPM_AUDIT_ANCHOR_MINUTES`` the worker takes the heads (chain,
position, hash) that moved since the last anchor, computes the Merkle root
of the last anchor's root and those heads (leaves: SHA-256 of each one's
canonical JSON, heads sorted by chain; pairs hashed up, an odd one carried),
signs it with ``BPM_AUDIT_SIGNING_KEY`` (Ed25519), stores the anchor and
appends it as a JSON line to ``BPM_AUDIT_ANCHOR_FILE`` (keep that on another
host, or ship it on). An anchor costs what moved, not what exists. ``verify``
then checks every anchor: its leaves still make its root, the signature is
the key's, it follows the anchor before, and each chain's entry at its
newest signed position still has the signed hash — so a rewritten chain
shows at its anchored entry.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bpm.errors import ConflictError, InvalidRequest
from bpm.runtime.runtime import Runtime
from bpm.store.chain import GENESIS, canonical, stamp
from bpm.store.models import AuditAnchor
from bpm.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


def new_key() -> str:
    """A fresh Ed25519 private key, PEM (what ``bpm audit keygen`` prints)."""
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()).decode()


def load_key(pem: str) -> Ed25519PrivateKey:
    """The signing key from its PEM (InvalidRequest if it is not an Ed25519 private key)."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidRequest("BPM_AUDIT_SIGNING_KEY is not a PEM private key",
                             {"BPM_AUDIT_SIGNING_KEY": ["an Ed25519 key, as `bpm audit keygen` prints"]}) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidRequest("BPM_AUDIT_SIGNING_KEY is not an Ed25519 key",
                             {"BPM_AUDIT_SIGNING_KEY": ["an Ed25519 key, as `bpm audit keygen` prints"]})
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def merkle_root(heads: list[list]) -> str:
    """The Merkle root of leaves ``[[chain, position, hash], ...]``; of none, SHA-256 of ``[]``.

    A leaf is the SHA-256 of its canonical JSON; for a list of texts and whole numbers that is exactly what
    orjson writes, so the leaves skip the canonical form's walk (a tampered leaf with a float in it simply
    hashes differently, as it should).
    """
    level = [hashlib.sha256(orjson.dumps(head) if _plain_leaf(head) else canonical(head)).digest()
             for head in heads]
    if not level:
        return hashlib.sha256(b"[]").hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0].hex()


def _plain_leaf(head: object) -> bool:
    return isinstance(head, list) and all(isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
                                          for v in head)


def leaves(anchor: AuditAnchor) -> list[list]:
    """What an anchor's root is made of: the root of the anchor before it (when it names one), then its heads."""
    return ([["previous", anchor.previous]] if anchor.previous is not None else []) + list(anchor.heads)


def make_anchor(rt: Runtime) -> AuditAnchor | None:
    """Anchor every chain head that moved since the last anchor (None without a key, or when none moved).

    Each anchor signs the root of the one before it too, so the anchors form a chain of their own: removing
    one from the database shows at the next. Two anchorers at once cannot fork it (``previous`` is unique:
    the second fails and anchors next time).
    """
    if not rt.settings.audit_signing_key:
        return None
    key = load_key(rt.settings.audit_signing_key)
    with rt.uow() as uow:
        last = uow.anchors.newest()
        heads = uow.anchors.moved_heads()
        if not heads and last is not None:
            return None
        anchor = AuditAnchor(at=rt.now(), previous=last.root if last is not None else GENESIS, heads=heads, root="",
                             signature="", key_id=key_id(key.public_key()))
        anchor.root = merkle_root(leaves(anchor))
        anchor.signature = key.sign(bytes.fromhex(anchor.root)).hex()
        uow.objects.add(anchor)
        uow.anchors.mark_anchored(heads)
        try:
            uow.commit()
        except ConflictError:
            return None  # another worker anchored at the same moment; what moved is in its anchor
        uow.objects.reload(anchor)
        uow.objects.detach(anchor)
    if rt.settings.audit_anchor_file:
        with Path(rt.settings.audit_anchor_file).open("ab") as file:
            file.write(orjson.dumps(anchor_line(anchor)) + b"\n")
    return anchor


def anchor_line(anchor: AuditAnchor) -> dict[str, object]:
    """What leaves the database of an anchor: enough to hold it against the database's copy later."""
    return {"id": anchor.id, "at": stamp(anchor.at), "previous": anchor.previous, "chains": len(anchor.heads),
            "root": anchor.root, "signature": anchor.signature, "keyId": anchor.key_id}


@dataclass
class AnchorCheck:
    """What the anchors say: their own problems, and per chain the newest signed (position, hash)."""

    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    signed: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # chain -> (anchor name, position, hash)
    count: int = 0


def anchor_name(anchor: AuditAnchor) -> str:
    return f"anchor {anchor.id} of {stamp(anchor.at)}"


def check_anchors(uow: UnitOfWork, public: Ed25519PublicKey | None, anchor_file: str = "",
                  chain: str | None = None) -> AnchorCheck:
    """Every anchor's root, signature and place after the one before; the newest signed head of each chain.

    A chain's entries up to its newest signed position are bound by the chain's own links to that one
    signed hash, so checking each chain against its newest anchor checks it against all of them. With the
    anchor file, an anchor it lists that the database lost (or holds differently) is a problem too.

    With ``chain``, only the newest anchor that signed that chain is checked (root and signature): what one
    instance's verification needs; the anchors' own chain and the file are the whole run's to check.
    """
    if chain is not None:
        return _check_newest_of(uow, public, chain)
    found = AnchorCheck()
    before: str | None = None
    roots: dict[int, str] = {}
    rows = uow.anchors.in_order()
    for anchor in rows:
        found.count += 1
        name = anchor_name(anchor)
        roots[int(anchor.id or 0)] = anchor.root
        expected_before, before = before, anchor.root
        problem = anchor_problem(anchor, public)
        if problem is not None:
            found.problems.append((name, None, problem))
            continue
        if anchor.previous is not None and anchor.previous != (expected_before or GENESIS):
            found.problems.append((name, None, "it does not follow the anchor before it: anchors were removed"))
        for chain, position, digest in anchor.heads:
            found.signed[chain] = (name, int(position), str(digest))
    _check_file(found, anchor_file, roots)
    return found


def anchor_problem(anchor: AuditAnchor, public: Ed25519PublicKey | None) -> str | None:
    """What is wrong with an anchor itself (its root, its signature), or None."""
    if merkle_root(leaves(anchor)) != anchor.root:
        return "its heads no longer make its root: the anchor itself was altered"
    if public is not None:
        try:
            public.verify(bytes.fromhex(anchor.signature), bytes.fromhex(anchor.root))
        except (InvalidSignature, ValueError):
            return "its signature is not the audit key's: forged or altered"
    return None


def _check_newest_of(uow: UnitOfWork, public: Ed25519PublicKey | None, chain: str) -> AnchorCheck:
    found = AnchorCheck()
    anchor = uow.anchors.newest_signing(chain)
    if anchor is None:
        return found
    found.count = 1
    problem = anchor_problem(anchor, public)
    if problem is not None:
        found.problems.append((anchor_name(anchor), None, problem))
        return found
    for name, position, digest in anchor.heads:
        if name == chain:
            found.signed[chain] = (anchor_name(anchor), int(position), str(digest))
    return found


def _check_file(found: AnchorCheck, anchor_file: str, roots: dict[int, str]) -> None:
    if anchor_file and Path(anchor_file).is_file():
        for number, raw in enumerate(Path(anchor_file).read_bytes().splitlines(), 1):
            try:
                line = orjson.loads(raw)
                anchor_id, root = int(line["id"]), str(line["root"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                found.problems.append((f"anchor file line {number}", None, "not an anchor line"))
                continue
            if roots.get(anchor_id) != root:
                found.problems.append((f"anchor {anchor_id} (anchor file line {number})", None,
                                       "the database no longer holds this anchor as the anchor file has it: "
                                       "removed or replaced"))
