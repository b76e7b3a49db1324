//! The signature base (RFC 9421 §2.5): the values of covered components taken from a
//! request, and [`extract`], which reads one labelled signature out of `Signature-Input`
//! and `Signature` and rebuilds the base it was made over. No policy lives here: which
//! components, parameters and keys are acceptable is [`crate::verify`]'s business.

use ed25519_dalek::Signature;
use http::HeaderMap;
use http::header::HeaderName;

use crate::sf::{self, Bare, Item, Member, Params};
use crate::verify::Incoming;
use crate::{MAX_COMPONENTS, MAX_FIELD, SignatureError};

/// The derived components this crate can compute (RFC 9421 §2.2).
const DERIVED: [&str; 4] = ["@method", "@authority", "@path", "@query"];

/// A request's method and target, the inputs of the derived components.
pub(crate) struct Target<'a> {
    pub method: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

impl Target<'_> {
    /// The value of a derived component, normalised as RFC 9421 §2.2 says.
    fn derived(&self, name: &str) -> Result<String, SignatureError> {
        let value = match name {
            "@method" => self.method.to_string(),
            "@authority" => self.authority.to_ascii_lowercase(),
            "@path" if self.path.is_empty() => "/".to_string(),
            "@path" => self.path.to_string(),
            "@query" => format!("?{}", self.query.unwrap_or("")),
            _ => return Err(SignatureError::UnsupportedComponent(name.to_string())),
        };
        check_value(name, &value)?;
        Ok(value)
    }

    /// The lines of the signature base for the given covered components of a request
    /// whose fields are looked up by `field`.
    pub(crate) fn lines(
        &self,
        components: &[String],
        mut field: impl FnMut(&str) -> Result<Option<String>, SignatureError>,
    ) -> Result<Vec<(String, String)>, SignatureError> {
        let mut lines = Vec::with_capacity(components.len());
        for name in components {
            let value = if name.starts_with('@') {
                self.derived(name)?
            } else {
                field(name)?.ok_or_else(|| SignatureError::AbsentComponent(name.clone()))?
            };
            lines.push((name.clone(), value));
        }
        Ok(lines)
    }
}

/// A value must fit on its line of the base: printable ASCII (and tab), bounded length.
fn check_value(name: &str, value: &str) -> Result<(), SignatureError> {
    if value.len() > MAX_FIELD {
        return Err(SignatureError::TooLarge { name: name.to_string() });
    }
    if !value.bytes().all(|c| c == b'\t' || (0x20..=0x7e).contains(&c)) {
        return Err(SignatureError::BadValue {
            name: name.to_string(),
            reason: "a character outside printable ASCII",
        });
    }
    Ok(())
}

