//! RFC 3161 trusted timestamps over checkpoints: requests, and offline verification of the
//! tokens a time-stamping authority (TSA) returns.
//!
//! A token is a CMS SignedData (RFC 5652) whose content is a TSTInfo. Verification checks,
//! with nothing but the token, the checkpoint note and trusted root certificates:
//! the message imprint is SHA-256 of the note; the signed attributes' content type is
//! TSTInfo and their message digest is the TSTInfo's; the signature over the signed
//! attributes verifies with the signer certificate; that certificate is for time stamping
//! (extended key usage timeStamping), was valid at the token's time, and chains, through
//! certificates in the token, to one of the roots.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const ID_SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("not a well-formed timestamp: {0}")]
    Malformed(String),
    #[error("the time-stamping authority refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Invalid(String),
}

fn malformed(e: impl std::fmt::Display) -> TimestampError {
    TimestampError::Malformed(e.to_string())
}

/// A verified token: when, by whom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stamp {
    /// The TSA's time, RFC 3339 UTC.
    pub time: String,
    /// The signer certificate's subject.
    pub tsa: String,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA policy under which it was issued.
    pub policy: String,
}

/// A DER INTEGER for `v`: minimal, no leading zero bytes but the one that keeps it positive.
fn der_int(v: u64) -> Int {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    let mut minimal = bytes[first..].to_vec();
    if minimal[0] & 0x80 != 0 {
        minimal.insert(0, 0);
    }
    Int::new(&minimal).expect("a minimal integer")
}

/// A DER TimeStampReq for SHA-256(`message`), asking for the TSA's certificate.
pub fn request(message: &[u8], nonce: u64) -> Vec<u8> {
    request_sha256(&Sha256::digest(message).into(), nonce)
}

/// A DER TimeStampReq for a SHA-256 digest computed elsewhere (a file's, as `openssl ts
/// -verify -data FILE` checks it).
pub fn request_sha256(sha256: &[u8; 32], nonce: u64) -> Vec<u8> {
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned { oid: ID_SHA256, parameters: Some(Any::null()) },
            hashed_message: OctetString::new(sha256.to_vec()).expect("32 bytes"),
        },
        req_policy: None,
        nonce: Some(der_int(nonce)),
        cert_req: true,
        extensions: None,
    };
    req.to_der().expect("a well-formed request")
}

/// The token inside a DER TimeStampResp, if the TSA granted it and answered our nonce.
pub fn token_from_response(response: &[u8], nonce: u64) -> Result<Vec<u8>, TimestampError> {
    let resp = TimeStampResp::from_der(response).map_err(malformed)?;
    let status = resp.status.status as u8;
    if status > 1 {
        let text = resp
            .status
            .status_string
            .map(|s| s.iter().map(|t| t.to_string()).collect::<Vec<_>>().join("; "))
            .unwrap_or_default();
        return Err(TimestampError::Refused(format!("status {status} {text}")));
    }
    let token =
        resp.time_stamp_token.ok_or_else(|| TimestampError::Malformed("granted, but no token".into()))?;
    let der = token.to_der().map_err(malformed)?;
    let info = tst_info(&token)?.0;
    let ours = der_int(nonce);
    if info.nonce.as_ref().map(|n| n.as_bytes()) != Some(ours.as_bytes()) {
        return Err(TimestampError::Invalid("the token does not answer our request (nonce differs)".into()));
    }
    Ok(der)
}

fn tst_info(token: &ContentInfo) -> Result<(TstInfo, Vec<u8>, SignedData), TimestampError> {
    if token.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::Malformed("the token is not CMS SignedData".into()));
    }
    let sd: SignedData = token.content.decode_as().map_err(malformed)?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampError::Malformed("the token's content is not a TSTInfo".into()));
    }
    let content = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("no content".into()))?;
    let octets: OctetString = content.decode_as().map_err(malformed)?;
    let bytes = octets.as_bytes().to_vec();
    let info = TstInfo::from_der(&bytes).map_err(malformed)?;
    Ok((info, bytes, sd))
}

