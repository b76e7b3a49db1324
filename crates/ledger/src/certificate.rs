//! The identity's X.509 pair as an export carries it: an Ed25519 end-entity certificate for
//! the journal's key, issued by a personal Ed25519 root. Checking the pair shows that the
//! certificate is the key's and that the root issued it; since anyone can make such a root,
//! it proves no name.

use der::asn1::AnyRef;
use der::oid::ObjectIdentifier;
use der::{Decode, Reader, SliceReader};
use ed25519_dalek::{Signature, VerifyingKey};
use x509_cert::Certificate;

const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// What is wrong with a certificate pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate cannot be read: {0}")]
    Certificate(String),
    #[error("the root cannot be read: {0}")]
    Root(String),
    #[error("the certificate is not for the journal's key")]
    NotTheKey,
    #[error("the certificate does not chain to the root: {0}")]
    NotChained(String),
}

/// The bytes a certificate's signature is over (the TBSCertificate as encoded) and the
/// parsed certificate.
fn parse(der: &[u8]) -> Result<(Certificate, &[u8]), String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    let outer = AnyRef::from_der(der).map_err(|e| e.to_string())?;
    let mut reader = SliceReader::new(outer.value()).map_err(|e| e.to_string())?;
    let tbs = reader.tlv_bytes().map_err(|e| e.to_string())?;
    Ok((cert, tbs))
}

/// The Ed25519 key in a certificate's SubjectPublicKeyInfo.
fn ed25519_key(cert: &Certificate) -> Result<VerifyingKey, String> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != ID_ED25519 {
        return Err(format!("its key is not Ed25519 ({})", spki.algorithm.oid));
    }
    let bytes: [u8; 32] = spki
        .subject_public_key
        .as_bytes()
        .and_then(|b| b.try_into().ok())
        .ok_or("its Ed25519 key is not 32 bytes")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "its Ed25519 key is not a curve point".to_string())
}

/// Whether `cert` (with its signed bytes `tbs`) is signed by `key` with Ed25519.
fn signed_by(cert: &Certificate, tbs: &[u8], key: &VerifyingKey) -> bool {
    cert.signature_algorithm.oid == ID_ED25519
        && cert.tbs_certificate.signature.oid == ID_ED25519
        && cert
            .signature
            .as_bytes()
            .and_then(|s| Signature::from_slice(s).ok())
            .is_some_and(|s| key.verify_strict(tbs, &s).is_ok())
}

/// Checks that `certificate` (DER) holds `key` and is issued by `root` (DER): the issuer is
/// the root's subject and the root's Ed25519 key signed it; the root signed itself. Validity
/// dates are not checked.
pub fn check_pair(certificate: &[u8], root: &[u8], key: &VerifyingKey) -> Result<(), CertificateError> {
    let (cert, cert_tbs) = parse(certificate).map_err(CertificateError::Certificate)?;
    let (root, root_tbs) = parse(root).map_err(CertificateError::Root)?;
    let cert_key = ed25519_key(&cert).map_err(CertificateError::Certificate)?;
    if cert_key != *key {
        return Err(CertificateError::NotTheKey);
    }
    let root_key = ed25519_key(&root).map_err(CertificateError::Root)?;
    if root.tbs_certificate.subject != root.tbs_certificate.issuer || !signed_by(&root, root_tbs, &root_key) {
        return Err(CertificateError::Root("it is not a self-signed Ed25519 root".into()));
    }
    if cert.tbs_certificate.issuer != root.tbs_certificate.subject {
        return Err(CertificateError::NotChained("its issuer is not the root's subject".into()));
    }
    if !signed_by(&cert, cert_tbs, &root_key) {
        return Err(CertificateError::NotChained("its signature does not verify with the root's key".into()));
    }
    Ok(())
}
