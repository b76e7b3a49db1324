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

/// What a checked certificate pair binds to the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCertificate {
    /// The end-entity certificate's common name: the name the key's holder gave themself.
    pub subject: String,
}

/// Checks that `certificate_pem` certifies `key` (Ed25519) and is signed by `root_pem`'s key,
/// itself self-signed: the pair [`certificates`] made for that key. Proves the name was
/// given by whoever held the root's (discarded) key when the certificate was made, nothing
/// more: a personal root is trusted only by those who chose to trust it.
pub fn check_certificates(
    certificate_pem: &str,
    root_pem: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<CheckedCertificate, CredentialsError> {
    use x509_cert::Certificate;
    use x509_cert::der::{DecodePem, Encode};
    let bad = |m: String| CredentialsError::Signer(m);
    let certificate = Certificate::from_pem(certificate_pem.trim())
        .map_err(|e| bad(format!("the certificate does not parse: {e}")))?;
    let root =
        Certificate::from_pem(root_pem.trim()).map_err(|e| bad(format!("the root does not parse: {e}")))?;
    let ed25519_key = |c: &Certificate, what: &str| {
        let spki = &c.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != ED25519 {
            return Err(bad(format!("the {what}'s key is not Ed25519")));
        }
        spki.subject_public_key
            .as_bytes()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| bad(format!("the {what}'s key is not a valid Ed25519 key")))
    };
    let signed_by = |c: &Certificate, issuer: &ed25519_dalek::VerifyingKey| -> bool {
        let Ok(tbs) = c.tbs_certificate.to_der() else { return false };
        let Some(sig) = c.signature.as_bytes().and_then(|s| ed25519_dalek::Signature::from_slice(s).ok())
        else {
            return false;
        };
        c.signature_algorithm.oid == ED25519 && issuer.verify_strict(&tbs, &sig).is_ok()
    };
    if ed25519_key(&certificate, "certificate")? != *key {
        return Err(bad("the certificate is for another key than the journal's".into()));
    }
    let root_key = ed25519_key(&root, "root")?;
    if !signed_by(&root, &root_key) {
        return Err(bad("the root certificate is not self-signed by its key".into()));
    }
    if !signed_by(&certificate, &root_key)
        || certificate.tbs_certificate.issuer != root.tbs_certificate.subject
    {
        return Err(bad("the certificate was not issued by the root".into()));
    }
    Ok(CheckedCertificate { subject: common_name(&certificate.tbs_certificate.subject).unwrap_or_default() })
}

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

fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    const CN: x509_cert::der::asn1::ObjectIdentifier =
        x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|a| a.oid == CN)
        .and_then(|a| std::str::from_utf8(a.value.value()).ok().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_checks_against_its_key_only() {
        let key = SigningKey::generate(&mut OsRng);
        let (root, certificate) = certificates(&key, "Bob").unwrap();
        let checked = check_certificates(&certificate, &root, &key.verifying_key()).unwrap();
        assert_eq!(checked.subject, "Bob");
        let other = SigningKey::generate(&mut OsRng);
        let (other_root, other_certificate) = certificates(&other, "Bob").unwrap();
        assert!(check_certificates(&other_certificate, &root, &key.verifying_key()).is_err());
        assert!(check_certificates(&certificate, &other_root, &key.verifying_key()).is_err());
        assert!(check_certificates(&other_certificate, &other_root, &key.verifying_key()).is_err());
        assert!(check_certificates("garbage", &root, &key.verifying_key()).is_err());
        assert_eq!(ed25519_key_of(&format!("{certificate}{root}")), Some(key.verifying_key()));
        assert_eq!(ed25519_key_of("no certificate"), None);
    }
}
