"""Published RFC 6962 Merkle tree reference constants from github.com/transparency-dev/merkle.

Small reference constants quoted (Apache License 2.0, Copyright Google LLC) from the
repository at commit 417fb0c314750d94e53942e9f92e79b6d35915db; each block names the
upstream file it was taken from. Hashes are hex. The corrupted proofs of upstream's
testdata/*.json are not copied: test_merkle.py derives its own from the good proofs below.
"""

from __future__ import annotations

# fmt: off

# testonly/constants.go: LeafInputs()
LEAF_INPUTS: tuple[str, ...] = (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)

# testonly/constants.go: NodeHashes(), complete-subtree hashes by level then index
NODE_HASHES: tuple[tuple[str, ...], ...] = (
    (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ),
    (
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ),
    (
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ),
    ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
)

# testonly/constants.go: EmptyRootHash()
EMPTY_ROOT_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# testonly/constants.go: RootHashes(), indexed by tree size (index 0 is EmptyRootHash())
ROOT_HASHES: tuple[str, ...] = (
    EMPTY_ROOT_HASH,
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)

# rfc6962/rfc6962_test.go: TestRFC6962Hasher
HASHER_EMPTY_LEAF = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"  # leaf ""
HASHER_LEAF = (b"L123456", "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
HASHER_NODE = (
    b"N123", b"N456", "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
)

# cmd/proofgen/main.go: sha256SomeHash, the "random root" of the corrupted probes
# (formerly in proof/verify_test.go, see below)
SOME_HASH = "abacaba000000000000000000000000000000000000000000060061e00123456"

# cmd/proofgen/main.go: inclusionProofs, the known-good proofs behind testdata/inclusion.
# Until commit bcba819ef46f73fd3aaa964f46778beab2e20d59 this table was `inclusionProofs`
# in proof/verify_test.go (last there at 9ca563d3ac2bab915317cf153ed4f952f6e74c07).
# (leaf, size, proof) with upstream's 1-based leaf number: the entry index is leaf - 1.
# The tree is LEAF_INPUTS and its roots are ROOT_HASHES.
INCLUSION_PROOFS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (1, 1, ()),
    (1, 8, (
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    )),
    (6, 8, (
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
    (3, 3, ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",)),
    (2, 5, (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    )),
)

# cmd/proofgen/main.go: consistencyProofs, the known-good proofs behind testdata/consistency
# (formerly `consistencyProofs` in proof/verify_test.go, moved by the same commit).
# (size1, size2, proof) in the tree of LEAF_INPUTS, with roots ROOT_HASHES.
CONSISTENCY_PROOFS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (1, 1, ()),
    (1, 8, (
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    )),
    (6, 8, (
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
    (2, 5, (
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    )),
    (6, 7, (
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
)

# Proof layouts from proof/proof_test.go (TestInclusion and TestConsistency). A node id
# (level, index) is the complete subtree of 2**level leaves starting at leaf index * 2**level.
# When a rehash range (begin, end) is given, the proof holds one hash for ids[begin:end] in
# their place: start from ids[begin]'s hash and for each later id in the range set
# hash = node_hash(that id's hash, hash). None means wantErr: true.
Layout = tuple[int, int, tuple[tuple[int, int], ...] | None, tuple[int, int] | None]

# proof/proof_test.go: TestInclusion, (size, index, ids, rehash)
INCLUSION_NODE_PROOFS: tuple[Layout, ...] = (
    (0, 0, None, None), (0, 1, None, None), (1, 2, None, None), (0, 3, None, None),
    (7, 8, None, None), (1, 0, (), None), (2, 0, ((0, 1),), None), (2, 1, ((0, 0),), None),
    (3, 1, ((0, 0), (0, 2)), (1, 2)),
    (7, 0, ((0, 1), (1, 1), (0, 6), (1, 2)), (2, 4)),
    (7, 1, ((0, 0), (1, 1), (0, 6), (1, 2)), (2, 4)),
    (7, 2, ((0, 3), (1, 0), (0, 6), (1, 2)), (2, 4)),
    (7, 3, ((0, 2), (1, 0), (0, 6), (1, 2)), (2, 4)),
    (7, 4, ((0, 5), (0, 6), (2, 0)), (1, 2)), (7, 5, ((0, 4), (0, 6), (2, 0)), (1, 2)),
    (7, 6, ((1, 2), (2, 0)), None), (4, 2, ((0, 3), (1, 0)), None),
    (5, 3, ((0, 2), (1, 0), (0, 4)), (2, 3)), (6, 3, ((0, 2), (1, 0), (1, 2)), (2, 3)),
    (6, 4, ((0, 5), (2, 0)), None),
    (7, 1, ((0, 0), (1, 1), (0, 6), (1, 2)), (2, 4)),
    (7, 3, ((0, 2), (1, 0), (0, 6), (1, 2)), (2, 4)),
    (15, 10, ((0, 11), (1, 4), (0, 14), (1, 6), (3, 0)), (2, 4)),
    (31, 24, ((0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)), (2, 4)),
    (95, 81, ((0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)), (3, 6)),
)

# proof/proof_test.go: TestConsistency, (size1, size2, ids, rehash)
CONSISTENCY_NODE_PROOFS: tuple[Layout, ...] = (
    (5, 0, None, None), (9, 8, None, None), (0, 5, None, None), (0, 0, None, None),
    (1, 2, ((0, 1),), None), (1, 4, ((0, 1), (1, 1)), None),
    (1, 6, ((0, 1), (1, 1), (1, 2)), (2, 3)), (2, 3, ((0, 2),), (0, 1)),
    (2, 8, ((1, 1), (2, 1)), None),
    (3, 7, ((0, 2), (0, 3), (1, 0), (0, 6), (1, 2)), (3, 5)),
    (4, 7, ((0, 6), (1, 2)), (0, 2)), (5, 7, ((0, 4), (0, 5), (0, 6), (2, 0)), (2, 3)),
    (6, 7, ((1, 2), (0, 6), (2, 0)), (1, 2)), (7, 8, ((0, 6), (0, 7), (1, 2), (2, 0)), None),
    (1, 1, (), None), (2, 2, (), None), (3, 3, (), None), (4, 4, (), None),
    (5, 5, (), None), (7, 7, (), None), (8, 8, (), None), (2, 4, ((1, 1),), None),
    (3, 5, ((0, 2), (0, 3), (1, 0), (0, 4)), (3, 4)),
    (3, 6, ((0, 2), (0, 3), (1, 0), (1, 2)), (3, 4)),
    (4, 6, ((1, 2),), (0, 1)), (1, 7, ((0, 1), (1, 1), (0, 6), (1, 2)), (2, 4)),
    (10, 15, ((1, 4), (1, 5), (0, 14), (1, 6), (3, 0)), (2, 4)),
    (24, 31, ((3, 2), (0, 30), (1, 14), (2, 6), (4, 0)), (1, 4)),
    (81, 95, ((0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)),
     (4, 7)),
)

# fmt: on
