//! The OpenAPI document served at `/openapi.json` against the router: every route and method
//! the router serves is documented, nothing is documented that it does not serve, every
//! reference resolves, and every operation names the answers any request can get. The
//! routes are read from the router's source, so a route added there without its
//! documentation fails here.

use std::collections::BTreeSet;

use serde_json::Value;

const ROUTER_SOURCE: &str = include_str!("../src/lib.rs");
const DOCUMENT: &str = include_str!("../src/openapi.json");

const METHODS: [&str; 8] = ["get", "post", "put", "delete", "patch", "head", "options", "trace"];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).unwrap_or_else(|e| panic!("src/openapi.json: not JSON: {e}"))
}

/// A path with its parameters' names erased (`/works/{id}/evidence/{*path}` and
/// `/works/{n}/evidence/{path}` are the same route): axum and OpenAPI name them apart.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The string literal `text` starts with (after `"`), and the rest after its closing quote.
fn literal(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.find('"')?;
    Some((&body[..end], &body[end + 1..]))
}

/// The method routers called at the top level of `.route(PATH, <args>)`: `get(h)`,
/// `post(h).layer(..)`, `get(h).delete(h2)`, ... Nested calls (handlers, layers) are skipped.
fn methods_of(args: &str) -> (Vec<String>, usize) {
    let mut methods = Vec::new();
    let mut depth = 0usize;
    let mut ident = String::new();
    let mut chars = args.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                // Skip a string literal.
                for (_, d) in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
                ident.clear();
            }
            '(' => {
                if depth == 0 && METHODS.contains(&ident.as_str()) {
                    methods.push(ident.clone());
                }
                depth += 1;
                ident.clear();
            }
            ')' => {
                if depth == 0 {
                    return (methods, i);
                }
                depth -= 1;
                ident.clear();
            }
            c if c.is_alphanumeric() || c == '_' => ident.push(c),
            _ => ident.clear(),
        }
    }
    panic!("src/lib.rs: a .route( call is not closed");
}

/// Every (path shape, method) the router's source registers.
fn routed() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = ROUTER_SOURCE;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let Some((path, after)) = literal(rest.trim_start()) else {
            panic!(
                "src/lib.rs: a .route( whose path is not a string literal: {}",
                &rest[..rest.len().min(60)]
            );
        };
        let args = after
            .trim_start()
            .strip_prefix(',')
            .unwrap_or_else(|| panic!("src/lib.rs: route {path}: no handler"));
        let (methods, end) = methods_of(args);
        assert!(!methods.is_empty(), "src/lib.rs: route {path}: no method router (get, post, ...) found");
        for m in methods {
            routes.insert((shape(path), m));
        }
        rest = &args[end..];
    }
    routes
}

/// Every (path shape, method) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("src/openapi.json: no paths object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().unwrap_or_else(|| panic!("src/openapi.json: {path} is not an object"));
        for m in item.keys().filter(|k| METHODS.contains(&k.as_str())) {
            out.insert((shape(path), m.clone()));
        }
    }
    out
}

#[test]
fn the_router_source_yields_its_routes() {
    // The parser itself: a router without routes, or one it misreads, would make the
    // comparisons below vacuous.
    let routes = routed();
    assert!(routes.len() >= 20, "only {} routes read from src/lib.rs: {routes:?}", routes.len());
    for expected in [
        ("/v1/works/{}", "get"),
        ("/v1/works/{}", "delete"),
        ("/works/{}/evidence/{}", "get"),
        ("/lookup", "post"),
    ] {
        assert!(
            routes.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not read from src/lib.rs"
        );
    }
    assert!(!routes.iter().any(|(_, m)| m == "layer"), "a layer read as a method");
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true),
        "not an OpenAPI 3.1 document"
    );
    let routes = routed();
    let documented = documented(&doc);
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes of src/lib.rs missing from src/openapi.json: {missing:?}");
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "src/openapi.json documents routes src/lib.rs does not serve: {extra:?}");
}

fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer =
            r.strip_prefix('#').unwrap_or_else(|| panic!("src/openapi.json: {r}: only local references"));
        assert!(doc.pointer(pointer).is_some(), "src/openapi.json: {r} resolves to nothing");
    }
}

#[test]
fn path_parameters_are_declared_and_limits_answered_everywhere() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in
            item.as_object().expect("path item").iter().filter(|(k, _)| METHODS.contains(&k.as_str()))
        {
            let params: Vec<Value> =
                shared.iter().chain(op["parameters"].as_array().into_iter().flatten()).cloned().collect();
            let declared: BTreeSet<&str> =
                params.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect();
            let named: BTreeSet<&str> = path.split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
            assert_eq!(
                declared, named,
                "{method} {path}: path parameters declared {declared:?}, named {named:?}"
            );
            let responses =
                op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
            // The guard in front of every route sheds load and limits each client.
            for status in ["429", "503"] {
                assert!(responses.contains_key(status), "{method} {path}: no {status} answer");
            }
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success answer");
        }
    }
}
