//! The heartbeat sockets: binding them (and loading the heartbeat key),
//! sending and receiving heartbeats, and binding them anew when a reload
//! changes their settings.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use log::{debug, info, warn};
use lvs_config::Config;
use piranha_runtime::error::chain;

use super::director::{Channel, Director};
use super::options::StartError;
use super::plan::heartbeat_identity;
use crate::heartbeat::{self, Authenticator, DecodeError, Magic};
use crate::net::Kernel;

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The heartbeat side of a configuration: our addresses, the partner's,
/// the bound sockets and the authenticator.
pub(super) struct Heartbeat {
    pub(super) me_public: IpAddr,
    pub(super) me_private: Option<IpAddr>,
    pub(super) partner_ips: Vec<IpAddr>,
    pub(super) channels: Vec<Channel>,
    pub(super) auth: Option<Authenticator>,
}

impl Heartbeat {
    /// bgp mode: no heartbeat at all.
    pub(super) fn none(me: IpAddr) -> Self {
        Heartbeat {
            me_public: me,
            me_private: None,
            partner_ips: Vec::new(),
            channels: Vec::new(),
            auth: None,
        }
    }
}

/// Bind the heartbeat sockets (public, and private when the configuration
/// has a separate private channel) and load the heartbeat key.
pub(super) fn heartbeat_setup(cfg: &Config, master: bool) -> Result<Heartbeat, StartError> {
    let (me_public, me_private, partner_public, partner_private) = if master {
        (
            cfg.primary(),
            cfg.primary_private(),
            cfg.backup(),
            cfg.backup_private(),
        )
    } else {
        (
            cfg.backup(),
            cfg.backup_private(),
            cfg.primary(),
            cfg.primary_private(),
        )
    };
    let private_channel = cfg.primary() != cfg.primary_private();
    let mut channels = Vec::new();
    let port = cfg.heartbeat_port();
    let bind = |ip: IpAddr| -> Result<UdpSocket, StartError> {
        bind_heartbeat(SocketAddr::new(ip, port)).map_err(StartError::Socket)
    };
    channels.push(Channel {
        name: "public",
        sock: bind(me_public)?,
        partner: partner_public,
    });
    let mut me_private_opt = None;
    if private_channel && !me_private.is_unspecified() {
        channels.push(Channel {
            name: "private",
            sock: bind(me_private)?,
            partner: partner_private,
        });
        me_private_opt = Some(me_private);
    }
    let auth = match &cfg.heartbeat_key {
        Some(k) => {
            let key = std::fs::read(&k.value).map_err(|source| StartError::Key {
                path: k.value.clone(),
                source,
            })?;
            let seq = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as u64)
                .unwrap_or(1);
            Some(Authenticator::new(&key, seq))
        }
        None => None,
    };

    let mut partner_ips = vec![partner_public];
    if private_channel && !partner_private.is_unspecified() {
        partner_ips.push(partner_private);
    }
    Ok(Heartbeat {
        me_public,
        me_private: me_private_opt,
        partner_ips,
        channels,
        auth,
    })
}

/// A non-blocking heartbeat socket bound to `addr`. An IPv6 address is
/// bound with `IP_FREEBIND`: at boot our own address may still be
/// tentative (duplicate address detection), and a plain bind then fails
/// with "Cannot assign requested address"; heartbeats flow once it is
/// not. The address must still be one of this host's (tentative ones are
/// listed): FREEBIND would otherwise bind the partner's address, and a
/// director that hears nothing goes active beside its partner. So an
/// IPv6 bind fails as an IPv4 one does, Piranha's way, when the address
/// is not ours.
fn bind_heartbeat(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use nix::sys::socket::{
        bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn6,
    };
    let SocketAddr::V6(v6) = addr else {
        let s = UdpSocket::bind(addr)?;
        s.set_nonblocking(true)?;
        return Ok(s);
    };
    if piranha_runtime::net::count_local(&[addr.ip()]) == 0 {
        return Err(std::io::Error::from(std::io::ErrorKind::AddrNotAvailable));
    }
    let fd = socket(
        AddressFamily::Inet6,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    setsockopt(&fd, sockopt::IpFreebind, &true)?;
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn6::from(v6))?;
    Ok(UdpSocket::from(fd))
}

impl Director {
    pub(super) fn send(&mut self, m: Magic) {
        debug!("DEBUG -- Sending heartbeat...");
        let payload: Vec<u8> = match &mut self.auth {
            Some(a) => a.encode(m, now_unix_ms()).to_vec(),
            None => heartbeat::encode(m).to_vec(),
        };
        let port = self.cfg.heartbeat_port();
        for c in &self.channels {
            if c.partner.is_unspecified() {
                continue;
            }
            if let Err(e) = c.sock.send_to(&payload, SocketAddr::new(c.partner, port)) {
                warn!("Warning -- failed to send heartbeat ({} if): {e}", c.name);
            }
        }
    }

