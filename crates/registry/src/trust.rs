//! Whose signatures on an image count as trusted: the PEM roots `verify IMAGE` checks C2PA
//! signers and signing times against.

use std::path::Path;

use base64::Engine;

/// The data directory's own root certificate, the roots of the time-stamping authorities
/// trusted for the journal (they are trusted for signatures' times too), and `extra` (PEM
/// text), as one PEM bundle; none when there are none.
pub fn anchors(home: &Path, extra: &[String]) -> Option<String> {
    let mut anchors = crate::identity::root_certificate(home).unwrap_or_default();
    for pem in extra {
        anchors += pem;
    }
    for der in crate::timestamps::read_roots(&home.join("tsa-roots")).unwrap_or_default() {
        anchors += &pem_certificate(&der);
    }
    (!anchors.is_empty()).then_some(anchors)
}

/// A DER certificate as PEM.
fn pem_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_der_certificate_reads_back_from_its_pem() {
        let der: Vec<u8> = (0..=255u8).cycle().take(100).collect();
        let pem = pem_certificate(&der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(crate::timestamps::certificates_in(pem.as_bytes()).unwrap(), vec![der]);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(anchors(dir.path(), &[]), None);
        assert_eq!(anchors(dir.path(), std::slice::from_ref(&pem)), Some(pem));
    }
}
