//! The status as Prometheus metrics: everything [`crate::text`] shows, as
//! series named `piranha_*`.
//!
//! [`render`] builds a fresh `prometheus_client` [`Registry`] from one
//! [`Director`] snapshot (taken per scrape: the daemons keep no metric
//! state of their own) and encodes it in the classic Prometheus text
//! format, version 0.0.4 ([`CONTENT_TYPE`]), not OpenMetrics: the classic
//! format is what every Prometheus scrapes, and it is what
//! `promtool check metrics` reads (an OpenMetrics exposition, with its
//! `# EOF` and counter families named without `_total`, is not).
//!
//! The values are precomputed (the kernel's counters, the nannies'
//! latency histograms), so the families here are small encoders of fixed
//! rows rather than the crate's atomic counters and gauges, whose
//! histogram cannot be fed precomputed buckets.
//!
//! Every family is listed, with its type, labels and meaning, in
//! `docs/METRICS.md`.

use std::collections::HashMap;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::model::{Director, Histogram, Lvs, Pulse, Server, Service, Stats};

/// The `Content-Type` of what [`render`] returns.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The roles of pulse, each a series of `piranha_pulse_role`.
pub const ROLES: [&str; 6] = [
    "active",
    "backup",
    "hot-standby",
    "taking-over",
    "handing-over",
    "stopping",
];

/// The prefix of every metric name (without its `_`).
pub const PREFIX: &str = "piranha";

