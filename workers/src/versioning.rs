//! Temporal's worker versioning for the DSL worker, so that a rolling upgrade runs the old and
//! the new build side by side without a run's history ever being read by an older build than
//! the one that wrote it.
//!
//! Every build of ferrocat is a version of one worker deployment (`FERROCAT_WORKER_DEPLOYMENT`,
//! default `ferrocat`), named by its build id (`FERROCAT_WORKER_BUILD_ID`, default the release
//! and a hash of the executable: two builds never share one, the replicas of a build always
//! do). `FERROCAT_WORKER_VERSIONING` says what a run does when a new build becomes current:
//!
//! - `auto-upgrade` (the default): it moves to the new build at its next workflow task and
//!   never goes back, so an old replica still running (or restarted) mid-rollout cannot replay
//!   a history the new build wrote. That the new build reads the old histories is what the
//!   replay corpus proves in CI (`workers/tests/replay.rs`).
//! - `pinned`: it stays on the build it started on until it ends, for blue/green upgrades that
//!   keep the old workers running until their build is drained
//!   (`temporal worker deployment describe --name ferrocat`). A pinned run whose build has no
//!   worker left waits for one.
//! - `off`: unversioned polling, any worker takes any task. A Temporal server without worker
//!   deployments (before 1.28) gets this too, with a warning.
//!
//! A worker makes its build the deployment's current version once it polls, unless that build
//! has been current before and was replaced: the first replica of a new build takes the new
//! runs, and an old replica that restarts mid-rollout does not take them back. Rolling back is
//! the operator's decision (`temporal worker deployment set-current-version`), except under
//! `ferrocat up`: it runs the only build there is, so it makes that build current whatever came
//! before (`take_over`), and says the stack is up only once it is.
//!
//! Only the DSL worker is versioned. The executor runs activities, which replay nothing; what
//! both builds must agree on there is the activities' input, which
//! `workers/tests/compatibility.rs` checks.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use temporalio_client::grpc::WorkflowService;
use temporalio_client::tonic::{Code, IntoRequest as _, Status};
use temporalio_client::{Client, NamespacedClient as _};
use temporalio_common::protos::temporal::api::deployment::v1::WorkerDeploymentInfo;
use temporalio_common::protos::temporal::api::deployment::v1::worker_deployment_info::WorkerDeploymentVersionSummary;
use temporalio_common::protos::temporal::api::enums::v1::{RoutingConfigUpdateState, VersionDrainageStatus, WorkerDeploymentVersionStatus};
use temporalio_common::protos::temporal::api::workflowservice::v1::{DescribeWorkerDeploymentRequest, DescribeWorkerDeploymentResponse, SetWorkerDeploymentCurrentVersionRequest};
use temporalio_common::worker::{VersioningBehavior, WorkerDeploymentOptions, WorkerDeploymentVersion};

use ferrocat_shared::config::{ConfigError, Env};

/// What a run does when a new build becomes current (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Off,
    AutoUpgrade,
    Pinned,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Mode::Off),
            "auto-upgrade" => Ok(Mode::AutoUpgrade),
            "pinned" => Ok(Mode::Pinned),
            _ => Err("expected auto-upgrade, pinned or off".into()),
        }
    }
}

/// How the DSL worker takes part in its deployment.
#[derive(Debug, Clone)]
pub struct Versioning {
    pub mode: Mode,
    /// `FERROCAT_WORKER_DEPLOYMENT`.
    pub deployment: String,
    /// `FERROCAT_WORKER_BUILD_ID`; `None` for the default, worked out (by reading the
    /// executable) only when the worker starts.
    pub build_id: Option<String>,
}

/// Temporal's limit on a deployment name and a build id.
const MAX_NAME: usize = 255;

