//! The options every command takes, and the data directory they name: [`open`] is the one
//! place the command line opens the registry, and [`signer`] the one place it asks for the
//! signing key's passphrase.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use registry::identity::Identity;
use registry::{Database, Registry};

use crate::terminal::esc;

/// What every command is given besides its own arguments.
pub struct Global {
    /// The data directory: identity, keys, and the journal unless `database` is elsewhere.
    pub home: PathBuf,
    /// Where the store is (`--database`, `HANDPRINT_DATABASE`); an error if it was given
    /// and is not a database handprint knows, reported by the first command that opens it.
    pub database: Result<Database, registry::RegistryError>,
    /// JSON for programs instead of text for people.
    pub json: bool,
}

/// How a command opens the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// To record into it: the store is made if it is new.
    Write,
    /// To check it, writing nothing (`verify`).
    ReadOnly,
    /// To look works up: only a store that exists, and nothing is made.
    IfStored,
}

/// Opens the registry in the data directory. `None` only for [`Access::IfStored`] when the
/// directory holds no store.
pub fn open(g: &Global, access: Access) -> anyhow::Result<Option<Registry>> {
    let database = g.database.as_ref().map_err(|e| anyhow::anyhow!("--database: {e}"))?;
    Ok(match access {
        Access::Write => Some(Registry::open_with(&g.home, database)?),
        Access::ReadOnly => Some(Registry::open_read_only_with(&g.home, database)?),
        Access::IfStored => registry::stored::open_if_stored(&g.home, database)?,
    })
}

/// The registry, opened to record into ([`Access::Write`]) or to check ([`Access::ReadOnly`]).
pub fn open_registry(g: &Global, access: Access) -> anyhow::Result<Registry> {
    open(g, access)?.with_context(|| format!("no registry in {}", g.home.display()))
}

/// A passphrase from HANDPRINT_PASSPHRASE, or asked for on the terminal (twice, to `confirm`
/// a new one); none when there is neither.
pub fn passphrase(confirm: bool) -> anyhow::Result<Option<String>> {
    if let Ok(p) = std::env::var("HANDPRINT_PASSPHRASE") {
        return Ok(Some(p));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let p = rpassword::prompt_password("passphrase: ")?;
    if confirm && rpassword::prompt_password("passphrase again: ")? != p {
        bail!("the passphrases differ");
    }
    Ok(Some(p))
}

/// The signing identity; its passphrase is asked for when the key is encrypted.
pub fn signer(reg: &Registry) -> anyhow::Result<Identity> {
    if let Some(w) = registry::identity::key_file_warning(&reg.home) {
        say!("warning: {}", esc(w));
    }
    match reg.signer(None) {
        Err(registry::RegistryError::Passphrase(_)) => Ok(reg.signer(passphrase(false)?.as_deref())?),
        other => Ok(other?),
    }
}