/// Render `d` as the Prometheus text exposition (format 0.0.4).
pub fn render(d: &Director) -> String {
    let mut sink = Sink::default();
    sink.put(&STATUS_TIMESTAMP, Vec::new(), Value::Float(d.taken_at));
    sink.put(
        &PULSE_UP,
        Vec::new(),
        Value::Int(u64::from(d.pulse.is_some())),
    );
    if let Some(p) = &d.pulse {
        pulse(&mut sink, p);
    }
    sink.put(&LVS_UP, Vec::new(), Value::Int(u64::from(d.lvs.is_some())));
    if let Some(l) = &d.lvs {
        lvs(&mut sink, l);
    }

    let mut registry = Registry::with_prefix(PREFIX);
    for spec in ALL {
        if let Some(rows) = sink.rows.remove(spec.name) {
            registry.register(
                spec.name,
                spec.help,
                Rows {
                    kind: spec.kind,
                    rows,
                },
            );
        }
    }
    debug_assert!(
        sink.rows.is_empty(),
        "metric families missing from ALL: {:?}",
        sink.rows.keys().collect::<Vec<_>>()
    );
    if !sink.histograms.is_empty() {
        registry.register(
            CHECK_DURATION_NAME,
            CHECK_DURATION_HELP,
            Histograms(sink.histograms),
        );
    }
    let mut out = String::new();
    // Writing to a String cannot fail, and our encoders never make up an
    // error; were one to, a partial exposition is still well formed up to
    // its last line, which the scraper reports.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// One family's description.
struct Spec {
    /// The name without the prefix (and, for counters, without `_total`,
    /// which the encoder adds).
    name: &'static str,
    /// Its help text (the encoder adds a full stop).
    help: &'static str,
    kind: MetricType,
}

const fn gauge(name: &'static str, help: &'static str) -> Spec {
    Spec {
        name,
        help,
        kind: MetricType::Gauge,
    }
}

const fn counter(name: &'static str, help: &'static str) -> Spec {
    Spec {
        name,
        help,
        kind: MetricType::Counter,
    }
}

const STATUS_TIMESTAMP: Spec = gauge(
    "status_taken_timestamp_seconds",
    "When the director's status behind these metrics was taken, seconds since the Unix epoch",
);
const PULSE_UP: Spec = gauge(
    "pulse_up",
    "1 when pulse's part of the status is present (pulse answered)",
);
const PULSE_ROLE: Spec = gauge(
    "pulse_role",
    "pulse's role: 1 for the current role, 0 for each other",
);
const PULSE_ROLE_SECONDS: Spec = gauge(
    "pulse_role_seconds",
    "Seconds pulse has been in its current role",
);
const PULSE_TAKEOVERS: Spec = counter(
    "pulse_takeovers",
    "Times this director took the active role since pulse started",
);
const PULSE_HANDOVERS: Spec = counter(
    "pulse_handovers",
    "Times this director gave the active role up since pulse started",
);
const PARTNER_ALIVE: Spec = gauge(
    "partner_alive",
    "1 when the partner director was heard within deadtime",
);
const HEARTBEAT_AGE: Spec = gauge(
    "heartbeat_age_seconds",
    "Seconds since the partner was last heard on the heartbeat channel (absent if never heard)",
);
const ADDRESS_HELD: Spec = gauge(
    "address_held",
    "1 for each virtual address this director holds",
);
const LVS_UP: Spec = gauge(
    "lvs_up",
    "1 when lvs's part of the status is present (lvs runs and answered)",
);
const LVS_STANDBY: Spec = gauge(
    "lvs_standby",
    "1 when lvs runs as a standby (the table without the virtual addresses)",
);
const LVS_COUNTERS: Spec = gauge(
    "lvs_kernel_counters",
    "1 when the kernel's counters were read (0 with a foreign ipvsadm)",
);
const SERVICE_IN_KERNEL: Spec = gauge(
    "service_in_kernel",
    "1 when the virtual service is in the kernel's table",
);
const SERVICE_DISABLED: Spec = gauge(
    "service_disabled",
    "1 when the administrator disabled the virtual service",
);
const SERVICE_PERSISTENCE: Spec = gauge(
    "service_persistence_timeout_seconds",
    "The virtual service's persistence timeout (absent when not persistent)",
);
const SORRY_SERVING: Spec = gauge(
    "service_sorry_server_serving",
    "1 when the sorry server is in the table (absent without a sorry server)",
);
const ANNOUNCED: Spec = gauge(
    "service_announced",
    "1 when this director announces the service's address to BIRD (bgp mode; absent otherwise)",
);
const QUORUM_UP: Spec = gauge(
    "service_quorum_up",
    "1 when the quorum holds (absent without a quorum)",
);
const QUORUM_HAVE: Spec = gauge(
    "service_quorum_have",
    "Real servers up now (absent without a quorum)",
);
const QUORUM_NEED: Spec = gauge(
    "service_quorum_need",
    "Real servers the quorum needs (absent without a quorum)",
);

/// The kernel's counters, for services or real servers.
struct StatSpecs {
    connections: Spec,
    packets_in: Spec,
    packets_out: Spec,
    bytes_in: Spec,
    bytes_out: Spec,
    cps: Spec,
    pps_in: Spec,
    pps_out: Spec,
    bps_in: Spec,
    bps_out: Spec,
}

macro_rules! stat_specs {
    ($p:literal, $who:literal) => {
        StatSpecs {
            connections: counter(
                concat!($p, "_connections"),
                concat!("Connections the kernel scheduled to the ", $who),
            ),
            packets_in: counter(
                concat!($p, "_incoming_packets"),
                concat!("Packets in for the ", $who, ", as the kernel counts them"),
            ),
            packets_out: counter(
                concat!($p, "_outgoing_packets"),
                concat!("Packets out for the ", $who, ", as the kernel counts them"),
            ),
            bytes_in: counter(
                concat!($p, "_incoming_bytes"),
                concat!("Bytes in for the ", $who, ", as the kernel counts them"),
            ),
            bytes_out: counter(
                concat!($p, "_outgoing_bytes"),
                concat!("Bytes out for the ", $who, ", as the kernel counts them"),
            ),
            cps: gauge(
                concat!($p, "_connections_per_second"),
                concat!(
                    "The kernel's estimate of connections per second to the ",
                    $who
                ),
            ),
            pps_in: gauge(
                concat!($p, "_incoming_packets_per_second"),
                concat!(
                    "The kernel's estimate of packets in per second for the ",
                    $who
                ),
            ),
            pps_out: gauge(
                concat!($p, "_outgoing_packets_per_second"),
                concat!(
                    "The kernel's estimate of packets out per second for the ",
                    $who
                ),
            ),
            bps_in: gauge(
                concat!($p, "_incoming_bytes_per_second"),
                concat!(
                    "The kernel's estimate of bytes in per second for the ",
                    $who
                ),
            ),
            bps_out: gauge(
                concat!($p, "_outgoing_bytes_per_second"),
                concat!(
                    "The kernel's estimate of bytes out per second for the ",
                    $who
                ),
            ),
        }
    };
}

const SERVICE_STATS: StatSpecs = stat_specs!("service", "virtual service");
const SERVER_STATS: StatSpecs = stat_specs!("server", "real server");

const SERVER_WEIGHT: Spec = gauge("server_weight", "The real server's weight in lvs.cf");
const SERVER_KERNEL_WEIGHT: Spec = gauge(
    "server_kernel_weight",
    "The real server's weight in the kernel's table (absent when not in it)",
);
const SERVER_STATE: Spec = gauge(
    "server_state",
    "The real server's state (the checks' verdict, then the administrator's override): 1 for the current state, 0 for each other",
);
const SERVER_CHECK_UP: Spec = gauge(
    "server_check_up",
    "1 when the checks say the real server is up, apart from any override",
);
const SERVER_ACTIVE: Spec = gauge(
    "server_active_connections",
    "The real server's active connections in the kernel's table",
);
const SERVER_INACTIVE: Spec = gauge(
    "server_inactive_connections",
    "The real server's inactive connections in the kernel's table",
);
const LAST_CHECK_TIMESTAMP: Spec = gauge(
    "server_last_check_timestamp_seconds",
    "When the real server's last check reported, seconds since the Unix epoch",
);
const LAST_CHECK_SUCCESS: Spec = gauge(
    "server_last_check_success",
    "1 when the real server's last check passed",
);
const LAST_CHECK_DURATION: Spec = gauge(
    "server_last_check_duration_seconds",
    "How long the real server's last check took",
);

const CHECK_DURATION_NAME: &str = "check_duration_seconds";
const CHECK_DURATION_HELP: &str =
    "How long the real server's checks took since lvs started its nanny";

/// Every family but the histogram, in the order of the exposition.
const ALL: &[&Spec] = &[
    &STATUS_TIMESTAMP,
    &PULSE_UP,
    &PULSE_ROLE,
    &PULSE_ROLE_SECONDS,
    &PULSE_TAKEOVERS,
    &PULSE_HANDOVERS,
    &PARTNER_ALIVE,
    &HEARTBEAT_AGE,
    &ADDRESS_HELD,
    &LVS_UP,
    &LVS_STANDBY,
    &LVS_COUNTERS,
    &SERVICE_IN_KERNEL,
    &SERVICE_DISABLED,
    &SERVICE_PERSISTENCE,
    &SORRY_SERVING,
    &ANNOUNCED,
    &QUORUM_UP,
    &QUORUM_HAVE,
    &QUORUM_NEED,
    &SERVICE_STATS.connections,
    &SERVICE_STATS.packets_in,
    &SERVICE_STATS.packets_out,
    &SERVICE_STATS.bytes_in,
    &SERVICE_STATS.bytes_out,
    &SERVICE_STATS.cps,
    &SERVICE_STATS.pps_in,
    &SERVICE_STATS.pps_out,
    &SERVICE_STATS.bps_in,
    &SERVICE_STATS.bps_out,
    &SERVER_WEIGHT,
    &SERVER_KERNEL_WEIGHT,
    &SERVER_STATE,
    &SERVER_CHECK_UP,
    &SERVER_ACTIVE,
    &SERVER_INACTIVE,
    &SERVER_STATS.connections,
    &SERVER_STATS.packets_in,
    &SERVER_STATS.packets_out,
    &SERVER_STATS.bytes_in,
    &SERVER_STATS.bytes_out,
    &SERVER_STATS.cps,
    &SERVER_STATS.pps_in,
    &SERVER_STATS.pps_out,
    &SERVER_STATS.bps_in,
    &SERVER_STATS.bps_out,
    &LAST_CHECK_TIMESTAMP,
    &LAST_CHECK_SUCCESS,
    &LAST_CHECK_DURATION,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Clone, Copy, Debug)]
