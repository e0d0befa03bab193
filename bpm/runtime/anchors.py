"""Anchors: the chains' heads, bound together and signed with a key the database never holds.

A hash chain can be rewritten by anyone who can write to the database: edit
an entry, recompute every hash after it, move the head. An anchor stops
that. Every ``BPM_AUDIT_ANCHOR_MINUTES`` the worker takes every chain's head
(chain, position, hash), computes their Merkle root (leaves: SHA-256 of each
head's canonical JSON, sorted by chain; pairs hashed up, an odd one carried),
signs the root with ``BPM_AUDIT_SIGNING_KEY`` (Ed25519), stores the anchor
and appends it as a JSON line to ``BPM_AUDIT_ANCHOR_FILE`` (keep that on
another host, or ship it on). ``verify`` then checks every anchor: its heads
still make its root, the signature is the key's, and each anchored entry
still has the hash the anchor signed — so a rewritten chain shows at the
first anchored entry it changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import select

from bpm.errors import InvalidRequest
from bpm.runtime.runtime import Runtime
from bpm.store.chain import canonical, stamp
from bpm.store.models import AuditAnchor, AuditChainHead, HistoryEntry
from bpm.store.uow import UnitOfWork


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
    """The Merkle root of heads ``[[chain, position, hash], ...]`` (sorted by chain); of none, SHA-256 of ``[]``."""
    level = [hashlib.sha256(canonical(head)).digest() for head in heads]
    if not level:
        return hashlib.sha256(b"[]").hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0].hex()


def make_anchor(rt: Runtime) -> AuditAnchor | None:
    """Anchor every chain's head now (None without a signing key)."""
    if not rt.settings.audit_signing_key:
        return None
    key = load_key(rt.settings.audit_signing_key)
    with rt.uow() as uow:
        heads = [[row.chain, row.position, row.entry_hash] for row in uow.session.exec(
            select(AuditChainHead).order_by(AuditChainHead.chain)).all()]
        root = merkle_root(heads)
        anchor = AuditAnchor(at=rt.now(), heads=heads, root=root, signature=key.sign(bytes.fromhex(root)).hex(),
                             key_id=key_id(key.public_key()))
        uow.session.add(anchor)
        uow.commit()
        uow.session.refresh(anchor)
        uow.session.expunge(anchor)
    if rt.settings.audit_anchor_file:
        line = {"id": anchor.id, "at": stamp(anchor.at), "chains": len(heads), "root": root,
                "signature": anchor.signature, "keyId": anchor.key_id}
        with Path(rt.settings.audit_anchor_file).open("ab") as file:
            file.write(orjson.dumps(line) + b"\n")
    return anchor


def anchor_problems(uow: UnitOfWork, public: Ed25519PublicKey | None) -> list[tuple[str, int | None, str]]:
    """(chain, position, problem) for every anchor that no longer holds, and every entry it shows rewritten."""
    found: list[tuple[str, int | None, str]] = []
    for anchor in uow.session.exec(select(AuditAnchor).order_by(AuditAnchor.id)).all():
        name = f"anchor {anchor.id} of {stamp(anchor.at)}"
        if merkle_root(anchor.heads) != anchor.root:
            found.append((name, None, "its heads no longer make its root: the anchor itself was altered"))
            continue
        if public is not None:
            try:
                public.verify(bytes.fromhex(anchor.signature), bytes.fromhex(anchor.root))
            except (InvalidSignature, ValueError):
                found.append((name, None, "its signature is not the audit key's: forged or altered"))
                continue
        for chain, position, digest in anchor.heads:
            entry = uow.session.exec(select(HistoryEntry).where(HistoryEntry.instance_id == chain,
                                                                HistoryEntry.position == position)).first()
            if entry is None or entry.entry_hash != digest:
                found.append((chain, position, f"{name} signed a different entry here: the chain was rewritten"))
    return found