/// The signature base: `"<name>": <value>\n` per component, then the params line.
pub(crate) fn signature_base(lines: &[(String, String)], signature_params: &str) -> String {
    let mut base = String::new();
    for (name, value) in lines {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {signature_params}"));
    base
}

/// The value of a field as RFC 9421 §2.1 canonicalises it: each line trimmed, lines
/// joined with ", ". `None` when the request has no such field.
pub(crate) fn field_value(headers: &HeaderMap, name: &str) -> Result<Option<String>, SignatureError> {
    let mut joined: Option<String> = None;
    for line in headers.get_all(name) {
        let text = line.to_str().map_err(|_| SignatureError::BadValue {
            name: name.to_string(),
            reason: "a character outside ASCII",
        })?;
        let text = text.trim_matches([' ', '\t']);
        match joined.as_mut() {
            None => joined = Some(text.to_string()),
            Some(j) => {
                j.push_str(", ");
                j.push_str(text);
            }
        }
        if joined.as_ref().is_some_and(|j| j.len() > MAX_FIELD) {
            return Err(SignatureError::TooLarge { name: name.to_string() });
        }
    }
    Ok(joined)
}

/// One labelled signature read from a request, with the base rebuilt from the request.
#[derive(Debug, Clone)]
pub struct Extracted {
    /// Covered component names, in signed order.
    pub components: Vec<String>,
    /// The signature base the signature must hold over.
    pub base: String,
    pub signature: Signature,
    params: Params,
}

impl Extracted {
    /// An integer signature parameter; `Malformed` if it has another type.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, SignatureError> {
        match self.param(name) {
            None => Ok(None),
            Some(Bare::Integer(n)) => Ok(Some(*n)),
            Some(_) => Err(param_type(name, "an integer")),
        }
    }

    /// A string signature parameter; `Malformed` if it has another type.
    pub fn string(&self, name: &str) -> Result<Option<&str>, SignatureError> {
        match self.param(name) {
            None => Ok(None),
            Some(Bare::String(s)) => Ok(Some(s)),
            Some(_) => Err(param_type(name, "a string")),
        }
    }

    fn param(&self, name: &str) -> Option<&Bare> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

fn param_type(name: &str, kind: &str) -> SignatureError {
    SignatureError::Malformed { field: "Signature-Input", reason: format!("parameter {name} is not {kind}") }
}

fn malformed(field: &'static str) -> impl Fn(String) -> SignatureError {
    move |reason| SignatureError::Malformed { field, reason }
}

/// Reads the signature labelled `label` from a request and rebuilds its signature base.
/// It checks syntax and the limits only: parameters, covered components and the signature
/// itself are left to the caller ([`crate::verify`] for handprint's own requests).
pub fn extract(req: &Incoming<'_>, label: &str) -> Result<Extracted, SignatureError> {
    let input =
        field_value(req.headers, "signature-input")?.ok_or(SignatureError::Missing("Signature-Input"))?;
    let signature = field_value(req.headers, "signature")?.ok_or(SignatureError::Missing("Signature"))?;
    let input = sf::parse_dictionary(&input).map_err(malformed("Signature-Input"))?;
    let signature = sf::parse_dictionary(&signature).map_err(malformed("Signature"))?;

    let missing = |field| SignatureError::MissingLabel { field, label: label.to_string() };
    let (items, params) =
        match input.into_iter().find(|(k, _)| k == label).ok_or_else(|| missing("Signature-Input"))? {
            (_, Member::Inner(items, params)) => (items, params),
            _ => return Err(malformed("Signature-Input")(format!("{label} is not an inner list"))),
        };
    let signature =
        match signature.into_iter().find(|(k, _)| k == label).ok_or_else(|| missing("Signature"))? {
            (_, Member::Item(Item { bare: Bare::Bytes(bytes), .. })) => {
                let bytes: [u8; 64] = bytes.try_into().map_err(|b: Vec<u8>| {
                    malformed("Signature")(format!("{label} holds {} bytes, not 64", b.len()))
                })?;
                Signature::from_bytes(&bytes)
            }
            _ => return Err(malformed("Signature")(format!("{label} is not a byte sequence"))),
        };

    if items.len() > MAX_COMPONENTS {
        return Err(SignatureError::TooManyComponents(items.len()));
    }
    let mut components: Vec<String> = Vec::with_capacity(items.len());
    for item in &items {
        let name = match item {
            Item { bare: Bare::String(name), params } if params.is_empty() => name,
            _ => return Err(SignatureError::UnsupportedComponent(sf::show(item))),
        };
        if components.contains(name) {
            return Err(malformed("Signature-Input")(format!("{name} is covered twice")));
        }
        let supported = if name.starts_with('@') {
            DERIVED.contains(&name.as_str())
        } else {
            // Field names are covered in lower case (RFC 9421 §2.1).
            HeaderName::from_bytes(name.as_bytes()).is_ok_and(|h| h.as_str() == name)
        };
        if !supported {
            return Err(SignatureError::UnsupportedComponent(format!("{name:?}")));
        }
        components.push(name.clone());
    }

    let target = Target { method: req.method, authority: req.authority, path: req.path, query: req.query };
    let lines = target.lines(&components, |name| field_value(req.headers, name))?;
    let signature_params = sf::serialize_inner_list(&items, &params).map_err(malformed("Signature-Input"))?;
    Ok(Extracted { components, base: signature_base(&lines, &signature_params), signature, params })
}