enum Value {
    Int(u64),
    Float(f64),
}

#[derive(Default)]
struct Sink {
    rows: HashMap<&'static str, Vec<(Labels, Value)>>,
    histograms: Vec<(Labels, Buckets)>,
}

impl Sink {
    fn put(&mut self, spec: &Spec, labels: Labels, v: Value) {
        self.rows.entry(spec.name).or_default().push((labels, v));
    }

    /// One series per state: 1 for `current`, 0 for the others; a
    /// `current` outside `states` gets its own series too.
    fn state_set(
        &mut self,
        spec: &Spec,
        labels: &Labels,
        key: &'static str,
        states: &[&str],
        current: &str,
    ) {
        let mut seen = false;
        for s in states {
            let mut l = labels.clone();
            l.push((key, (*s).to_string()));
            seen |= *s == current;
            self.put(spec, l, Value::Int(u64::from(*s == current)));
        }
        if !seen {
            let mut l = labels.clone();
            l.push((key, current.to_string()));
            self.put(spec, l, Value::Int(1));
        }
    }
}

fn flag(b: bool) -> Value {
    Value::Int(u64::from(b))
}

fn pulse(sink: &mut Sink, p: &Pulse) {
    sink.state_set(&PULSE_ROLE, &Vec::new(), "role", &ROLES, &p.role);
    sink.put(&PULSE_ROLE_SECONDS, Vec::new(), Value::Float(p.role_for));
    sink.put(&PULSE_TAKEOVERS, Vec::new(), Value::Int(p.takeovers));
    sink.put(&PULSE_HANDOVERS, Vec::new(), Value::Int(p.handovers));
    if let Some(partner) = &p.partner {
        sink.put(
            &PARTNER_ALIVE,
            vec![("partner", partner.address.clone())],
            flag(partner.alive),
        );
        for c in &partner.channels {
            if let Some(age) = c.last_heard {
                sink.put(
                    &HEARTBEAT_AGE,
                    vec![("channel", c.name.clone())],
                    Value::Float(age),
                );
            }
        }
    }
    for a in &p.addresses {
        sink.put(
            &ADDRESS_HELD,
            vec![("address", a.address.clone()), ("device", a.device.clone())],
            Value::Int(1),
        );
    }
}

