//! Template sets: read from a folder (or the library embedded in the binary), checked whole
//! against the table, and installed into it.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::check::{self, Known, Problem, Source};
use super::{Definition, TemplateHandler};
use crate::table::{Action, Registry};

/// The origin of the templates embedded in the binary.
pub const LIBRARY_ORIGIN: &str = "ferrocat-library";

/// A checked set of templates, ready to enter a table.
pub struct TemplateSet {
    /// The entries, one per action key (a later file of the same key replaces an earlier one,
    /// as in Tracecat).
    pub actions: Vec<Action>,
    /// How many files were read.
    pub files: usize,
}

impl TemplateSet {
    /// The namespaces the set's actions fall in.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.actions.iter().map(|a| a.namespace().to_owned()).collect()
    }
}

/// Largest template file read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most template files one registry holds.
pub const MAX_FILES: usize = 5000;

/// Every `*.yml` / `*.yaml` file under `root` (any depth; paths through a `schemas` folder are
/// skipped, as Tracecat does; symbolic links are not followed), sorted by path; a file over
/// [`MAX_FILE_BYTES`] or more than [`MAX_FILES`] files is a problem.
pub fn read_dir(root: &Path) -> Result<Vec<Source>, Problem> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<Source>) -> Result<(), Problem> {
    let unreadable = |path: &Path, e: std::io::Error| Problem { path: path.display().to_string(), line: None, message: e.to_string() };
    for entry in std::fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
        let entry = entry.map_err(|e| unreadable(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "schemas" {
            continue;
        }
        // `file_type` does not follow links: a link is neither a folder nor a file here.
        let kind = entry.file_type().map_err(|e| unreadable(&path, e))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() && (name.ends_with(".yml") || name.ends_with(".yaml")) {
            let size = entry.metadata().map_err(|e| unreadable(&path, e))?.len();
            let too = |message: String| Problem { path: path.display().to_string(), line: None, message };
            if size > MAX_FILE_BYTES {
                return Err(too(format!("{size} bytes: a template file holds at most {MAX_FILE_BYTES}")));
            }
            if out.len() >= MAX_FILES {
                return Err(too(format!("a registry holds at most {MAX_FILES} template files")));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| unreadable(&path, e))?;
            out.push(Source { path: path.display().to_string(), text });
        }
    }
    Ok(())
}

/// The library embedded in the binary (`backend/registry/library`).
pub fn library_sources() -> Vec<Source> {
    LIBRARY.iter().map(|(path, text)| Source { path: format!("library/{path}"), text: (*text).to_owned() }).collect()
}

include!(concat!(env!("OUT_DIR"), "/library.rs"));

/// Parses and checks `sources` as one set against `table` (steps may call the set's own
/// templates and the table's actions); every problem of every file, or the set's entries
/// with `origin`.
pub fn prepare(sources: &[Source], table: &Registry, origin: &str) -> Result<TemplateSet, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut parsed: Vec<(&Source, Definition)> = Vec::new();
    for source in sources {
        match source.parse() {
            Ok(definition) => parsed.push((source, definition)),
            Err(problem) => problems.push(problem),
        }
    }
    // A later file of the same key replaces an earlier one.
    let mut latest: HashMap<String, usize> = HashMap::new();
    for (i, (_, definition)) in parsed.iter().enumerate() {
        latest.insert(definition.key(), i);
    }
    let set: HashMap<String, &Definition> = latest.iter().map(|(key, i)| (key.clone(), &parsed[*i].1)).collect();
    let known = Known { set: &set, table };
    for (i, (source, definition)) in parsed.iter().enumerate() {
        if latest.get(&definition.key()) == Some(&i) {
            problems.extend(check::check(source, definition, &known));
            if table.get(&definition.key()).is_some_and(|a| a.origin_name() == crate::BUILTIN_ORIGIN) {
                problems.push(source.problem(None, "name:", format!("{} is a built-in action and cannot be replaced", definition.key())));
            }
        }
    }
    let mut secrets = Secrets { set: &set, table, memo: HashMap::new() };
    let mut actions = Vec::new();
    for (i, (source, definition)) in parsed.iter().enumerate() {
        if latest.get(&definition.key()) != Some(&i) {
            continue;
        }
        match secrets.of(&definition.key(), &mut Vec::new()) {
            Ok((required, optional)) => actions.push(entry(definition, required, optional, origin)),
            Err(cycle) => problems.push(source.problem(None, "steps:", format!("templates call each other in a circle: {}", cycle.join(" → ")))),
        }
    }
    if problems.is_empty() {
        Ok(TemplateSet { actions, files: sources.len() })
    } else {
        Err(problems)
    }
}

/// Adds every action of `set` to `table`; how many.
pub fn install(table: &Registry, set: TemplateSet) -> Result<usize, crate::RegistryError> {
    let count = set.actions.len();
    for action in set.actions {
        table.add(action)?;
    }
    Ok(count)
}

/// Reads, checks and installs the templates under each of `dirs` into `table`.
pub fn install_dirs(table: &Registry, dirs: &[std::path::PathBuf]) -> Result<usize, Vec<Problem>> {
    let mut count = 0;
    for dir in dirs {
        let sources = read_dir(dir).map_err(|p| vec![p])?;
        let set = prepare(&sources, table, &format!("dir:{}", dir.display()))?;
        count += install(table, set).map_err(|e| vec![Problem { path: dir.display().to_string(), line: None, message: e.to_string() }])?;
    }
    Ok(count)
}

