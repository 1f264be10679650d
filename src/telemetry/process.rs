//! The standard `process_*` metrics, read from `/proc/self` at each scrape
//! (Linux only), under the names and meanings of the Go and Python clients.
//! A file that cannot be read or parsed leaves its metrics out rather than
//! failing the scrape.
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;

/// Clock ticks per second in `/proc`: USER_HZ, fixed at 100 by the kernel's
/// ABI whatever the internal tick rate (the Go client assumes it too).
const TICKS_PER_SECOND: f64 = 100.0;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct ProcessCollector {
    /// Constant for the process's life, so read once.
    start_time_seconds: Option<f64>,
}

impl ProcessCollector {
    pub(crate) fn new() -> Self {
        let start_time_seconds = (|| {
            let stat = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
            let boot_time = parse_boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
            Some(boot_time + stat.start_ticks as f64 / TICKS_PER_SECOND)
        })();
        Self { start_time_seconds }
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        if let Some(stat) = read("/proc/self/stat").as_deref().and_then(parse_stat) {
            let cpu_seconds = (stat.user_ticks + stat.system_ticks) as f64 / TICKS_PER_SECOND;
            let counter = ConstCounter::new(cpu_seconds);
            // Registered without `_total`: the encoder appends it.
            counter.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                counter.metric_type(),
            )?)?;
            gauge(
                &mut encoder,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                stat.virtual_bytes,
            )?;
        }
        if let Some(resident) = read("/proc/self/status")
            .as_deref()
            .and_then(parse_resident_bytes)
        {
            gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                resident,
            )?;
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            gauge(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors",
                entries.count() as u64,
            )?;
        }
        if let Some(max) = read("/proc/self/limits")
            .as_deref()
            .and_then(parse_max_open_files)
        {
            gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                max,
            )?;
        }
        if let Some(start) = self.start_time_seconds {
            let mut metric = encoder.encode_descriptor(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                None,
                MetricType::Gauge,
            )?;
            metric.encode_gauge(&start)?;
        }
        Ok(())
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    encoder
        .encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&value)
}

/// The fields of `/proc/self/stat` we use.
#[derive(Debug, PartialEq)]
struct Stat {
    user_ticks: u64,
    system_ticks: u64,
    start_ticks: u64,
    virtual_bytes: u64,
}

/// `/proc/[pid]/stat`, see proc(5). The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some(Stat {
        user_ticks: field(14)?,
        system_ticks: field(15)?,
        start_ticks: field(22)?,
        virtual_bytes: field(23)?,
    })
}

/// `VmRSS` of `/proc/self/status`, given in kB (KiB). Read there rather than
/// as pages from `stat`, because the page size would need `sysconf`.
fn parse_resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kibibytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kibibytes * 1024)
}

/// The soft limit of `Max open files` in `/proc/self/limits`; `None` when
/// unlimited.
fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `btime` of `/proc/stat`: boot time in seconds since the epoch.
fn parse_boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    250 50 0 0 20 0 8 0 123456 987654321 2048 18446744073709551615";

        assert_eq!(
            parse_stat(stat),
            Some(Stat {
                user_ticks: 250,
                system_ticks: 50,
                start_ticks: 123456,
                virtual_bytes: 987654321,
            })
        );
        assert_eq!(parse_stat("4242 (truncated) S 1"), None);
    }

    #[test]
    fn resident_memory_is_converted_from_kibibytes() {
        let status = "Name:\troster\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t8\n";

        assert_eq!(parse_resident_bytes(status), Some(1234 * 1024));
    }

    #[test]
    fn the_soft_open_files_limit_is_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63422                63422                processes \n\
                      Max open files            1024                 524288               files     \n";

        assert_eq!(parse_max_open_files(limits), Some(1024));
        assert_eq!(
            parse_max_open_files("Max open files  unlimited  unlimited  files\n"),
            None
        );
    }

    #[test]
    fn boot_time_is_read() {
        let proc_stat = "cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 42\n";

        assert_eq!(parse_boot_time(proc_stat), Some(1_700_000_000.0));
    }

    #[test]
    fn this_process_is_measured() {
        let metrics = crate::telemetry::metrics::Metrics::new();

        let text = metrics.render();

        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(name), "missing {name}\n{text}");
        }
    }
}