fn lvs(sink: &mut Sink, l: &Lvs) {
    sink.put(&LVS_STANDBY, Vec::new(), flag(l.role == "standby"));
    sink.put(&LVS_COUNTERS, Vec::new(), flag(l.counters));
    for v in &l.services {
        service(sink, v);
    }
}

fn stats(sink: &mut Sink, specs: &StatSpecs, labels: &Labels, st: &Stats) {
    for (spec, v) in [
        (&specs.connections, st.connections),
        (&specs.packets_in, st.packets_in),
        (&specs.packets_out, st.packets_out),
        (&specs.bytes_in, st.bytes_in),
        (&specs.bytes_out, st.bytes_out),
        (&specs.cps, st.cps),
        (&specs.pps_in, st.pps_in),
        (&specs.pps_out, st.pps_out),
        (&specs.bps_in, st.bps_in),
        (&specs.bps_out, st.bps_out),
    ] {
        sink.put(spec, labels.clone(), Value::Int(v));
    }
}

fn service(sink: &mut Sink, v: &Service) {
    let labels: Labels = vec![("service", v.name.clone()), ("key", v.key.clone())];
    sink.put(&SERVICE_IN_KERNEL, labels.clone(), flag(v.in_kernel));
    sink.put(&SERVICE_DISABLED, labels.clone(), flag(v.disabled));
    if let Some(p) = v.persistent {
        sink.put(
            &SERVICE_PERSISTENCE,
            labels.clone(),
            Value::Int(u64::from(p)),
        );
    }
    if let Some(sorry) = &v.sorry_server {
        let mut l = labels.clone();
        l.push(("address", sorry.address.clone()));
        sink.put(&SORRY_SERVING, l, flag(sorry.serving));
    }
    if let Some(a) = &v.announcement {
        let mut l = labels.clone();
        l.push(("address", a.address.clone()));
        sink.put(&ANNOUNCED, l, flag(a.announced));
    }
    if let Some(q) = &v.quorum {
        sink.put(&QUORUM_UP, labels.clone(), flag(q.up));
        sink.put(&QUORUM_HAVE, labels.clone(), Value::Int(u64::from(q.have)));
        sink.put(&QUORUM_NEED, labels.clone(), Value::Int(u64::from(q.need)));
    }
    if let Some(st) = &v.stats {
        stats(sink, &SERVICE_STATS, &labels, st);
    }
    for r in &v.servers {
        server(sink, &v.name, r);
    }
    sink.histograms
        .push((labels, Buckets::from(&v.check_latency)));
}

