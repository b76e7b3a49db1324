//! The creator's signing certificate.

use ed25519_dalek::SigningKey;
use rand_core::OsRng;

use crate::CredentialsError;

/// rcgen signs through this: the Ed25519 key never leaves ed25519-dalek.
struct RcgenKey<'a>(&'a SigningKey, [u8; 32]);

impl rcgen::PublicKeyData for RcgenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.1
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl rcgen::SigningKey for RcgenKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(ed25519_dalek::Signer::sign(self.0, msg).to_bytes().to_vec())
    }
}

/// A personal root (its key discarded) and the end-entity certificate it issues for `key`,
/// as C2PA validators want it: digitalSignature key usage, emailProtection and documentSigning
/// extended key usages, an authority key identifier. PEM, root first.
pub fn certificates(key: &SigningKey, name: &str) -> Result<(String, String), CredentialsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
        Issuer, KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| CredentialsError::Signer(format!("cannot make the certificate: {e}"));
    let now = chrono::Utc::now();
    let validity = |p: &mut CertificateParams| {
        p.not_before = rcgen::date_time_ymd(now.format("%Y").to_string().parse().unwrap_or(2026), 1, 1);
        p.not_after =
            rcgen::date_time_ymd(now.format("%Y").to_string().parse::<i32>().unwrap_or(2026) + 20, 1, 1);
    };
    let serial = || {
        let mut bytes = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut bytes);
        bytes[0] &= 0x7F; // a positive INTEGER
        rcgen::SerialNumber::from_slice(&bytes)
    };
    let root_key = SigningKey::generate(&mut OsRng);
    let root_signer = RcgenKey(&root_key, root_key.verifying_key().to_bytes());
    let mut root = CertificateParams::default();
    root.distinguished_name = DistinguishedName::new();
    root.distinguished_name.push(DnType::CommonName, format!("{name} (handprint personal root)"));
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut root);
    root.serial_number = Some(serial());
    let root_cert = root.self_signed(&root_signer).map_err(err)?;
    let issuer = Issuer::new(root, root_signer);
    let mut ee = CertificateParams::default();
    ee.distinguished_name = DistinguishedName::new();
    ee.distinguished_name.push(DnType::CommonName, name);
    ee.distinguished_name.push(DnType::OrganizationName, "handprint");
    ee.is_ca = IsCa::ExplicitNoCa;
    ee.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    ee.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::EmailProtection,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36]), // id-kp-documentSigning
    ];
    ee.use_authority_key_identifier_extension = true;
    validity(&mut ee);
    ee.serial_number = Some(serial());
    let subject = RcgenKey(key, key.verifying_key().to_bytes());
    let ee_cert = ee.signed_by(&subject, &issuer).map_err(err)?;
    Ok((root_cert.pem(), ee_cert.pem()))
}

/// The Ed25519 algorithm identifier (RFC 8410).
const ED25519: x509_cert::der::asn1::ObjectIdentifier =
    x509_cert::der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");

/// The Ed25519 key of the first certificate in a PEM chain (a C2PA signer's), if it is one.
pub fn ed25519_key_of(chain_pem: &str) -> Option<ed25519_dalek::VerifyingKey> {
    use x509_cert::der::DecodePem;
    let end = "-----END CERTIFICATE-----";
    let first = &chain_pem[..chain_pem.find(end)? + end.len()];
    let certificate = x509_cert::Certificate::from_pem(first.trim()).ok()?;
    let spki = &certificate.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != ED25519 {
        return None;
    }
    let bytes = <[u8; 32]>::try_from(spki.subject_public_key.as_bytes()?).ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
}

/// The DER certificates of a PEM chain, in order (blocks that do not decode are skipped).
pub(crate) fn pem_certificates(chain_pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in chain_pem.lines().map(str::trim) {
        match line {
            "-----BEGIN CERTIFICATE-----" => body = Some(String::new()),
            "-----END CERTIFICATE-----" => {
                if let Some(der) =
                    body.take().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                {
                    out.push(der);
                }
            }
            _ => {
                if let Some(b) = body.as_mut() {
                    b.push_str(line);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signer_key_is_read_from_the_first_certificate() {
        let key = SigningKey::generate(&mut OsRng);
        let (root, certificate) = certificates(&key, "Bob").unwrap();
        assert_eq!(ed25519_key_of(&format!("{certificate}{root}")), Some(key.verifying_key()));
        assert_eq!(
            ed25519_key_of(&format!("{root}{certificate}")).map(|k| k == key.verifying_key()),
            Some(false)
        );
        assert_eq!(ed25519_key_of("no certificate"), None);
        let chain = pem_certificates(&format!("{certificate}{root}"));
        assert_eq!(chain.len(), 2);
        assert!(chain.iter().all(|der| der.first() == Some(&0x30)), "DER SEQUENCEs");
        assert!(pem_certificates("no certificate").is_empty());
    }
}
