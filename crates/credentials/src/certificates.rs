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