fn server(sink: &mut Sink, service: &str, r: &Server) {
    let labels: Labels = vec![
        ("service", service.to_string()),
        ("server", r.name.clone()),
        ("address", r.address.clone()),
    ];
    sink.put(
        &SERVER_WEIGHT,
        labels.clone(),
        Value::Int(u64::from(r.weight)),
    );
    if let Some(w) = r.kernel_weight {
        sink.put(
            &SERVER_KERNEL_WEIGHT,
            labels.clone(),
            Value::Int(u64::from(w)),
        );
    }
    // only the current state: 1 series a server, not one per state
    let mut l = labels.clone();
    l.push(("state", r.state.clone()));
    sink.put(&SERVER_STATE, l, Value::Int(1));
    sink.put(
        &SERVER_CHECK_UP,
        labels.clone(),
        flag(r.check.state == "up"),
    );
    if let Some(a) = r.active_connections {
        sink.put(&SERVER_ACTIVE, labels.clone(), Value::Int(u64::from(a)));
    }
    if let Some(i) = r.inactive_connections {
        sink.put(&SERVER_INACTIVE, labels.clone(), Value::Int(u64::from(i)));
    }
    if let Some(st) = &r.stats {
        stats(sink, &SERVER_STATS, &labels, st);
    }
    if let Some(last) = &r.check.last {
        sink.put(&LAST_CHECK_TIMESTAMP, labels.clone(), Value::Float(last.at));
        sink.put(&LAST_CHECK_SUCCESS, labels.clone(), flag(last.ok));
        sink.put(
            &LAST_CHECK_DURATION,
            labels.clone(),
            Value::Float(last.took),
        );
    }
}

/// A family of fixed rows.
#[derive(Debug)]
struct Rows {
    kind: MetricType,
    rows: Vec<(Labels, Value)>,
}

impl EncodeMetric for Rows {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, v) in &self.rows {
            let mut e = encoder.encode_family(labels)?;
            match (self.kind, *v) {
                (MetricType::Counter, Value::Int(n)) => {
                    e.encode_counter::<NoLabelSet, u64, u64>(&n, None)?
                }
                (MetricType::Counter, Value::Float(x)) => {
                    e.encode_counter::<NoLabelSet, f64, f64>(&x, None)?
                }
                (_, Value::Int(n)) => e.encode_gauge(&n)?,
                (_, Value::Float(x)) => e.encode_gauge(&x)?,
            }
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        self.kind
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A histogram's buckets as the encoder takes them: each bucket's own
/// count (not cumulative), with `count` as the `+Inf` bucket.
#[derive(Debug)]
struct Buckets {
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

impl From<&Histogram> for Buckets {
    /// Keeps only what makes a valid histogram of a damaged one: finite,
    /// strictly ascending bounds; cumulative counts never decreasing and
    /// never above `count`.
    fn from(h: &Histogram) -> Self {
        let mut buckets = Vec::with_capacity(h.bounds.len());
        let mut last_bound = f64::NEG_INFINITY;
        let mut below = 0u64;
        for (&b, &c) in h.bounds.iter().zip(&h.counts) {
            if !b.is_finite() || b <= last_bound {
                continue;
            }
            last_bound = b;
            let c = c.clamp(below, h.count);
            buckets.push((b, c - below));
            below = c;
        }
        Buckets {
            sum: h.sum,
            count: h.count,
            buckets,
        }
    }
}

/// The latency histograms, one per virtual service.
#[derive(Debug)]
struct Histograms(Vec<(Labels, Buckets)>);

impl EncodeMetric for Histograms {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, h) in &self.0 {
            encoder
                .encode_family(labels)?
                .encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_histograms_stay_valid() {
        let h = Histogram {
            bounds: vec![0.1, f64::NAN, 0.05, 0.2, 1.0],
            counts: vec![5, 1, 1, 3, u64::MAX],
            sum: 1.0,
            count: 7,
        };
        let b = Buckets::from(&h);
        // NaN and the descending 0.05 dropped; 3 < 5 raised to 5; MAX cut to 7.
        assert_eq!(b.buckets, vec![(0.1, 5), (0.2, 0), (1.0, 2)]);
    }
}
