//! The RFC 9162 (Certificate Transparency 2.0) Merkle tree, over a store of the hashes of
//! its complete subtrees.
//!
//! Hashing (RFC 9162 §2.1.1): `MTH({}) = SHA-256()`, leaf `SHA-256(0x00 || d)`, node
//! `SHA-256(0x01 || left || right)`. A tree of `n` leaves splits at `k`, the largest power of
//! two below `n`.
//!
//! Storage: node `(level, index)` is the hash of leaves `index·2^level .. (index+1)·2^level`,
//! stored once that range is complete (Go's tlog layout). Each append adds one leaf and, on
//! average, one more node; the hash of any range, and so any proof, is assembled from at most
//! 2·log₂(n) stored nodes.

use sha2::{Digest, Sha256};

use crate::Hash;

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the empty tree.
pub fn empty_root() -> Hash {
    Hash::of(b"")
}

/// Where the complete-subtree hashes live.
pub trait NodeSource {
    type Error;
    /// The hash of the complete subtree `(level, index)`; it must exist.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// A stored node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub level: u8,
    pub index: u64,
    pub hash: Hash,
}

/// The nodes to store when leaves `size..size+leaves.len()` are appended to a tree of `size`
/// leaves: each leaf, and every subtree those leaves complete.
pub fn nodes_for_append<S: NodeSource>(
    source: &S,
    size: u64,
    leaves: &[Hash],
) -> Result<Vec<Node>, S::Error> {
    let mut out: Vec<Node> = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let index = size + i as u64;
        out.push(Node { level: 0, index, hash: *leaf });
        let (mut level, mut idx, mut hash) = (0u8, index, *leaf);
        // While this node is a right child, it completes its parent.
        while idx & 1 == 1 {
            let sibling = idx - 1;
            let left = match out.iter().rev().find(|n| n.level == level && n.index == sibling) {
                Some(n) => n.hash,
                None => source.node(level, sibling)?,
            };
            hash = node_hash(&left, &hash);
            level += 1;
            idx >>= 1;
            out.push(Node { level, index: idx, hash });
        }
    }
    Ok(out)
}

fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start:end])` for a range that starts on a boundary of its own size's split (every
/// range the RFC's recursion produces does).
pub fn range_hash<S: NodeSource>(source: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return source.node(n.trailing_zeros() as u8, start / n);
    }
    let k = largest_power_of_two_below(n);
    let left = range_hash(source, start, start + k)?;
    let right = range_hash(source, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: NodeSource>(source: &S, size: u64) -> Result<Hash, S::Error> {
    range_hash(source, 0, size)
}

/// RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource>(source: &S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    assert!(index < size, "leaf {index} is not in a tree of {size}");
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    // Walk down from the root, collecting siblings; the RFC lists them bottom-up.
    while end - start > 1 {
        let k = largest_power_of_two_below(end - start);
        if m < k {
            path.push(range_hash(source, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(source, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// RFC 9162 §2.1.4.1: the consistency proof between the trees of `old` and `new` leaves.
pub fn consistency_proof<S: NodeSource>(source: &S, old: u64, new: u64) -> Result<Vec<Hash>, S::Error> {
    assert!(0 < old && old <= new, "no consistency proof from {old} to {new}");
    let mut proof = Vec::new();
    subproof(source, old, 0, new, true, &mut proof)?;
    Ok(proof)
}

/// SUBPROOF(m, D[start:end], b), appending in the RFC's order.
fn subproof<S: NodeSource>(
    source: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(range_hash(source, start, end)?);
        }
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        subproof(source, m, start, start + k, complete, out)?;
        out.push(range_hash(source, start + k, end)?);
    } else {
        subproof(source, m - k, start + k, end, false, out)?;
        out.push(range_hash(source, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: does `path` prove `leaf` (a leaf hash) at `index` in the tree of
/// `size` leaves with root `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old` leaves (root `old_root`) is a
/// prefix of the tree of `new` leaves (root `new_root`)?
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

/// An in-memory node store: what verifiers use to recompute a log from its leaves.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let nodes = nodes_for_append(self, self.size(), &[leaf]).expect("memory nodes always exist");
        for n in nodes {
            if self.levels.len() <= n.level as usize {
                self.levels.push(Vec::new());
            }
            self.levels[n.level as usize].push(n.hash);
        }
    }

    pub fn root(&self) -> Hash {
        root(self, self.size()).expect("memory nodes always exist")
    }

    /// The stored nodes, for comparison with another store.
    pub fn nodes(&self) -> impl Iterator<Item = Node> + '_ {
        self.levels.iter().enumerate().flat_map(|(l, hs)| {
            hs.iter().enumerate().map(move |(i, h)| Node { level: l as u8, index: i as u64, hash: *h })
        })
    }
}

impl NodeSource for MemoryTree {
    type Error = std::convert::Infallible;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.levels[level as usize][index as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of Certificate Transparency's reference tests (RFC 6962 test data).
    fn ct_leaves() -> Vec<Vec<u8>> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect()
    }

    #[test]
    fn roots_match_the_certificate_transparency_test_vectors() {
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let mut tree = MemoryTree::new();
        assert_eq!(tree.root().to_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        for (leaf, root) in ct_leaves().iter().zip(expected) {
            tree.push(leaf_hash(leaf));
            assert_eq!(tree.root().to_hex(), root, "size {}", tree.size());
        }
    }

    #[test]
    fn inclusion_proofs_match_the_certificate_transparency_test_vectors() {
        let mut tree = MemoryTree::new();
        ct_leaves().iter().for_each(|l| tree.push(leaf_hash(l)));
        let hexes = |p: Vec<Hash>| p.iter().map(Hash::to_hex).collect::<Vec<_>>();
        assert_eq!(
            hexes(inclusion_proof(&tree, 0, 8).unwrap()),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        assert_eq!(
            hexes(inclusion_proof(&tree, 5, 8).unwrap()),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
    }

    #[test]
    fn every_proof_verifies_and_tampering_fails() {
        let mut tree = MemoryTree::new();
        let mut roots = vec![empty_root()];
        for i in 0..70u64 {
            tree.push(leaf_hash(&i.to_be_bytes()));
            roots.push(tree.root());
        }
        for size in 1..=70u64 {
            for index in 0..size {
                let path = inclusion_proof(&tree, index, size).unwrap();
                let leaf = leaf_hash(&index.to_be_bytes());
                assert!(verify_inclusion(&leaf, index, size, &path, &roots[size as usize]));
                assert!(!verify_inclusion(&leaf, index ^ 1, size, &path, &roots[size as usize]) || size == 1);
                if let Some(first) = path.first() {
                    let mut bad = path.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(&leaf, index, size, &bad, &roots[size as usize]));
                }
            }
            for old in 1..=size {
                let proof = consistency_proof(&tree, old, size).unwrap();
                assert!(
                    verify_consistency(old, size, &roots[old as usize], &roots[size as usize], &proof),
                    "{old} -> {size}"
                );
                if old < size {
                    let wrong_old = roots[(old - 1).max(1) as usize];
                    assert!(
                        old == 1 || !verify_consistency(old, size, &wrong_old, &roots[size as usize], &proof),
                        "{old} -> {size} with a wrong old root"
                    );
                }
            }
        }
    }
}