impl Versioning {
    /// Reads `FERROCAT_WORKER_VERSIONING`, `FERROCAT_WORKER_DEPLOYMENT` and
    /// `FERROCAT_WORKER_BUILD_ID`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mode = env.parse_or("FERROCAT_WORKER_VERSIONING", Mode::AutoUpgrade)?;
        let deployment = env.string_or("FERROCAT_WORKER_DEPLOYMENT", "ferrocat");
        // Temporal once wrote a version as `<deployment>.<build id>`, and still refuses a dot in
        // the deployment's name.
        if deployment.len() > MAX_NAME || deployment.contains('.') || deployment.trim() != deployment {
            return Err(invalid("FERROCAT_WORKER_DEPLOYMENT", &deployment, "at most 255 characters, no dot, no surrounding spaces"));
        }
        let build_id = env.get("FERROCAT_WORKER_BUILD_ID").map(str::to_owned);
        if let Some(id) = &build_id
            && (id.len() > MAX_NAME || id.trim() != id)
        {
            return Err(invalid("FERROCAT_WORKER_BUILD_ID", id, "at most 255 characters, no surrounding spaces"));
        }
        Ok(Self { mode, deployment, build_id })
    }

    /// This build's id: the one configured, or the release and a hash of the executable.
    pub fn build_id(&self) -> String {
        self.build_id.clone().unwrap_or_else(|| format!("{}-{}", env!("CARGO_PKG_VERSION"), temporalio_common::worker::build_id_from_current_exe()))
    }

    /// The build id this worker's polls are known by: its own, or none when versioning is off.
    fn polled_build_id(&self) -> String {
        match self.mode {
            Mode::Off => String::new(),
            Mode::AutoUpgrade | Mode::Pinned => self.build_id(),
        }
    }

    /// The worker's deployment options; `None` when versioning is off (the SDK's default:
    /// unversioned, with the executable's hash as the build id).
    pub fn deployment_options(&self) -> Option<WorkerDeploymentOptions> {
        let behavior = match self.mode {
            Mode::Off => return None,
            Mode::AutoUpgrade => VersioningBehavior::AutoUpgrade,
            Mode::Pinned => VersioningBehavior::Pinned,
        };
        let version = WorkerDeploymentVersion::builder().deployment_name(self.deployment.clone()).build_id(self.build_id()).build();
        Some(WorkerDeploymentOptions::new(version).use_worker_versioning(true).default_versioning_behavior(behavior).build())
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid { key: key.into(), value: value.into(), reason: reason.into() }
}

/// Whether the Temporal server keeps worker deployments (server 1.28 or later, or an older one
/// with them turned on). Anything but a clear answer is tried again for up to `patience`.
pub async fn supported(client: &Client, deployment: &str, patience: Duration) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match describe(client, deployment).await {
            // Described, or not found (no worker polled yet): the server keeps deployments.
            Ok(_) => return Ok(true),
            Err(status) => match status.code() {
                Code::Unimplemented | Code::FailedPrecondition | Code::PermissionDenied => {
                    tracing::debug!(%status, "no worker deployments");
                    return Ok(false);
                }
                _ if tokio::time::Instant::now() >= deadline => anyhow::bail!("asking Temporal about worker deployments: {status}"),
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            },
        }
    }
}

/// What a worker's build became in its deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The current version: new runs start on it.
    Current,
    /// It was current once and `current` replaced it: only the runs pinned to it come here.
    Replaced { current: String },
    /// Versioning is off, and the deployment sends new runs to unversioned workers.
    Unversioned,
}

/// Takes this worker's place in its deployment (see the module): makes its build current if it
/// never was one, or, with versioning off, sends new runs back to unversioned workers. Call it
/// once the worker polls (Temporal knows a version only from its pollers); it tries again until
/// it is done, for as long as it is not dropped.
pub async fn take_part(client: &Client, versioning: &Versioning) -> Role {
    let build_id = versioning.polled_build_id();
    let mut tries = 0u32;
    loop {
        match step(client, &versioning.deployment, &build_id, false).await {
            Ok(Some(role)) => return role,
            Ok(None) => {}
            // Logged once in a while: the first tries fail while Temporal registers our pollers.
            Err(error) if tries % 60 == 59 => tracing::warn!(%error, deployment = %versioning.deployment, build_id = %build_id, "still trying to take this worker's place in its deployment"),
            Err(_) => {}
        }
        tries += 1;
        tokio::time::sleep(if tries < 120 { Duration::from_millis(500) } else { Duration::from_secs(5) }).await;
    }
}

