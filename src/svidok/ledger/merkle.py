"""Merkle tree hashing and proofs for the custody ledger, after RFC 9162 (CT v2).

The custody ledger is an append-only Merkle log as defined in RFC 9162 §2.1:

* a leaf is hashed as ``SHA-256(0x00 || entry)``, an interior node as
  ``SHA-256(0x01 || left || right)``, and the empty tree as ``SHA-256()``
  (§2.1.1, Merkle Tree Hash ``MTH``);
* a tree of ``n > 1`` leaves is split at ``k``, the largest power of two smaller
  than ``n`` (§2.1.1);
* inclusion proofs are ``PATH(m, D[n])`` (§2.1.3.1), checked with the algorithm
  of §2.1.3.2;
* consistency proofs are ``PROOF(m, D[n])`` (§2.1.4.1), checked with the
  algorithm of §2.1.4.2.

RFC 9162 defines ``PROOF(m, D[n])`` only for ``0 < m < n``. Svidok extends it:
between equal sizes the proof is empty and the two roots must be equal; from
size 0 the proof is empty and the first root must be :data:`EMPTY_ROOT`.

The verification functions take untrusted input (sizes, indices, hashes and
proofs read from receipts and checkpoints); anything wrong with it raises
:class:`~svidok.errors.ProofError`. :class:`HashTree` methods raise
:class:`ValueError` or :class:`IndexError` for caller mistakes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from hashlib import sha256

from svidok.errors import ProofError

HASH_SIZE: int = 32
EMPTY_ROOT: bytes = sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || entry)``."""
    return sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _hash_pairs(level: bytes | bytearray, first: int, last: int) -> bytes:
    """Hash pairs ``first`` to ``last - 1`` of a level of concatenated hashes into parents."""
    pair = 2 * HASH_SIZE
    return b"".join(
        [
            sha256(_NODE_PREFIX + level[i : i + pair]).digest()
            for i in range(pair * first, pair * last, pair)
        ]
    )


def _check_leaf_hashes(leaf_hashes: Iterable[bytes]) -> None:
    for i, h in enumerate(leaf_hashes):
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash {i} is {len(h)} bytes long, not {HASH_SIZE}")


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes.

    Works level by level: pairs are hashed and an odd last node is carried up
    unchanged, which gives the same tree as the recursive definition.
    """
    _check_leaf_hashes(leaf_hashes)
    count = len(leaf_hashes)
    if count == 0:
        return EMPTY_ROOT
    level = b"".join(leaf_hashes)
    while count > 1:
        pairs, odd = divmod(count, 2)
        parents = _hash_pairs(level, 0, pairs)
        level = parents + level[-HASH_SIZE:] if odd else parents
        count = pairs + odd
    return level


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"the {what} is {len(value)} bytes long; a hash is {HASH_SIZE} bytes")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(f"proof hash {i}", p)


def _inclusion_proof_size(index: int, size: int) -> int:
    """Number of hashes in PATH(index, D[size]), for ``0 <= index < size``."""
    # Below the level where the paths to leaves `index` and `size - 1` meet, every
    # level contributes a sibling; above it, only levels where `index` is a right child.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_size(size1: int, size2: int) -> int:
    """Number of hashes in PROOF(size1, D[size2]), for ``0 < size1 < size2``."""
    # The proof is the inclusion path of the node holding leaf size1 - 1 at the height
    # of the rightmost complete subtree of the first tree (its width is the lowest set
    # bit of size1), plus that node itself unless it is the whole first tree.
    height = (size1 & -size1).bit_length() - 1
    path = _inclusion_proof_size((size1 - 1) >> height, ((size2 - 1) >> height) + 1)
    return path + (0 if size1 == 1 << height else 1)


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root hash implied by an inclusion proof (RFC 9162 §2.1.3.2, steps 1-4).

    Raises :class:`ProofError` if the index is outside the tree, a hash has the
    wrong length, or the proof has the wrong number of hashes.
    """
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not inside a tree of {size} entries")
    _check_hash("leaf hash", leaf_hash)
    _check_proof(proof)
    want = _inclusion_proof_size(index, size)
    if len(proof) != want:
        raise ProofError(
            f"an inclusion proof for entry {index} of a tree of {size} entries has "
            f"{want} hashes, but this one has {len(proof)}"
        )
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:  # the sn checks cannot fail after the length check; kept as in the RFC
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is entry ``index`` of the tree of ``size`` entries with ``root``.

    Implements RFC 9162 §2.1.3.2. Returns ``None`` on success and raises
    :class:`ProofError` otherwise.
    """
    _check_hash("root hash", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not hmac.compare_digest(computed, root):
        raise ProofError(
            f"the inclusion proof for entry {index} does not lead to the root hash "
            f"of the tree of {size} entries"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` entries with ``root2`` extends the one of ``size1``.

    Implements RFC 9162 §2.1.4.2, extended to ``size1 == size2`` (empty proof,
    equal roots) and ``size1 == 0`` (empty proof, ``root1`` is :data:`EMPTY_ROOT`).
    Returns ``None`` on success and raises :class:`ProofError` otherwise.
    """
    _check_hash("first root hash", root1)
    _check_hash("second root hash", root2)
    _check_proof(proof)
    if not 0 <= size1 <= size2:
        raise ProofError(f"a tree of {size2} entries cannot extend a tree of {size1} entries")
    if size1 == 0 and not hmac.compare_digest(root1, EMPTY_ROOT):
        raise ProofError("the first root hash is not the root hash of an empty tree")
    if size1 == size2 or size1 == 0:
        if proof:
            raise ProofError(
                f"a consistency proof from {size1} to {size2} entries must be empty, "
                f"but this one has {len(proof)} hashes"
            )
        if size1 == size2 and not hmac.compare_digest(root1, root2):
            raise ProofError(f"the two root hashes of the tree of {size1} entries differ")
        return
    want = _consistency_proof_size(size1, size2)
    if len(proof) != want:
        raise ProofError(
            f"a consistency proof from {size1} to {size2} entries has {want} hashes, "
            f"but this one has {len(proof)}"
        )
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:  # the sn checks cannot fail after the length check; kept as in the RFC
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if not hmac.compare_digest(fr, root1):
        raise ProofError(f"the consistency proof does not match the root of {size1} entries")
    if not hmac.compare_digest(sr, root2):
        raise ProofError(f"the consistency proof does not match the root of {size2} entries")


