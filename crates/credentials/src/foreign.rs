//! Manifests as other programs sign them, for tests of what handprint reads: any claim
//! generator, any actions, a parent ingredient, a remote manifest. Not used by handprint's
//! own signing (see [`crate::sign`]).

use std::io::Cursor;

use c2pa::crypto::raw_signature::SigningAlg;
use c2pa::{Builder, CallbackSigner, Context, Settings};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};

use crate::{CredentialsError, Signer};

/// Signs the PNG `image` with the c2pa crate: `definition` (title, claim generator),
/// `actions`, a parent ingredient labelled `parent` if given, and, with `remote`, nothing
/// embedded and the URL in XMP. Returns the image written and its manifest store.
pub fn sign_png(
    image: &[u8],
    definition: &Value,
    actions: &Value,
    parent: Option<&[u8]>,
    who: &Signer,
    remote: Option<&str>,
) -> Result<(Vec<u8>, Vec<u8>), CredentialsError> {
    let settings = Settings::new().with_json(
        &json!({
            "builder": {"thumbnail": {"enabled": false},
                        "actions": {"auto_created_action": {"enabled": false}, "auto_opened_action": {"enabled": false},
                                    "auto_placed_action": {"enabled": false}}},
            "verify": {"verify_after_sign": false}
        })
        .to_string(),
    )?;
    let key = who.key.clone();
    let callback = move |_: *const (), data: &[u8]| Ok(key.sign(data).to_bytes().to_vec());
    let signer = CallbackSigner::new(callback, SigningAlg::Ed25519, who.certificates_pem.as_bytes().to_vec());
    let context = Context::new().with_settings(settings)?.with_signer(signer).into_shared();
    let mut builder = Builder::from_shared_context(&context).with_definition(definition.to_string())?;
    if let Some(parent) = parent {
        builder.add_ingredient_from_stream(
            json!({"title": "parent.png", "relationship": "parentOf", "label": "parent"}).to_string(),
            "image/png",
            &mut Cursor::new(parent),
        )?;
    }
    for a in actions.as_array().into_iter().flatten() {
        builder.add_action(a.clone())?;
    }
    if let Some(url) = remote {
        builder.set_remote_url(url);
        builder.set_no_embed(true);
    }
    let mut out = Cursor::new(Vec::new());
    let store = builder.save_to_stream("image/png", &mut Cursor::new(image), &mut out)?;
    Ok((out.into_inner(), store))
}
