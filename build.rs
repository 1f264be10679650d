//! Compiles `proto/` with protox (pure Rust: no system `protoc`) into
//! 1. a serialized `FileDescriptorSet` that keeps every option, including the
//!    `google.api.http` and `goodmem.v1.uuid` extensions the REST gateway reads
//!    at start-up and the source comments that reflection and OpenAPI show;
//! 2. prost messages and tonic services, generated into `OUT_DIR`.
use std::path::PathBuf;

use prost_types::FileDescriptorSet;
use protox::prost::Message as _;

const PROTO_ROOT: &str = "proto";
const API_FILES: &[&str] = &[
    "goodmem/v1/options.proto",
    "goodmem/v1/user.proto",
    "goodmem/v1/user_resources.proto",
    "goodmem/v1/user_service.proto",
    "goodmem/v1/system_service.proto",
    "goodmem/v1/auth_service.proto",
    "goodmem/v1/memo_service.proto",
    // Not imported by the API, but needed at runtime: error details are
    // built from them and the REST gateway renders them as JSON.
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    declare_test_backends();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(API_FILES)?;
    // `encode_file_descriptor_set` keeps extension options; the decoded
    // `file_descriptor_set()` would drop `google.api.http`.
    let encoded = compiler.encode_file_descriptor_set();
    std::fs::write(out_dir.join("goodmem_descriptor.bin"), &encoded)?;

    let descriptor_set = FileDescriptorSet::decode(encoded.as_slice())?;
    tonic_prost_build::configure()
        // Malformed requests are the client's error: see src/api/codec.rs.
        .codec_path("crate::api::codec::ProtobufCodec")
        // Maps (labels) encode in key order: the same message is the same
        // bytes in every process, whatever the hash seed.
        .btree_map(".")
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptor_set)?;

    record_build_facts();
    Ok(())
}

/// `cfg(roster_test_postgres)` and `cfg(roster_test_mysql)`: set when the
/// test database URL is configured, or under CI (where a missing URL must
/// fail, not be ignored). Tests of a backend without it are `#[ignore]`d, so
/// a local run reports them as ignored instead of passing without running.
fn declare_test_backends() {
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    for (cfg, variable) in [
        ("roster_test_postgres", "ROSTER_TEST_POSTGRES_URL"),
        ("roster_test_mysql", "ROSTER_TEST_MYSQL_URL"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={variable}");
        let configured = std::env::var(variable).is_ok_and(|url| !url.is_empty());
        if configured || in_ci {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    println!("cargo::rerun-if-env-changed=CI");
}

/// Build facts for `GetSystemInfo`; `unknown` outside a git checkout.
fn record_build_facts() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=ROSTER_GIT_COMMIT={commit}");
    // SOURCE_DATE_EPOCH makes the build reproducible when set.
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_secs() as i64)
                .unwrap_or(0)
        });
    println!("cargo:rustc-env=ROSTER_BUILD_TIME={}", rfc3339_utc(seconds));
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // The commit changes when HEAD moves to another branch *and* when the
    // current branch's ref moves (a commit, a pull); watch both, wherever
    // git keeps them (a worktree's .git is a file pointing elsewhere).
    for path in git_paths_naming_the_commit() {
        println!("cargo:rerun-if-changed={path}");
    }
    // The build time is the time these sources were built: rerun with them.
    for path in ["src", "Cargo.toml", "build.rs"] {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// `HEAD`, the ref it points to, and `packed-refs`, as git resolves them.
fn git_paths_naming_the_commit() -> Vec<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .map(|text| text.trim().to_owned())
    };
    let mut paths = Vec::new();
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        paths.push(head);
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(reference) = git(&["rev-parse", "--git-path", &branch])
    {
        paths.push(reference);
    }
    if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
        paths.push(packed);
    }
    paths
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, after
/// Howard Hinnant), to avoid a date crate in the build.
fn rfc3339_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}
