//! Handouts stay true: every backticked name in a README or a module doc exists in the tree.
//!
//! The documents read: `README.md`, `labs/README.md`, every `labs/*/README.md`,
//! `tests/interop/README.md`, and the `//!` docs of `src/lib.rs`, every `src/**/mod.rs` and
//! every `src/x.rs` that has an `src/x/` folder beside it (a module root).
//!
//! Every backticked span outside a fenced code block is read by these rules, in order:
//!
//! 1. `make T …`: `T` must be a Makefile target (the static pattern `lab-%` is expanded
//!    from `LABS`). Placeholders (`make lab-<name>`) and options (`make -n`) are not checked.
//! 2. `fn f …`, `const C …`, `static S …`, `struct/enum/trait/type/mod N …`: the name after the
//!    keyword must be defined somewhere in `src/`, `labs/` or `tests/`.
//! 3. A call written out, `f(x, y)` or `a::f(n)`: the path before `(` is checked as in rule 7.
//! 4. Any other span with a space is a command, a formula or prose: not checked.
//! 5. A span with non-ASCII text, or one of ``= ? ' " < > { } [ ] | , + * \ $ % ~ # @ & ; ^``, or a
//!    single `:` (not `::`) is a shell snippet, a placeholder, a protocol string, an address or
//!    a byte literal: not checked.
//! 6. A span with a `/`, or ending in `.rs`, `.md`, `.sh` or `.toml`, is a path: it must exist
//!    from the repository root, from the document's folder, or (for a lab's handout
//!    `labs/x/README.md` or any doc inside `src/x/`) from the architecture's folder `src/x/`;
//!    a bare file name (`codec.rs`) may be anywhere inside that folder. Paths under `target/` are build
//!    outputs and paths starting with `/` are URL paths on the wire: not checked.
//! 7. `f()`, `a::b`, `a::b()`, `x.f()`: every segment of `a::b` (but `crate`, `p2plab`…) and
//!    the method `f` of `x.f()` must be defined: a fn, const, static, type, module, macro,
//!    enum variant or struct field (std's prelude names count). A path into another crate
//!    (`std::…`, `crossbeam_channel::…`) is not checked, nor are the few methods of those
//!    crates that the concurrency model is written in (`try_send`, `recv_timeout`).
//! 8. `UPPER_SNAKE` (with an underscore): a `const` or `static`, a Makefile variable, or an
//!    environment variable the tools read (`RUST_LOG`). One word in capitals (`TTL`) is a
//!    protocol word: not checked.
//! 9. A bare snake_case name with an underscore and two letters or more before it
//!    (`forward_targets`, `time_scale`) is checked as in rule 7; `u_s` or `d_min` is a
//!    formula's variable: not checked.
//! 10. `lab-x` / `bench-x`: a `[[bin]]` of `Cargo.toml`.
//! 11. Anything else (numbers, plain words, `CamelCase` message names, wire fields): not checked.
//!
//! An exercise that asks the student to add something writes "(to add)" right after the
//! span; such a span is not checked. Separately, no file of the repository may point at the
//! course notes by a path the repository does not ship.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// One backticked span: its line (1-based), its text, and the rest of the line after it.
#[derive(Debug, Clone, PartialEq)]
struct Span {
    line: usize,
    text: String,
    after: String,
}

/// The backticked spans of `lines` (line number, text), outside fenced code blocks.
fn spans<'a>(lines: impl IntoIterator<Item = (usize, &'a str)>) -> Vec<Span> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (line, text) in lines {
        if text.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = text;
        while let Some(open) = rest.find('`') {
            // A run of n backticks opens a span that the next run of n backticks closes.
            let ticks = rest[open..].chars().take_while(|&c| c == '`').count();
            let fence = "`".repeat(ticks);
            let body = &rest[open + ticks..];
            let Some(close) = body.find(&fence) else {
                break;
            };
            out.push(Span {
                line,
                text: body[..close].trim().to_string(),
                after: body[close + ticks..].to_string(),
            });
            rest = &body[close + ticks..];
        }
    }
    out
}

/// Every line of a markdown file, numbered from 1.
fn markdown_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect()
}

