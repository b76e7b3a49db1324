//! The creator's identity on disk: an Ed25519 key pair, a display name and an X.509
//! certificate for the same key.
//!
//! Files in the data directory:
//! - `identity.json`: `{"format": "handprint.identity/1", "name", "public_key" (base64), "created"}`
//! - `key.pem`: the private key as PKCS#8 (`PRIVATE KEY`), or, with a passphrase, encrypted
//!   PKCS#8 (`ENCRYPTED PRIVATE KEY`: PBES2 with scrypt and AES-256-CBC); mode 0600.
//!   `openssl pkey -in key.pem` reads either.
//! - `certificate.pem`: an end-entity certificate for the key (digitalSignature key usage,
//!   emailProtection and documentSigning extended key usages, authority key identifier),
//!   issued by `root.pem`, a one-off personal root whose private key is discarded after
//!   signing. C2PA validators refuse self-signed end-entity certificates, hence the root.

pub use ledger::text::is_deceptive;
use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use pkcs8::LineEnding;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use crate::RegistryError;

pub const IDENTITY_FORMAT: &str = "handprint.identity/1";

/// What anyone may know: name and public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicIdentity {
    pub format: String,
    pub name: String,
    pub public_key: String,
    pub created: String,
}

impl PublicIdentity {
    pub fn verifying_key(&self) -> Result<VerifyingKey, RegistryError> {
        let bytes = B64.decode(&self.public_key).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
        bytes
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| RegistryError::Identity("identity.json: public_key is not an Ed25519 key".into()))
    }
}

/// The identity with its private key, able to sign.
pub struct Identity {
    pub public: PublicIdentity,
    pub key: SigningKey,
}

/// Creates the identity in `dir`. Refuses, without touching anything, if one exists.
pub fn create(dir: &Path, name: &str, passphrase: Option<&str>) -> Result<PublicIdentity, RegistryError> {
    if dir.join("key.pem").exists() || dir.join("identity.json").exists() {
        return Err(RegistryError::Identity(format!(
            "an identity already exists in {}; it is never overwritten",
            dir.display()
        )));
    }
    if name.trim().is_empty() {
        return Err(RegistryError::Identity("the display name is empty".into()));
    }
    if let Some(c) = name.chars().find(|&c| is_deceptive(c)) {
        return Err(RegistryError::Identity(format!(
            "the display name holds the control or text-direction character U+{:04X}: names are shown to \
             others in terminals, reports and credentials, so they are plain text",
            c as u32
        )));
    }
    if passphrase.is_some_and(str::is_empty) {
        return Err(RegistryError::Identity(
            "an empty passphrase protects nothing: give one, or leave out --passphrase".into(),
        ));
    }
    private_dir(dir)?;
    let key = SigningKey::generate(&mut OsRng);
    // PKCS#8 v1 (RFC 8410's form, no embedded public key): OpenSSL 3.0 refuses v2.
    let keypair = ed25519_dalek::pkcs8::KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let pem = match passphrase {
        Some(p) => encrypt_key(&keypair, p),
        None => keypair.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).map_err(|e| e.to_string()),
    }
    .map_err(|e| RegistryError::Identity(format!("cannot encode the key: {e}")))?;
    let public = PublicIdentity {
        format: IDENTITY_FORMAT.into(),
        name: name.trim().into(),
        public_key: B64.encode(key.verifying_key().as_bytes()),
        created: ledger::event::now(),
    };
    let (root, certificate) =
        credentials::certificates(&key, &public.name).map_err(|e| RegistryError::Identity(e.to_string()))?;
    // Key first, created exclusively with mode 0600; identity.json last marks completion.
    write_new(&dir.join("key.pem"), pem.as_bytes(), 0o600)?;
    write_new(&dir.join("root.pem"), root.as_bytes(), 0o600)?;
    write_new(&dir.join("certificate.pem"), certificate.as_bytes(), 0o600)?;
    let json = serde_json::to_vec_pretty(&public).expect("plain struct");
    write_new(&dir.join("identity.json"), &json, 0o600)?;
    Ok(public)
}

/// Encrypted PKCS#8: PBES2, scrypt (N = 2^14, r = 8, p = 1: 16 MiB, within OpenSSL's
/// 32 MiB scrypt limit, so `openssl pkey` reads it), AES-256-CBC.
fn encrypt_key(keypair: &ed25519_dalek::pkcs8::KeypairBytes, passphrase: &str) -> Result<String, String> {
    use pkcs8::pkcs5::{pbes2, scrypt};
    let der = keypair.to_pkcs8_der().map_err(|e| e.to_string())?;
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).map_err(|e| e.to_string())?;
    let (mut salt, mut iv) = ([0u8; 16], [0u8; 16]);
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut salt);
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut iv);
    let cost = scrypt::Params::new(14, 8, 1, 32).map_err(|e| e.to_string())?;
    let params = pbes2::Parameters::scrypt_aes256cbc(cost, &salt, &iv).map_err(|e| e.to_string())?;
    let encrypted = info.encrypt_with_params(params, passphrase).map_err(|e| e.to_string())?;
    encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| e.to_string())
}