def subtree_levels(first: int, leaves: bytes) -> list[bytes]:
    """Every complete-subtree hash that lies inside the leaves ``[first, first + n)``.

    ``leaves`` are the concatenated hashes of those leaves. Level ``h`` of the result
    holds, in order, the nodes ``i`` with ``first <= i * 2**h`` and ``(i + 1) * 2**h <=
    first + n`` (level 0 is ``leaves``): the part of a whole tree's levels that a reader
    of that range of the log can compute alone (see :meth:`HashTree.from_pieces`).
    """
    levels = [bytes(leaves)]
    node = first  # index, on the current level, of its first node
    while True:
        current = levels[-1]
        skip = node & 1  # an odd first node's sibling lies before the range
        pairs = (len(current) // HASH_SIZE - skip) // 2
        if pairs <= 0:
            return levels
        levels.append(_hash_pairs(current[skip * HASH_SIZE :], 0, pairs))
        node = (node + skip) // 2


class HashTree:
    """Append-only Merkle tree holding all complete-subtree hashes in memory.

    ``self._levels[h]`` is one contiguous bytearray holding, in order, the hash of
    every complete subtree of ``2**h`` leaves, i.e. node ``i`` of level ``h``
    covers leaves ``[i * 2**h, (i + 1) * 2**h)``. Level 0 holds the leaf hashes.
    Any tree hash over a prefix of the leaves is a fold of at most one stored node
    per level, so roots cost O(log n) and proofs, for the current size or any
    earlier one, O(log² n) at worst.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @classmethod
    def from_leaf_bytes(cls, data: bytes) -> HashTree:
        """Build a tree from concatenated 32-byte leaf hashes (a cache file)."""
        if len(data) % HASH_SIZE:
            raise ValueError(f"leaf data is {len(data)} bytes, not a multiple of {HASH_SIZE}")
        tree = cls()
        tree._levels[0] += data
        tree._build_upper_levels()
        return tree

    @classmethod
    def from_pieces(cls, pieces: Sequence[tuple[int, list[bytes]]]) -> HashTree:
        """Join :func:`subtree_levels` of consecutive ranges of leaves, the first starting
        at 0, into one tree; only the nodes that span two ranges are hashed here."""
        tree = cls()
        levels = tree._levels
        expected = 0
        for first, piece in pieces:
            if first != expected:
                raise ValueError(f"a piece starts at leaf {first}, expected {expected}")
            levels[0] += piece[0]
            expected = len(levels[0]) // HASH_SIZE
        size = expected
        height = 1
        while size >> height:
            below, out = levels[height - 1], bytearray()
            for first, piece in pieces:
                if height < len(piece) and piece[height]:
                    start = -(-first >> height)  # first node of this piece on the level
                    have = len(out) // HASH_SIZE
                    out += _hash_pairs(below, have, start)
                    out += piece[height]
            out += _hash_pairs(below, len(out) // HASH_SIZE, size >> height)
            levels.append(out)
            height += 1
        return tree

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; return its index. Amortised O(1) hashing."""
        _check_leaf_hashes((leaf_hash,))
        levels = self._levels
        levels[0] += leaf_hash
        height = 0
        while len(levels[height]) % (2 * HASH_SIZE) == 0:  # the last node completed a pair
            parent = sha256(_NODE_PREFIX + levels[height][-2 * HASH_SIZE :]).digest()
            height += 1
            if height == len(levels):
                levels.append(bytearray())
            levels[height] += parent
        return self.size - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes, hashing new parents a level at a time."""
        new = list(leaf_hashes)
        _check_leaf_hashes(new)
        self._levels[0] += b"".join(new)
        self._build_upper_levels()

    def _build_upper_levels(self) -> None:
        """Hash every complete pair on each level that has no parent stored yet."""
        levels = self._levels
        height = 0
        while len(levels[height]) >= 2 * HASH_SIZE:
            if height + 1 == len(levels):
                levels.append(bytearray())
            child, parent = levels[height], levels[height + 1]
            have, want = len(parent) // HASH_SIZE, len(child) // (2 * HASH_SIZE)
            if want > have:
                parent += _hash_pairs(child, have, want)
            height += 1

    def leaf(self, index: int) -> bytes:
        """Return the hash of leaf ``index``."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is outside a tree of {self.size} leaves")
        return self._node(0, index)

    def leaf_bytes(self, start: int = 0) -> bytes:
        """Leaf hashes from ``start`` on, concatenated (the inverse of :meth:`from_leaf_bytes`)."""
        return bytes(self._levels[0][start * HASH_SIZE :])

    def _node(self, height: int, index: int) -> bytes:
        start = index * HASH_SIZE
        return bytes(self._levels[height][start : start + HASH_SIZE])

    def _subtree_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``; ``start`` is a multiple of a power of two >= width.

        That holds for every subtree the RFC 9162 recursions visit. The range is then
        a run of complete subtrees, widest first, one per set bit of the width.
        """
        width = end - start
        if width == 0:
            return EMPTY_ROOT
        parts: list[bytes] = []
        for height in range(width.bit_length() - 1, -1, -1):
            if width >> height & 1:
                parts.append(self._node(height, start >> height))
                start += 1 << height
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the first ``size`` leaves (default: all). O(log n)."""
        return self._subtree_hash(0, self._check_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[size]) (RFC 9162 §2.1.3.1), lowest level first."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise IndexError(f"leaf {index} is outside a tree of {size} leaves")
        top_down: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = 1 << ((end - start - 1).bit_length() - 1)  # largest power of two < width
            if index < start + k:
                top_down.append(self._subtree_hash(start + k, end))
                end = start + k
            else:
                top_down.append(self._subtree_hash(start, start + k))
                start += k
        top_down.reverse()
        return top_down

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1), lowest level first.

        Empty when ``size1`` is 0 or equals ``size2``.
        """
        size2 = self._check_size(size2)
        if not 0 <= size1 <= size2:
            raise ValueError(f"cannot prove tree size {size1} consistent with size {size2}")
        if size1 == 0:
            return []
        # SUBPROOF(size1 - start, D[start:end], b) unrolled, collecting hashes top down;
        # `known` is the RFC's b: the verifier already has the hash of D[start:size1].
        top_down: list[bytes] = []
        start, end, known = 0, size2, True
        while size1 != end:
            k = 1 << ((end - start - 1).bit_length() - 1)  # largest power of two < width
            if size1 <= start + k:
                top_down.append(self._subtree_hash(start + k, end))
                end = start + k
            else:
                top_down.append(self._subtree_hash(start, start + k))
                start += k
                known = False
        if not known:
            top_down.append(self._subtree_hash(start, end))
        top_down.reverse()
        return top_down