fn digest(alg: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, TimestampError> {
    Ok(match *alg {
        ID_SHA256 => Sha256::digest(data).to_vec(),
        ID_SHA384 => Sha384::digest(data).to_vec(),
        ID_SHA512 => Sha512::digest(data).to_vec(),
        other => return Err(TimestampError::Invalid(format!("unsupported digest algorithm {other}"))),
    })
}

/// Verifies `signature` over `data` with the key in `cert`, for the signature algorithm
/// `alg` (with `digest_alg` where the algorithm is the bare rsaEncryption).
fn verify_signature(
    cert: &Certificate,
    alg: &ObjectIdentifier,
    digest_alg: Option<&ObjectIdentifier>,
    data: &[u8],
    signature: &[u8],
) -> Result<(), TimestampError> {
    use p256::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(malformed)?;
    let bad = || TimestampError::Invalid("a signature does not verify".into());
    let rsa_hash = match *alg {
        ID_SHA256_RSA => Some(ID_SHA256),
        ID_SHA384_RSA => Some(ID_SHA384),
        ID_SHA512_RSA => Some(ID_SHA512),
        ID_RSA => digest_alg.copied(),
        _ => None,
    };
    if let Some(hash) = rsa_hash {
        let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(malformed)?;
        let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad())?;
        let ok = match hash {
            ID_SHA256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(data, &sig),
            ID_SHA384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(data, &sig),
            ID_SHA512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(data, &sig),
            other => return Err(TimestampError::Invalid(format!("unsupported RSA digest {other}"))),
        };
        return ok.map_err(|_| bad());
    }
    match *alg {
        ID_ECDSA_SHA256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).map_err(malformed)?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
            key.verify(data, &sig).map_err(|_| bad())
        }
        ID_ECDSA_SHA384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(&spki).map_err(malformed)?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
            key.verify(data, &sig).map_err(|_| bad())
        }
        ID_ED25519 => {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(&spki).map_err(malformed)?;
            let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
            key.verify_strict(data, &sig).map_err(|_| bad())
        }
        other => Err(TimestampError::Invalid(format!("unsupported signature algorithm {other}"))),
    }
}

fn extension<'a>(cert: &'a Certificate, oid: &ObjectIdentifier) -> Option<&'a [u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| &e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn is_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            cert.tbs_certificate.issuer == is.issuer && cert.tbs_certificate.serial_number == is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => extension(cert, &ID_SKI)
            .and_then(|v| OctetString::from_der(v).ok())
            .is_some_and(|v| v.as_bytes() == ski.0.as_bytes()),
    }
}

fn rfc3339(t: &der::asn1::GeneralizedTime) -> String {
    let dt = t.to_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minutes(),
        dt.seconds()
    )
}

/// Verifies a token over `message` against trusted `roots` (DER certificates).
pub fn verify(token: &[u8], message: &[u8], roots: &[Vec<u8>]) -> Result<Stamp, TimestampError> {
    verify_imprint(token, roots, |alg| digest(alg, message))
}

/// Verifies a token over data whose SHA-256 is `sha256`; a token with another imprint
/// algorithm is refused.
pub fn verify_sha256(token: &[u8], sha256: &[u8; 32], roots: &[Vec<u8>]) -> Result<Stamp, TimestampError> {
    verify_imprint(token, roots, |alg| match *alg {
        ID_SHA256 => Ok(sha256.to_vec()),
        other => Err(TimestampError::Invalid(format!("the token's imprint is {other}, not SHA-256"))),
    })
}