/// Makes this build the deployment's current version even if it was replaced before, and
/// waits (up to `patience`) until the worker has polled and it is. For a supervisor that runs
/// the only build there is (`ferrocat up`): it says the stack is up only once a run would
/// start at once, and an older release started again (a rollback) takes the runs back instead
/// of leaving them to a build that no worker runs any more.
pub async fn take_over(client: &Client, versioning: &Versioning, patience: Duration) -> anyhow::Result<Role> {
    let build_id = versioning.polled_build_id();
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let outcome = step(client, &versioning.deployment, &build_id, true).await;
        match outcome {
            Ok(Some(role)) => return Ok(role),
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Ok(None) if tokio::time::Instant::now() >= deadline => {
                anyhow::bail!("no worker of build {build_id} polled Temporal within {}s", patience.as_secs())
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The build new runs start on: the current version's, once it has reached every partition of
/// the deployment's task queues. `None` while no build is current, and while a change is on its
/// way (some new tasks still go to the build before).
pub async fn current_build(client: &Client, deployment: &str) -> anyhow::Result<Option<String>> {
    let described = describe(client, deployment).await.context("describing the worker deployment")?;
    let info = described.and_then(|described| described.worker_deployment_info).unwrap_or_default();
    Ok(Some(current_of(&info)).filter(|build_id| !build_id.is_empty() && !propagating(&info)))
}

/// The deployment as Temporal describes it; `None` while no worker of any build has polled.
async fn describe(client: &Client, deployment: &str) -> Result<Option<DescribeWorkerDeploymentResponse>, Status> {
    let mut client = client.clone();
    let request = DescribeWorkerDeploymentRequest { namespace: client.namespace(), deployment_name: deployment.to_owned() };
    match WorkflowService::describe_worker_deployment(&mut client, request.into_request()).await {
        Ok(response) => Ok(Some(response.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

/// The current version's build id, empty for unversioned workers.
fn current_of(info: &WorkerDeploymentInfo) -> String {
    info.routing_config.as_ref().and_then(|routing| routing.current_deployment_version.as_ref()).map(|v| v.build_id.clone()).unwrap_or_default()
}

/// Whether a change of the current version is still on its way to the task queues' partitions.
fn propagating(info: &WorkerDeploymentInfo) -> bool {
    info.routing_config_update_state == RoutingConfigUpdateState::InProgress as i32
}

/// One look at the deployment and, if it is needed, one change of its current version. `None`:
/// not yet (our version is not registered, or someone changed the deployment meanwhile). A
/// build that was replaced stays so unless `reclaim`.
async fn step(client: &Client, deployment: &str, build_id: &str, reclaim: bool) -> anyhow::Result<Option<Role>> {
    // No worker of any build has polled yet: with versioning off there is nothing to undo.
    let Some(described) = describe(client, deployment).await.context("describing the worker deployment")? else { return Ok(build_id.is_empty().then_some(Role::Unversioned)) };
    let info = described.worker_deployment_info.unwrap_or_default();
    let current = current_of(&info);
    if current == build_id {
        // Done once every partition knows: until then some new runs still go to the build before.
        if propagating(&info) {
            return Ok(None);
        }
        return Ok(Some(if build_id.is_empty() { Role::Unversioned } else { Role::Current }));
    }
    if !build_id.is_empty() {
        let ours = info.version_summaries.iter().find(|summary| summary.deployment_version.as_ref().is_some_and(|v| v.build_id == build_id));
        let Some(ours) = ours else { return Ok(None) };
        if was_active(ours) && !current.is_empty() && !reclaim {
            return Ok(Some(Role::Replaced { current }));
        }
    }
    let mut client = client.clone();
    let namespace = client.namespace();
    let request = SetWorkerDeploymentCurrentVersionRequest {
        namespace,
        deployment_name: deployment.to_owned(),
        build_id: build_id.to_owned(),
        // Fails if the deployment changed since we looked (another replica got there first).
        conflict_token: described.conflict_token,
        identity: format!("ferrocat-worker {build_id}"),
        ..Default::default()
    };
    match WorkflowService::set_worker_deployment_current_version(&mut client, request.into_request()).await {
        // The next look sees it current once it has reached every partition.
        Ok(_) => Ok(None),
        Err(status) if matches!(status.code(), Code::FailedPrecondition | Code::Aborted | Code::NotFound) => {
            tracing::debug!(%status, "the deployment is not ready for this build yet");
            Ok(None)
        }
        Err(status) => anyhow::bail!("setting the current version: {status}"),
    }
}

/// Whether a version has been current (or ramping) before: by the fields each server release
/// fills (the first activation since 1.29 or so, the drainage since 1.28).
fn was_active(version: &WorkerDeploymentVersionSummary) -> bool {
    let drained = [VersionDrainageStatus::Draining as i32, VersionDrainageStatus::Drained as i32];
    let left = [WorkerDeploymentVersionStatus::Draining as i32, WorkerDeploymentVersionStatus::Drained as i32];
    version.first_activation_time.is_some()
        || version.last_deactivation_time.is_some()
        || drained.contains(&version.drainage_status)
        || left.contains(&version.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_default_to_auto_upgrade_in_the_ferrocat_deployment_and_refuse_what_temporal_would() {
        let default = Versioning::from_env(&Env::default()).unwrap();
        assert_eq!((default.mode, default.deployment.as_str(), default.build_id.as_deref()), (Mode::AutoUpgrade, "ferrocat", None));
        let options = default.deployment_options().unwrap();
        assert!(options.use_worker_versioning);
        assert_eq!(options.default_versioning_behavior, Some(VersioningBehavior::AutoUpgrade));
        assert!(options.version.build_id.starts_with(concat!(env!("CARGO_PKG_VERSION"), "-")), "{}", options.version.build_id);

        let pinned = Versioning::from_env(&Env::from_pairs([("FERROCAT_WORKER_VERSIONING", "Pinned"), ("FERROCAT_WORKER_BUILD_ID", "release-2")])).unwrap();
        let options = pinned.deployment_options().unwrap();
        assert_eq!((options.version.build_id.as_str(), options.default_versioning_behavior), ("release-2", Some(VersioningBehavior::Pinned)));
        assert!(Versioning::from_env(&Env::from_pairs([("FERROCAT_WORKER_VERSIONING", "off")])).unwrap().deployment_options().is_none());

        for (key, value) in [
            ("FERROCAT_WORKER_VERSIONING", "sometimes"),
            ("FERROCAT_WORKER_DEPLOYMENT", "ferrocat.prod"),
            ("FERROCAT_WORKER_BUILD_ID", " release-2"),
        ] {
            let error = Versioning::from_env(&Env::from_pairs([(key, value)])).unwrap_err().to_string();
            assert!(error.starts_with(key), "{error}");
        }
        let long = "x".repeat(256);
        assert!(Versioning::from_env(&Env::from_pairs([("FERROCAT_WORKER_BUILD_ID", long.as_str())])).is_err());
    }

    #[test]
    fn a_version_that_was_current_is_known_by_whichever_field_its_server_fills() {
        let never = WorkerDeploymentVersionSummary::default();
        assert!(!was_active(&never));
        let mut first = never.clone();
        first.first_activation_time = Some(Default::default());
        let mut drained = never.clone();
        drained.drainage_status = VersionDrainageStatus::Drained as i32;
        let mut draining = never.clone();
        draining.status = WorkerDeploymentVersionStatus::Draining as i32;
        let mut inactive = never.clone();
        inactive.status = WorkerDeploymentVersionStatus::Inactive as i32;
        assert!([first, drained, draining].iter().all(was_active));
        assert!(!was_active(&inactive));
    }
}