    /// Read and act on every datagram waiting on the heartbeat sockets;
    /// whether there was any.
    pub(super) fn receive(&mut self) -> bool {
        let mut buf = [0u8; 128];
        let mut got = Vec::new();
        for c in &self.channels {
            loop {
                match c.sock.recv_from(&mut buf) {
                    Ok((n, from)) => got.push((buf[..n].to_vec(), from, c.name)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        warn!("recvfrom() failed: {e}");
                        break;
                    }
                }
            }
        }
        let any = !got.is_empty();
        for (data, from, channel) in got {
            let src = from.ip();
            if !self.partner_ips.contains(&src) {
                debug!("Unexpected heartbeat from {src}");
                continue;
            }
            let decoded = match &mut self.auth {
                Some(a) => a.decode(&data, now_unix_ms()),
                None => heartbeat::decode(&data),
            };
            match decoded {
                Ok((magic, _order)) => {
                    debug!("DEBUG -- Received Heartbeat from partner");
                    self.control
                        .heard
                        .insert(channel, std::time::Instant::now());
                    let now = self.now();
                    let a = self.machine.heartbeat(magic, now);
                    self.execute(a);
                }
                Err(e @ (DecodeError::BadLength(_) | DecodeError::Incompatible(_))) => {
                    info!("{e}")
                }
                Err(e) => warn!("{e} from {src}"),
            }
        }
        any
    }

    /// Apply changed heartbeat settings (port, addresses, key) by binding
    /// new sockets. A change of role (this host is no longer the one named
    /// by `primary`, or now is) needs a restart: the old heartbeat settings
    /// are kept and the reason logged. If the new sockets cannot be bound
    /// the old ones are bound again.
    pub(super) fn rebind_if_changed(&mut self, mut cfg: Config) -> Config {
        if heartbeat_identity(&cfg) == heartbeat_identity(&self.cfg) {
            return cfg;
        }
        let master = match self.kernel.addresses() {
            Ok(a) => a.iter().any(|a| a.ip == cfg.primary()),
            Err(_) => self.master,
        };
        let keep_old = |cfg: &mut Config, old: &Config| {
            cfg.heartbeat_port = old.heartbeat_port.clone();
            cfg.primary = old.primary.clone();
            cfg.primary_private = old.primary_private.clone();
            cfg.backup = old.backup.clone();
            cfg.backup_private = old.backup_private.clone();
            cfg.heartbeat_key = old.heartbeat_key.clone();
        };
        if master != self.master {
            warn!("the new configuration makes this director the {}; restart pulse for a role change (heartbeat settings unchanged)",
                if master { "master" } else { "backup" });
            keep_old(&mut cfg, &self.cfg);
            return cfg;
        }
        // The old sockets may hold the address and port the new ones need.
        self.channels.clear();
        match heartbeat_setup(&cfg, master) {
            Ok(hb) => {
                info!(
                    "heartbeat now on port {} ({} channel{})",
                    cfg.heartbeat_port(),
                    hb.channels.len(),
                    if hb.channels.len() == 1 { "" } else { "s" }
                );
                self.me_public = hb.me_public;
                self.me_private = hb.me_private;
                self.partner_ips = hb.partner_ips;
                self.channels = hb.channels;
                self.auth = hb.auth;
            }
            Err(e) => {
                warn!(
                    "failed to apply the new heartbeat settings, keeping the old ones: {}",
                    chain(&e)
                );
                keep_old(&mut cfg, &self.cfg);
                match heartbeat_setup(&self.cfg, self.master) {
                    Ok(hb) => self.channels = hb.channels,
                    Err(e) => warn!(
                        "failed to bind the old heartbeat sockets again: {}",
                        chain(&e)
                    ),
                }
            }
        }
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::bind_heartbeat;

    #[test]
    fn an_ipv6_heartbeat_address_must_be_ours() {
        // FREEBIND would bind anything: an address this host does not have
        // is refused as an IPv4 bind refuses it.
        let e = bind_heartbeat("[2001:db8:dead::1]:0".parse().unwrap()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrNotAvailable, "{e}");
        let e = bind_heartbeat("192.0.2.254:0".parse().unwrap()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrNotAvailable, "{e}");
        if std::net::UdpSocket::bind("[::1]:0").is_ok() {
            bind_heartbeat("[::1]:0".parse().unwrap()).unwrap();
        }
    }
}