fn verify_imprint(
    token: &[u8],
    roots: &[Vec<u8>],
    expected: impl Fn(&ObjectIdentifier) -> Result<Vec<u8>, TimestampError>,
) -> Result<Stamp, TimestampError> {
    let token = ContentInfo::from_der(token).map_err(malformed)?;
    let (info, info_der, sd) = tst_info(&token)?;
    // 1. The imprint is the message's.
    let imprint = &info.message_imprint;
    if expected(&imprint.hash_algorithm.oid)? != imprint.hashed_message.as_bytes() {
        return Err(TimestampError::Invalid(
            "the token is for other data than this (its message imprint differs)".into(),
        ));
    }
    // 2. The signer and its signed attributes.
    let signer = sd.signer_infos.0.get(0).ok_or_else(|| TimestampError::Malformed("no signer".into()))?;
    let certs: Vec<Certificate> = sd
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let trusted: Vec<Certificate> = roots.iter().filter_map(|r| Certificate::from_der(r).ok()).collect();
    let cert = certs.iter().chain(&trusted).find(|c| is_signer(c, &signer.sid)).ok_or_else(|| {
        TimestampError::Invalid("the signer's certificate is not in the token (nor among the roots)".into())
    })?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("no signed attributes".into()))?;
    let attr =
        |oid: ObjectIdentifier| attrs.iter().find(|a| a.oid == oid).and_then(|a| a.values.get(0).cloned());
    let content_type: ObjectIdentifier = attr(ID_CONTENT_TYPE)
        .ok_or_else(|| TimestampError::Malformed("no content-type attribute".into()))?
        .decode_as()
        .map_err(malformed)?;
    if content_type != ID_CT_TST_INFO {
        return Err(TimestampError::Invalid("the signed content type is not TSTInfo".into()));
    }
    let md: OctetString = attr(ID_MESSAGE_DIGEST)
        .ok_or_else(|| TimestampError::Malformed("no message-digest attribute".into()))?
        .decode_as()
        .map_err(malformed)?;
    if md.as_bytes() != digest(&signer.digest_alg.oid, &info_der)? {
        return Err(TimestampError::Invalid("the signed digest does not match the TSTInfo (altered)".into()));
    }
    let signed = attrs.to_der().map_err(malformed)?;
    verify_signature(
        cert,
        &signer.signature_algorithm.oid,
        Some(&signer.digest_alg.oid),
        &signed,
        signer.signature.as_bytes(),
    )
    .map_err(|_| {
        TimestampError::Invalid("the TSA's signature does not verify (the token was altered)".into())
    })?;
    // 3. The certificate is a time-stamping one, valid at genTime, chaining to a root.
    let eku = extension(cert, &ID_EKU)
        .ok_or_else(|| TimestampError::Invalid("the signer certificate has no extended key usage".into()))?;
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku).map_err(malformed)?;
    if !eku.0.contains(&ID_KP_TIME_STAMPING) {
        return Err(TimestampError::Invalid("the signer certificate is not for time stamping".into()));
    }
    let issued = info.gen_time.to_unix_duration();
    let validity = &cert.tbs_certificate.validity;
    if issued < validity.not_before.to_unix_duration() || issued > validity.not_after.to_unix_duration() {
        return Err(TimestampError::Invalid(
            "the signer certificate was not valid at the token's time".into(),
        ));
    }
    let root_der: Vec<Vec<u8>> = trusted.iter().filter_map(|c| c.to_der().ok()).collect();
    let mut current = cert.clone();
    for _ in 0..8 {
        if root_der.contains(&current.to_der().map_err(malformed)?) {
            return Ok(Stamp {
                time: rfc3339(&info.gen_time),
                tsa: cert.tbs_certificate.subject.to_string(),
                serial: hex::encode(info.serial_number.as_bytes()),
                policy: info.policy.to_string(),
            });
        }
        let tbs = &current.tbs_certificate;
        if tbs.subject == tbs.issuer {
            return Err(TimestampError::Invalid(format!(
                "the TSA's root certificate ({}) is not among the trusted roots",
                tbs.subject
            )));
        }
        // Several certificates may share the issuer's name: the issuer is the one whose key
        // verifies this certificate.
        let tbs_der = tbs.to_der().map_err(malformed)?;
        let issuer = certs
            .iter()
            .chain(&trusted)
            .filter(|c| c.tbs_certificate.subject == tbs.issuer && **c != current)
            .find(|c| {
                verify_signature(
                    c,
                    &current.signature_algorithm.oid,
                    None,
                    &tbs_der,
                    current.signature.raw_bytes(),
                )
                .is_ok()
            })
            .ok_or_else(|| {
                TimestampError::Invalid(format!(
                    "the TSA certificate does not chain to a trusted root (no valid issuer {} for {})",
                    tbs.issuer, tbs.subject
                ))
            })?;
        current = issuer.clone();
    }
    Err(TimestampError::Invalid("the certificate chain is too long".into()))
}