fn entry(definition: &Definition, required: BTreeSet<String>, optional: BTreeSet<String>, origin: &str) -> Action {
    let definition = Arc::new(definition.clone());
    let schema = ferrocat_dsl::expects_schema(&definition.expects).unwrap_or_else(|_| serde_json::json!({"type": "object"}));
    let optional: Vec<String> = optional.difference(&required).cloned().collect();
    let required: Vec<&str> = required.iter().map(String::as_str).collect();
    Action::effect_with(&definition.key(), &definition.title, &definition.description, Arc::new(TemplateHandler::new(definition.clone())))
        .schema(schema)
        .secrets(&required)
        .optional_secrets(optional)
        .origin(origin)
        .template(definition)
}

/// The secrets a template reads, its own and its steps' (required, optional), found once per
/// template; a circle of templates is an error naming it.
struct Secrets<'a> {
    set: &'a HashMap<String, &'a Definition>,
    table: &'a Registry,
    memo: HashMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Secrets<'_> {
    fn of(&mut self, key: &str, path: &mut Vec<String>) -> Result<(BTreeSet<String>, BTreeSet<String>), Vec<String>> {
        if let Some(found) = self.memo.get(key) {
            return Ok(found.clone());
        }
        if path.iter().any(|k| k == key) {
            let mut cycle = path.clone();
            cycle.push(key.to_owned());
            return Err(cycle);
        }
        let Some(definition) = self.set.get(key).copied() else {
            let action = self.table.get(key);
            let required = action.iter().flat_map(|a| a.secret_names().iter().cloned()).collect();
            let optional = action.iter().flat_map(|a| a.optional_secret_names().iter().cloned()).collect();
            return Ok((required, optional));
        };
        path.push(key.to_owned());
        let (mut required, mut optional) = (BTreeSet::new(), BTreeSet::new());
        for secret in &definition.secrets {
            if secret.optional() { optional.insert(secret.name()) } else { required.insert(secret.name()) };
        }
        for step in &definition.steps {
            if step.action.contains("${{") {
                continue;
            }
            let (r, o) = self.of(&step.action, path)?;
            required.extend(r);
            optional.extend(o);
        }
        path.pop();
        self.memo.insert(key.to_owned(), (required.clone(), optional.clone()));
        Ok((required, optional))
    }
}

/// A table of everything in `base` plus each of `sets` (origin, template files) in order: what
/// a workflow pinned to registry versions runs and is checked against.
pub fn overlay(base: &Registry, sets: &[(String, Vec<Source>)]) -> Result<Registry, String> {
    let table = Registry::new(base.list().iter().map(|action| (**action).clone()).collect());
    for (origin, sources) in sets {
        let set = prepare(sources, &table, origin).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("the templates of {origin} do not load: {}", lines.join("; "))
        })?;
        install(&table, set).map_err(|e| e.to_string())?;
    }
    Ok(table)
}

/// Tables of pinned registry versions, built once per pin (`lock`: version ids).
static PINNED: std::sync::LazyLock<std::sync::Mutex<HashMap<Vec<String>, Arc<Registry>>>> = std::sync::LazyLock::new(Default::default);

/// The table for workflows pinned to `lock`: `None` when nothing is pinned (the process's own
/// table serves); else the process's table with the pinned versions' templates, which `load`
/// fetches (origin, files) the first time a lock is seen.
pub async fn pinned<F, Fut, E>(lock: &[String], load: F) -> Result<Option<Arc<Registry>>, E>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, Vec<Source>)>, E>>,
    E: From<String>,
{
    if lock.is_empty() {
        return Ok(None);
    }
    let key = lock.to_vec();
    if let Some(table) = PINNED.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Some(table.clone()));
    }
    let table = Arc::new(overlay(crate::global(), &load().await?)?);
    PINNED.lock().unwrap_or_else(|p| p.into_inner()).insert(key, table.clone());
    Ok(Some(table))
}

/// The table for a run or a commit pinned to `lock` (registry version ids): `None` when nothing
/// is pinned, else [`pinned`] with the versions' files read from `db`.
pub async fn pinned_from(db: &sqlx::PgPool, lock: &[String]) -> Result<Option<Arc<Registry>>, ferrocat_shared::db::ReadError> {
    pinned(lock, || async {
        let ids: Vec<uuid::Uuid> =
            lock.iter().map(|id| uuid::Uuid::parse_str(id).map_err(|_| format!("bad registry version id {id:?}"))).collect::<Result<_, _>>()?;
        let rows = sqlx::query!(
            "SELECT r.origin, v.files FROM registry_versions v JOIN registry_repositories r ON r.id = v.repository_id WHERE v.id = ANY($1) ORDER BY r.origin",
            &ids
        )
        .fetch_all(db)
        .await
        .map_err(|e| ferrocat_shared::db::ReadError::sql("reading the pinned registry versions", e))?;
        if rows.len() != ids.len() {
            return Err("a registry version this workflow is pinned to no longer exists: commit the workflow again".to_owned().into());
        }
        Ok(rows.into_iter().map(|r| (format!("git:{}", r.origin), super::check::sources_of(&r.files))).collect())
    })
    .await
}