/// The `//!` lines of a Rust file, numbered as in the file, without the `//!`.
fn module_doc_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let doc = l.trim_start().strip_prefix("//!")?;
            Some((i + 1, doc.strip_prefix(' ').unwrap_or(doc)))
        })
        .collect()
}

/// What a span claims exists.
#[derive(Debug, Clone, PartialEq)]
enum Claim {
    Path(String),
    MakeTarget(String),
    /// An item path: every segment but the last may be a module or type; the last is checked.
    Item(String),
    Const(String),
    Binary(String),
}

const ITEM_KEYWORDS: [&str; 8] = [
    "fn", "const", "static", "struct", "enum", "trait", "type", "mod",
];
const SKIP_CHARS: &str = "=?'\"<>{}[]|,+*\\$%~#@&;^";
const EXTENSIONS: [&str; 4] = [".rs", ".md", ".sh", ".toml"];
const OTHER_CRATES: [&str; 9] = [
    "std",
    "core",
    "alloc",
    "crossbeam_channel",
    "getopts",
    "log",
    "sha1",
    "byteorder",
    "env_logger",
];

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn leading_ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

fn is_upper_snake(s: &str) -> bool {
    s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A `:` that is not half of a `::`.
fn has_single_colon(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b':' && !(i > 0 && b[i - 1] == b':') && !(i + 1 < b.len() && b[i + 1] == b':')
    })
}

/// An item path (`a::b`, `x.f`) whose segments are all identifiers, and not into another crate.
fn item_path(path: &str) -> Option<Claim> {
    let segments: Vec<&str> = path.split("::").flat_map(|p| p.split('.')).collect();
    if !segments.iter().all(|p| is_ident(p)) || OTHER_CRATES.contains(&segments[0]) {
        return None;
    }
    Some(Claim::Item(path.to_string()))
}

/// Rule 3: `f(args)` or `a::f(args)`, a call written out; the path before `(` is checked.
fn call_with_arguments(s: &str) -> Option<Claim> {
    let (path, args) = s.split_once('(')?;
    if !s.ends_with(')') || args == ")" || !s.is_ascii() {
        return None;
    }
    item_path(path)
}

/// Rule 9: a bare snake_case name with an underscore and at least two letters before it
/// (`forward_targets`, `time_scale`); `u_s` or `d_min` is a formula's variable.
fn is_item_name(s: &str) -> bool {
    let head = s.split('_').next().unwrap_or("");
    is_ident(s)
        && s.contains('_')
        && head.len() >= 2
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The rules of the module doc, in its order. `None`: the span is not checked.
fn classify(span: &str) -> Option<Claim> {
    let s = span.trim();
    if let Some(rest) = s.strip_prefix("make ") {
        let target = rest.split_whitespace().next()?;
        let placeholder = target.contains(|c| "<>$%".contains(c));
        return (!placeholder && !target.starts_with('-') && !target.contains('='))
            .then(|| Claim::MakeTarget(target.to_string()));
    }
    if let Some((keyword, rest)) = s.split_once(' ') {
        if ITEM_KEYWORDS.contains(&keyword) {
            let name = leading_ident(rest.trim_start());
            if name.is_empty() {
                return None;
            }
            return Some(match keyword {
                "const" | "static" => Claim::Const(name.to_string()),
                _ => Claim::Item(name.to_string()),
            });
        }
    }
    if let Some(claim) = call_with_arguments(s) {
        return Some(claim);
    }
    if s.is_empty() || s.contains(char::is_whitespace) {
        return None;
    }
    if !s.is_ascii() || s.contains(|c| SKIP_CHARS.contains(c)) || has_single_colon(s) {
        return None;
    }
    if s.contains('/') || EXTENSIONS.iter().any(|e| s.ends_with(e)) {
        if s.starts_with('/') || s.starts_with("target/") {
            return None;
        }
        return Some(Claim::Path(s.trim_end_matches('/').to_string()));
    }
    let call = s.strip_suffix("()");
    let path = call.unwrap_or(s);
    if call.is_some() || path.contains("::") {
        return item_path(path);
    }
    if is_upper_snake(s) {
        return Some(Claim::Const(s.to_string()));
    }
    if is_item_name(s) {
        return Some(Claim::Item(s.to_string()));
    }
    let binary = ["lab-", "bench-"].iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && is_ident(rest))
    });
    binary.then(|| Claim::Binary(s.to_string()))
}

