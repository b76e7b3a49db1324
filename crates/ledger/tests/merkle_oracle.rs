//! handprint's Merkle log against the `ct-merkle` crate, an independent RFC 6962/9162
//! implementation: the same roots, inclusion proofs and consistency proofs, byte for byte.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ledger::merkle::{self, MemoryTree};
use sha2_oracle::Sha256;

fn concat(hashes: &[ledger::Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

#[test]
fn roots_and_proofs_equal_ct_merkle_up_to_100_leaves() {
    let mut ours = MemoryTree::new();
    let mut theirs: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
    for n in 1..=100u64 {
        let leaf = format!("event {n}").into_bytes();
        ours.push(merkle::leaf_hash(&leaf));
        theirs.push(leaf);
        assert_eq!(ours.root().0.as_slice(), theirs.root().as_bytes().as_slice(), "root of {n}");
        for index in 0..n {
            let proof = merkle::inclusion_proof(&ours, index, n).unwrap();
            assert_eq!(
                concat(&proof),
                theirs.prove_inclusion(index as usize).as_bytes(),
                "inclusion {index} in {n}"
            );
        }
        for old in 1..n {
            let proof = merkle::consistency_proof(&ours, old, n).unwrap();
            assert_eq!(
                concat(&proof),
                theirs.prove_consistency((n - old) as usize).as_bytes(),
                "consistency {old} -> {n}"
            );
        }
    }
}