/// Creates `dir` if needed and makes it private to its owner (0700) whatever the umask: it
/// holds the key, the prompts and the file history.
pub(crate) fn private_dir(dir: &Path) -> Result<(), RegistryError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| RegistryError::io(dir, e))?;
    restrict(dir, 0o700)
}

/// Takes group and other permissions away from `path` if it has any (a no-op elsewhere than
/// Unix, and when the file is not ours to change: reading still works).
pub(crate) fn restrict(path: &Path, mode: u32) -> Result<(), RegistryError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| RegistryError::io(path, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// A warning when `key.pem` can be read by other users of this machine.
pub fn key_file_warning(dir: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("key.pem");
        let mode = fs::metadata(&path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{}: mode {:o} lets other users of this machine read your private key; \
                 `chmod 600` it (and make a new identity if they may have)",
                path.display(),
                mode & 0o777
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), RegistryError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options.open(path).map_err(|e| RegistryError::io(path, e))?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(|e| RegistryError::io(path, e))
}

pub fn load_public(dir: &Path) -> Result<PublicIdentity, RegistryError> {
    let path = dir.join("identity.json");
    let bytes = fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RegistryError::NoIdentity(dir.to_path_buf()),
        _ => RegistryError::io(&path, e),
    })?;
    let public: PublicIdentity = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::Identity(format!("{}: {e}", path.display())))?;
    public.verifying_key()?;
    Ok(public)
}

/// Loads the signing identity; `passphrase` is needed if the key is encrypted.
pub fn load(dir: &Path, passphrase: Option<&str>) -> Result<Identity, RegistryError> {
    let public = load_public(dir)?;
    let path = dir.join("key.pem");
    let pem = fs::read_to_string(&path).map_err(|e| RegistryError::io(&path, e))?;
    let key = if pem.contains("ENCRYPTED PRIVATE KEY") {
        let Some(p) = passphrase else {
            return Err(RegistryError::Passphrase(
                "the key is encrypted: set HANDPRINT_PASSPHRASE, or run from a terminal to be asked for it"
                    .into(),
            ));
        };
        SigningKey::from_pkcs8_encrypted_pem(&pem, p.as_bytes())
            .map_err(|_| RegistryError::Passphrase("wrong passphrase (or a damaged key file)".into()))?
    } else {
        SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| RegistryError::Identity(format!("{}: {e}", path.display())))?
    };
    if key.verifying_key() != public.verifying_key()? {
        return Err(RegistryError::Identity(format!(
            "{} does not hold the key named in identity.json",
            path.display()
        )));
    }
    Ok(Identity { public, key })
}

/// The C2PA signer of `identity`: its key and `certificate.pem` followed by `root.pem`.
pub fn c2pa_signer(dir: &Path, identity: &Identity) -> Result<credentials::Signer, RegistryError> {
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|e| {
            RegistryError::Identity(format!(
                "{}: {e}; identities made before sealing existed have no certificate: \
                 make a new one with `handprint init` in another --home",
                path.display()
            ))
        })
    };
    let (certificate, root) = (read("certificate.pem")?, read("root.pem")?);
    // A certificate for another key would sign manifests that can never validate.
    let der = |pem: &str| {
        crate::timestamps::certificates_in(pem.as_bytes()).ok().and_then(|c| c.into_iter().next())
    };
    let checked = match (der(&certificate), der(&root)) {
        (Some(c), Some(r)) => {
            ledger::certificate::check_pair(&c, &r, &identity.key.verifying_key()).map_err(|e| e.to_string())
        }
        _ => Err("no certificate in it".to_owned()),
    };
    checked.map_err(|e| {
        RegistryError::Identity(format!(
            "{} and root.pem: {e}; the identity files in {} do not belong together",
            dir.join("certificate.pem").display(),
            dir.display()
        ))
    })?;
    Ok(credentials::Signer { key: identity.key.clone(), certificates_pem: format!("{certificate}{root}") })
}

/// The creator's personal root certificate (PEM), the trust anchor of their own manifests.
pub fn root_certificate(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join("root.pem")).ok()
}