/// Everything a document may name: files, make targets, items, binaries.
#[derive(Debug, Default)]
struct Tree {
    /// Every file and folder, relative to the root, with `/` separators.
    paths: BTreeSet<String>,
    targets: BTreeSet<String>,
    /// Makefile variables and the environment variables the tools read.
    variables: BTreeSet<String>,
    items: BTreeSet<String>,
    consts: BTreeSet<String>,
    binaries: BTreeSet<String>,
}

/// Names from std's prelude that a doc may write as a call (`Ok(None)`).
const PRELUDE: [&str; 9] = [
    "Ok", "Err", "Some", "None", "Box", "Vec", "String", "Option", "Result",
];

/// Path segments that name this crate, not an item in it.
const CRATE_ROOTS: [&str; 5] = ["crate", "self", "super", "Self", "p2plab"];

/// Environment variables a student sets: the logger's and cargo's.
const ENV_VARS: [&str; 3] = ["RUST_LOG", "RUST_BACKTRACE", "CARGO_TARGET_DIR"];

/// Methods of the crates we use that docs name bare because the concurrency model is
/// written in them (a coordinator hands bytes over with `try_send`).
const OTHER_CRATES_FNS: [&str; 3] = ["try_send", "recv_timeout", "select"];

impl Tree {
    /// `path` as seen from `dir`, with `.` and `..` resolved, or `None` if it leaves the root.
    fn resolve(dir: &str, path: &str) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        let joined = if dir.is_empty() {
            path.to_string()
        } else {
            format!("{dir}/{path}")
        };
        for c in Path::new(&joined).components() {
            match c {
                Component::Normal(p) => parts.push(p.to_str()?),
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(parts.join("/"))
    }

    fn has_path(&self, doc_dir: &str, path: &str) -> bool {
        // A lab's handout (labs/x/README.md) also names the files of its module, src/x/.
        let module = doc_dir
            .strip_prefix("labs/")
            .map(|lab| format!("src/{lab}"))
            .unwrap_or_default();
        // A module's doc also names the files of its architecture: src/x/ and below.
        let arch: String = doc_dir.split('/').take(2).collect::<Vec<_>>().join("/");
        let arch = if arch.starts_with("src/") {
            arch
        } else {
            module.clone()
        };
        if [
            ("", path),
            (doc_dir, path),
            (module.as_str(), path),
            (arch.as_str(), path),
        ]
        .iter()
        .filter_map(|(d, p)| Self::resolve(d, p))
        .any(|p| self.paths.contains(&p))
        {
            return true;
        }
        // A bare file or folder name in a role table (`codec.rs` in a row about `msg/`)
        // names a file somewhere inside the architecture's folder.
        let bare = path.trim_end_matches('/');
        !bare.contains('/')
            && !arch.is_empty()
            && self
                .paths
                .iter()
                .any(|p| p.starts_with(&format!("{arch}/")) && p.ends_with(&format!("/{bare}")))
    }

    /// Why `claim`, made in a document in `doc_dir`, does not hold; `None` when it does.
    fn refute(&self, doc_dir: &str, claim: &Claim) -> Option<String> {
        match claim {
            Claim::Path(p) => (!self.has_path(doc_dir, p))
                .then(|| "no such file or folder, from the root or from the document".into()),
            Claim::MakeTarget(t) => {
                (!self.targets.contains(t)).then(|| "no such target in the Makefile".into())
            }
            Claim::Item(path) => {
                // `x.f()`: `x` is a variable, only the method is checked; `a::b::c`: all three.
                let named = path.rsplit('.').next().unwrap_or(path);
                let missing = named
                    .split("::")
                    .filter(|s| !CRATE_ROOTS.contains(s) && !OTHER_CRATES_FNS.contains(s))
                    .find(|s| !self.items.contains(*s))?;
                Some(format!(
                    "no fn, const, type, module, variant or field named `{missing}`"
                ))
            }
            Claim::Const(c) => {
                (!self.consts.contains(c) && !self.variables.contains(c)).then(|| {
                    "no const or static, Makefile or environment variable of that name".into()
                })
            }
            Claim::Binary(b) => {
                (!self.binaries.contains(b)).then(|| "no [[bin]] of that name in Cargo.toml".into())
            }
        }
    }

    /// Reads the Makefile's targets and variables, expanding `$(addprefix P,$(VAR))`.
    fn read_makefile(&mut self, text: &str) {
        let mut vars: Vec<(String, Vec<String>)> = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('\t') && !l.starts_with('#'))
        {
            let assign = [":=", "+=", "?=", "="]
                .iter()
                .filter_map(|op| line.find(op).map(|i| (i, *op)))
                .min();
            let colon = line.find(':');
            if let Some((i, op)) = assign.filter(|(i, _)| colon.is_none_or(|c| c >= *i)) {
                let name = line[..i].trim().to_string();
                let words: Vec<String> = line[i + op.len()..]
                    .split_whitespace()
                    .map(String::from)
                    .collect();
                self.variables.insert(name.clone());
                match vars.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) if op == "+=" => v.extend(words),
                    Some((_, v)) => *v = words,
                    None => vars.push((name, words)),
                }
                continue;
            }
            let Some(c) = colon else { continue };
            let targets = &line[..c];
            if targets.trim_start().starts_with('.') {
                continue; // .PHONY and friends
            }
            for word in expand_words(targets, &vars) {
                self.targets.insert(word);
            }
        }
    }

    /// Records every name defined in a Rust file: items after their keyword, enum variants
    /// and struct fields (a doc's `Config::r` names a field).
    fn read_rust(&mut self, text: &str) {
        // The enum or struct whose body is open, and the brace depth of its members.
        let mut body: Option<(&str, i32)> = None;
        let mut depth = 0;
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '!'))
                .filter(|w| !w.is_empty())
                .collect();
            for pair in words.windows(2) {
                let name = leading_ident(pair[1]);
                if name.is_empty() {
                    continue;
                }
                let keyword = pair[0];
                if ITEM_KEYWORDS.contains(&keyword)
                    || keyword == "union"
                    || keyword == "macro_rules!"
                {
                    self.items.insert(name.to_string());
                }
                if keyword == "const" || keyword == "static" {
                    self.consts.insert(name.to_string());
                }
                if (keyword == "enum" || keyword == "struct")
                    && body.is_none()
                    && code.contains('{')
                {
                    body = Some((if keyword == "enum" { "enum" } else { "struct" }, depth + 1));
                }
            }
            if let Some((kind, d)) = body.filter(|(_, d)| *d == depth) {
                let member = code.trim_start();
                let member = member
                    .strip_prefix("pub")
                    .map(|m| m.trim_start())
                    .map(|m| {
                        m.strip_prefix('(')
                            .and_then(|m| m.split_once(')'))
                            .map_or(m, |(_, m)| m)
                    })
                    .unwrap_or(member)
                    .trim_start();
                let name = leading_ident(member);
                let is_member = match kind {
                    "enum" => name.starts_with(|c: char| c.is_ascii_uppercase()),
                    _ => !name.is_empty() && member[name.len()..].trim_start().starts_with(':'),
                };
                if is_member && d == depth {
                    self.items.insert(name.to_string());
                }
            }
            for c in code.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if body.is_some_and(|(_, d)| depth < d) {
                            body = None;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Records the `name = "…"` lines of Cargo.toml: the package and every binary.
    fn read_cargo_toml(&mut self, text: &str) {
        for line in text.lines() {
            if let Some(v) = line.trim().strip_prefix("name = ") {
                self.binaries.insert(v.trim_matches('"').to_string());
            }
        }
    }
}

/// The words of a Makefile target list, with `$(VAR)` and `$(addprefix P,$(VAR))` expanded.
fn expand_words(text: &str, vars: &[(String, Vec<String>)]) -> Vec<String> {
    let lookup = |name: &str| -> Vec<String> {
        vars.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix("$(") {
            // Find the matching parenthesis.
            let mut depth = 1;
            let end = inner
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(inner.len(), |(i, _)| i);
            let call = &inner[..end];
            if let Some(args) = call.strip_prefix("addprefix ") {
                if let Some((prefix, list)) = args.split_once(',') {
                    for w in expand_words(list, vars) {
                        out.push(format!("{prefix}{w}"));
                    }
                }
            } else {
                out.extend(lookup(call.trim()));
            }
            rest = inner.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rel(path: &Path) -> String {
    let p = path.strip_prefix(root()).unwrap_or(path);
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file and folder under `dir`, build outputs and git aside.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "target" || name == ".git" {
            continue;
        }
        out.push(p.clone());
        if p.is_dir() {
            walk(&p, out);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load_tree() -> Tree {
    let mut tree = Tree::default();
    let mut all = Vec::new();
    walk(&root(), &mut all);
    for p in &all {
        tree.paths.insert(rel(p));
        let under_code = ["src/", "labs/", "tests/"]
            .iter()
            .any(|d| rel(p).starts_with(d));
        if under_code && p.extension().is_some_and(|e| e == "rs") {
            tree.read_rust(&read(p));
        }
    }
    tree.read_makefile(&read(&root().join("Makefile")));
    tree.read_cargo_toml(&read(&root().join("Cargo.toml")));
    tree.variables.extend(ENV_VARS.map(String::from));
    tree.items.extend(PRELUDE.map(String::from));
    tree
}

/// The documents the test reads, relative to the root: (path, is a Rust module doc).
fn documents() -> Vec<(String, bool)> {
    let mut docs = vec![
        ("README.md".to_string(), false),
        ("labs/README.md".to_string(), false),
        ("tests/interop/README.md".to_string(), false),
    ];
    let mut all = Vec::new();
    walk(&root().join("labs"), &mut all);
    for p in &all {
        let r = rel(p);
        if r.matches('/').count() == 2 && r.ends_with("/README.md") {
            docs.push((r, false));
        }
    }
    docs.push(("src/lib.rs".to_string(), true));
    let mut src = Vec::new();
    walk(&root().join("src"), &mut src);
    for p in &src {
        let r = rel(p);
        let module_root =
            r.ends_with("/mod.rs") || (r.ends_with(".rs") && p.with_extension("").is_dir());
        if module_root {
            docs.push((r, true));
        }
    }
    docs
}

/// Every false claim of the document at `path` (relative to the root), as report lines.
fn check_document(tree: &Tree, path: &str, text: &str, rust: bool) -> Vec<String> {
    let lines = if rust {
        module_doc_lines(text)
    } else {
        markdown_lines(text)
    };
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    for span in spans(lines) {
        if span.after.trim_start().starts_with("(to add)") {
            continue;
        }
        let Some(claim) = classify(&span.text) else {
            continue;
        };
        if let Some(why) = tree.refute(dir, &claim) {
            out.push(format!("{path}:{}: `{}`: {why}", span.line, span.text));
        }
    }
    out
}

/// The path of the course notes on the developers' machines, which the repository does not ship.
fn notes_path() -> String {
    ["notes", "p2p-notes.txt"].join("/")
}

#[test]
fn every_backticked_name_in_the_handouts_exists() {
    let tree = load_tree();
    let mut offenders = Vec::new();
    for (path, rust) in documents() {
        offenders.extend(check_document(
            &tree,
            &path,
            &read(&root().join(&path)),
            rust,
        ));
    }
    assert!(
        offenders.is_empty(),
        "{} backticked names point at nothing (see the rules in tests/handouts.rs):\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}

#[test]
fn nothing_points_at_notes_the_repository_does_not_ship() {
    let needle = notes_path();
    let mut all = Vec::new();
    walk(&root(), &mut all);
    let mut offenders = Vec::new();
    for p in all.iter().filter(|p| p.is_file()) {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue; // not text
        };
        for (i, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                offenders.push(format!("{}:{}: {}", rel(p), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "{} lines point at {needle}, which the repository does not contain; write \
         \"the course notes (section 6), which your instructor hands out\":\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}

#[test]
fn every_lab_of_the_makefile_is_in_both_readmes() {
    let mut tree = Tree::default();
    tree.read_makefile(&read(&root().join("Makefile")));
    let labs: Vec<&String> = tree
        .targets
        .iter()
        .filter(|t| t.starts_with("lab-"))
        .collect();
    assert!(labs.len() >= 6, "{labs:?}");
    for doc in ["README.md", "labs/README.md"] {
        let text = read(&root().join(doc));
        let missing: Vec<&&String> = labs
            .iter()
            .filter(|l| !text.contains(&format!("`make {l}`")))
            .collect();
        assert!(missing.is_empty(), "{doc} does not list {missing:?}");
    }
}

// The extractor's own tests: a check that cannot fail is a defect.

fn one_line(text: &str) -> Vec<String> {
    spans([(1, text)]).into_iter().map(|s| s.text).collect()
}

#[test]
fn spans_are_the_backticked_parts_of_a_line() {
    assert_eq!(one_line("see `a.rs` and `b()` here"), ["a.rs", "b()"]);
    assert_eq!(one_line("no span, one ` tick"), Vec::<String>::new());
    assert_eq!(
        one_line("``has `tick` inside`` then `x`"),
        ["has `tick` inside", "x"]
    );
    let s = &spans([(7, "ask `Foo::bar` (to add) now")])[0];
    assert_eq!((s.line, s.after.as_str()), (7, " (to add) now"));
}

#[test]
fn fenced_blocks_are_not_read() {
    let text = "before `a.rs`\n```sh\nmake `b.rs`\n```\nafter `c.rs`";
    let got: Vec<(usize, String)> = spans(markdown_lines(text))
        .into_iter()
        .map(|s| (s.line, s.text))
        .collect();
    assert_eq!(got, [(1, "a.rs".to_string()), (5, "c.rs".to_string())]);
}

#[test]
fn module_docs_keep_their_line_numbers() {
    let text = "//! one `x.rs`\nuse std::io;\n//!two\n    //! `y.rs`";
    assert_eq!(
        module_doc_lines(text),
        [(1, "one `x.rs`"), (3, "two"), (4, "`y.rs`")]
    );
}

#[test]
fn classify_follows_the_rules_in_order() {
    use Claim::*;
    let c = |s: &str| classify(s);
    assert_eq!(
        c("make lab-gnutella"),
        Some(MakeTarget("lab-gnutella".into()))
    );
    assert_eq!(
        c("make lab-x ARGS='--seed 7'"),
        Some(MakeTarget("lab-x".into()))
    );
    assert_eq!(c("make lab-<name>"), None);
    assert_eq!(
        c("fn decode(&[u8]) -> Result<Msg, Error>"),
        Some(Item("decode".into()))
    );
    assert_eq!(
        c("const UPLOAD_SLOTS: usize = 4"),
        Some(Const("UPLOAD_SLOTS".into()))
    );
    assert_eq!(c("cargo run --release -- --help"), None);
    assert_eq!(c("RUST_LOG=debug"), None);
    assert_eq!(c("127.0.0.1:6969"), None);
    assert_eq!(c("http://127.0.0.1/announce"), None);
    assert_eq!(c("/get/0/NAME"), None);
    assert_eq!(c("b\"BitTorrent protocol\""), None);
    assert_eq!(c("N·F/u_s"), None);
    assert_eq!(c("src/gnutella/"), Some(Path("src/gnutella".into())));
    assert_eq!(c("main.rs"), Some(Path("main.rs".into())));
    assert_eq!(c("target/bench/x.json"), None);
    assert_eq!(c("pick_piece()"), Some(Item("pick_piece".into())));
    assert_eq!(c("cli::bt_get"), Some(Item("cli::bt_get".into())));
    assert_eq!(c("handle.stop()"), Some(Item("handle.stop".into())));
    assert_eq!(c("std::net::TcpStream"), None);
    assert_eq!(c("crossbeam_channel::select!"), None);
    assert_eq!(c("MAX_PAYLOAD"), Some(Const("MAX_PAYLOAD".into())));
    assert_eq!(c("TTL"), None);
    assert_eq!(c("lab-dht"), Some(Binary("lab-dht".into())));
    assert_eq!(c("tit-for-tat"), None);
    assert_eq!(c("QueryHit"), None);
    assert_eq!(c("0x13"), None);
    assert_eq!(c("Config::r_for(n)"), Some(Item("Config::r_for".into())));
    assert_eq!(c("cs_bound(f, n, us, dmin)"), Some(Item("cs_bound".into())));
    assert_eq!(c("Config::dedup = false"), None);
    assert_eq!(c("forward_targets"), Some(Item("forward_targets".into())));
    assert_eq!(c("u_s"), None);
    assert_eq!(c("d_min"), None);
    assert_eq!(c("rarest"), None);
}

const MAKEFILE: &str = "\
LABS    := napster
LABS    += gnutella
ARGS    ?=
.PHONY: help test $(addprefix lab-,$(LABS))

help:
\t@echo help
test: build
$(addprefix lab-,$(LABS)): lab-%:
\tcargo run --bin lab-$*
";

#[test]
fn makefile_targets_include_the_expanded_static_pattern() {
    let mut tree = Tree::default();
    tree.read_makefile(MAKEFILE);
    let targets: Vec<&str> = tree.targets.iter().map(String::as_str).collect();
    assert_eq!(targets, ["help", "lab-gnutella", "lab-napster", "test"]);
    assert!(tree.variables.contains("ARGS") && tree.variables.contains("LABS"));
}

const SOURCE: &str = "\
pub const MAX_TTL: u8 = 7; // fn not_this
pub(crate) fn forward_targets(x: u8) {}
static COUNT: u8 = 0;
pub enum Msg {
    /// A query.
    Query { ttl: u8 },
    QueryHit(Vec<u8>),
}
macro_rules! hexdump { () => {} }
pub struct Config {
    /// Replicas.
    pub r: usize,
    pub(crate) pool: Vec<u8>,
    inner: Inner,
}
struct Lab;
fn outside() { Inner }
";

#[test]
fn definitions_are_read_from_rust_source() {
    let mut tree = Tree::default();
    tree.read_rust(SOURCE);
    for name in [
        "MAX_TTL",
        "forward_targets",
        "COUNT",
        "Msg",
        "Query",
        "QueryHit",
        "hexdump",
        "Lab",
        "outside",
    ] {
        assert!(
            tree.items.contains(name),
            "{name} missing from {:?}",
            tree.items
        );
    }
    assert!(!tree.items.contains("not_this") && !tree.items.contains("Inner"));
    assert!(tree.consts.contains("MAX_TTL") && !tree.consts.contains("Msg"));
}

#[test]
fn a_false_claim_is_reported_with_file_and_line() {
    let mut tree = Tree::default();
    tree.read_makefile(MAKEFILE);
    tree.read_rust(SOURCE);
    tree.paths
        .extend(["labs/gnutella", "labs/gnutella/main.rs"].map(String::from));
    let doc = "\
Run `make lab-gnutella`, read `main.rs` and `labs/gnutella/`.
Change `MAX_TTL` in `forward_targets()`; `Msg::QueryHit` comes back, `p2plab::Lab`, `lab.outside()`.
Wrong: `make lab-kazaa`, `steps.rs`, `MAX_HOPS`, `route()`, `Descriptor::QueryHit`.
Exercise: write `pick_leader()` (to add).
```sh
make `nothing()`
```";
    let got = check_document(&tree, "labs/gnutella/README.md", doc, false);
    let spans: Vec<&str> = got
        .iter()
        .map(|l| l.split('`').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        spans,
        [
            "make lab-kazaa",
            "steps.rs",
            "MAX_HOPS",
            "route()",
            "Descriptor::QueryHit"
        ]
    );
    assert!(got
        .iter()
        .all(|l| l.starts_with("labs/gnutella/README.md:3: ")));
}

#[test]
fn paths_resolve_from_the_root_or_the_document() {
    let mut tree = Tree::default();
    tree.paths
        .extend(["src/gnutella/conn.rs", "README.md"].map(String::from));
    assert!(tree.has_path("src/gnutella", "conn.rs"));
    assert!(tree.has_path("labs/x", "../../README.md"));
    assert!(tree.has_path("labs/x", "src/gnutella/conn.rs"));
    assert!(!tree.has_path("src/kazaa", "conn.rs"));
    assert!(!tree.has_path("", "../outside.rs"));
    // A lab's handout names its module's files.
    assert!(tree.has_path("labs/gnutella", "conn.rs"));
    assert!(!tree.has_path("labs/kazaa", "conn.rs"));
}

#[test]
fn the_notes_path_is_the_one_developers_have() {
    // The forbidden path is built, not written, so that this file does not trip its own test.
    assert_eq!(notes_path().len(), "notes/".len() + "p2p-notes.txt".len());
    assert!(notes_path().starts_with("notes/"));
}
