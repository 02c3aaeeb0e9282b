//! The blocking client: one generic-netlink socket, the family lookup, the
//! request/acknowledge loop, batched changes and the [`IpvsBackend`] impl.

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use super::attrs::{cmd, CmdNla, IpvsMessage, IPVS_GENL_NAME};
use super::convert::{
    daemon_from_nlas, dest_from_nlas, op_message, service_from_nlas, service_id_nlas, service_nlas,
};
use crate::error::{Error, OpKind};
use crate::model::*;
use crate::{IpvsBackend, Op};

/// How many requests go out per `send` in [`IpvsBackend::apply`]; their
/// error answers must fit the receive buffer, the requests the send buffer.
const BATCH: usize = 512;
const RECV_BUF: usize = 256 * 1024;
/// Datagrams read per `recvmmsg` while dumping, and the size of each buffer
/// (the kernel caps dump datagrams at 32 KiB).
const MULTI: usize = 4;
const MULTI_BUF: usize = 64 * 1024;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;

/// The real IPVS client: one generic-netlink socket.
pub struct NetlinkIpvs {
    sock: Socket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
    /// Buffers for [`NetlinkIpvs::recv_multi`].
    mbufs: Vec<Vec<u8>>,
    mlens: Vec<usize>,
}

fn sock_err(op: OpKind, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(errno) => Error::Kernel { op, errno },
        None => Error::Socket { op, source: e },
    }
}

fn decode_err(op: OpKind, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        op,
        detail: e.to_string(),
    }
}

/// What the legacy `[gs]etsockopt` interface says when the `IPVS` family is
/// missing; this is the errno ipvsadm reports at start-up (e.g. `ENOPROTOOPT`
/// when the kernel has no IPVS, `EPERM` when not root).
fn legacy_probe_errno() -> i32 {
    // SAFETY: plain socket/getsockopt/close calls on a descriptor we own, with
    // a correctly sized output buffer.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        );
        if fd < 0 {
            return *libc::__errno_location();
        }
        let mut info = [0u8; 12];
        let mut len = info.len() as libc::socklen_t;
        let rc = libc::getsockopt(
            fd,
            libc::IPPROTO_IP,
            1153, // IP_VS_SO_GET_INFO
            info.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        );
        let errno = if rc < 0 {
            *libc::__errno_location()
        } else {
            libc::ENOPROTOOPT
        };
        libc::close(fd);
        errno
    }
}

impl NetlinkIpvs {
    /// Open a socket and resolve the `IPVS` family. Failures carry the errno
    /// ipvsadm would report at start-up.
    pub fn connect() -> Result<Self, Error> {
        let op = OpKind::Init;
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(|e| sock_err(op, e))?;
        sock.bind_auto().map_err(|e| sock_err(op, e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| sock_err(op, e))?;
        set_int_opt(&sock, SOL_NETLINK, NETLINK_CAP_ACK, 1);
        if !set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 4 << 20) {
            set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
        }
        if !set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, 1 << 20) {
            set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_SNDBUF, 1 << 20);
        }
        let mut me = NetlinkIpvs {
            sock,
            family: 0,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
            mbufs: Vec::new(),
            mlens: Vec::new(),
        };
        match me.resolve_family() {
            Ok(id) => me.family = id,
            Err(_) => {
                return Err(Error::Kernel {
                    op,
                    errno: legacy_probe_errno(),
                })
            }
        }
        Ok(me)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let op = OpKind::Init;
        let mut genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
        });
        genl.finalize();
        let seq = self.next_seq();
        let mut msg = NetlinkMessage::from(genl);
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut out = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut out);
        self.sock.send(&out, 0).map_err(|e| sock_err(op, e))?;
        let mut family = None;
        loop {
            self.recv(op)?;
            let buf = std::mem::take(&mut self.buf);
            let mut off = 0;
            let mut done = false;
            while off < buf.len() {
                let nb = NetlinkBuffer::new_checked(&buf[off..]).map_err(|e| decode_err(op, e))?;
                let len = nb.length() as usize;
                let m = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&buf[off..off + len])
                    .map_err(|e| decode_err(op, e))?;
                off += align4(len);
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::InnerMessage(g) => {
                        for a in &g.payload.nlas {
                            if let GenlCtrlAttrs::FamilyId(id) = a {
                                family = Some(*id);
                            }
                        }
                    }
                    NetlinkPayload::Error(e) => {
                        done = true;
                        if let Some(code) = e.code {
                            self.buf = buf;
                            return Err(Error::Kernel {
                                op,
                                errno: -code.get(),
                            });
                        }
                    }
                    NetlinkPayload::Done(_) => done = true,
                    _ => {}
                }
            }
            self.buf = buf;
            if done {
                break;
            }
        }
        family.ok_or_else(|| decode_err(op, "no family id in reply"))
    }

    fn recv(&mut self, op: OpKind) -> Result<(), Error> {
        self.buf.clear();
        if self.buf.capacity() < RECV_BUF {
            self.buf.reserve(RECV_BUF);
        }
        loop {
            match self.sock.recv(&mut self.buf, 0) {
                Ok(n) if n > self.buf.len() => {
                    return Err(decode_err(op, "netlink message truncated"))
                }
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(sock_err(op, e)),
            }
        }
    }

    fn encode(&mut self, m: IpvsMessage, flags: u16, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(m);
        genl.set_resolved_family_id(self.family);
        let mut msg =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(genl));
        msg.header.flags = flags;
        msg.header.sequence_number = seq;
        msg.finalize();
        let start = out.len();
        out.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut out[start..]);
        seq
    }

    /// Send one request and collect its replies: a dump until `NLMSG_DONE`, a
    /// plain request until its acknowledgement.
    pub fn request(
        &mut self,
        op: OpKind,
        m: IpvsMessage,
        dump: bool,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let flags = if dump {
            NLM_F_REQUEST | NLM_F_DUMP
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        };
        let mut out = Vec::with_capacity(256);
        let seq = self.encode(m, flags, &mut out);
        self.sock.send(&out, 0).map_err(|e| sock_err(op, e))?;
        let mut replies = Vec::new();
        loop {
            // A dump's final NLMSG_DONE is queued while its data is being
            // read, so one recvmmsg usually returns both.
            let n = if dump {
                self.recv_multi(op)?
            } else {
                self.recv(op)?;
                1
            };
            let mut finished = false;
            for i in 0..n {
                let buf = if dump {
                    std::mem::take(&mut self.mbufs[i])
                } else {
                    std::mem::take(&mut self.buf)
                };
                let len = if dump { self.mlens[i] } else { buf.len() };
                let r = parse_replies(op, &buf[..len], |s, p| {
                    if s != seq {
                        return Ok(false);
                    }
                    match p {
                        NetlinkPayload::InnerMessage(g) => {
                            replies.push(g.payload);
                            Ok(false)
                        }
                        NetlinkPayload::Error(e) => match e.code {
                            Some(code) => Err(Error::Kernel {
                                op,
                                errno: -code.get(),
                            }),
                            None => Ok(true),
                        },
                        NetlinkPayload::Done(_) => Ok(true),
                        _ => Ok(false),
                    }
                });
                if dump {
                    self.mbufs[i] = buf;
                } else {
                    self.buf = buf;
                }
                if r? {
                    finished = true;
                }
            }
            if finished {
                return Ok(replies);
            }
        }
    }

    /// Read every queued datagram (blocking for the first) with one
    /// `recvmmsg`; returns how many, their bytes in `mbufs[..n]` and lengths
    /// in `mlens[..n]`.
    fn recv_multi(&mut self, op: OpKind) -> Result<usize, Error> {
        use std::os::fd::AsRawFd;
        if self.mbufs.len() < MULTI {
            self.mbufs = (0..MULTI).map(|_| vec![0u8; MULTI_BUF]).collect();
        }
        let mut iov: Vec<libc::iovec> = self
            .mbufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: zeroed mmsghdr is a valid "no address, no control" header.
        let mut msgs: Vec<libc::mmsghdr> =
            (0..MULTI).map(|_| unsafe { std::mem::zeroed() }).collect();
        for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
            m.msg_hdr.msg_iov = v;
            m.msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: every mmsghdr points at one live iovec over a live
            // buffer of the stated length; the arrays outlive the call.
            let n = unsafe {
                libc::recvmmsg(
                    self.sock.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    MULTI as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(sock_err(op, e));
            }
            let n = n as usize;
            self.mlens.clear();
            for m in &msgs[..n] {
                if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                    return Err(decode_err(op, "netlink message truncated"));
                }
                self.mlens.push(m.msg_len as usize);
            }
            return Ok(n);
        }
    }

    /// One batch: every request goes out in a single `send`. The kernel
    /// handles generic-netlink requests synchronously inside that `send` and
    /// answers failures whether or not an acknowledgement was asked for, so
    /// only the last request asks for one: once its acknowledgement is read,
    /// every failure of the batch has been read too.
    fn apply_chunk(&mut self, ops: &[Op], results: &mut Vec<Result<(), Error>>) {
        let mut out = Vec::with_capacity(ops.len() * 160);
        let mut first = 0;
        for (i, op) in ops.iter().enumerate() {
            let flags = if i + 1 == ops.len() {
                NLM_F_REQUEST | NLM_F_ACK
            } else {
                NLM_F_REQUEST
            };
            let seq = self.encode(op_message(op), flags, &mut out);
            if i == 0 {
                first = seq;
            }
        }
        let base = results.len();
        results.extend(ops.iter().map(|_| Ok(())));
        let fail_all = |results: &mut Vec<Result<(), Error>>, errno: i32| {
            for (i, op) in ops.iter().enumerate() {
                if results[base + i].is_ok() {
                    results[base + i] = Err(Error::Kernel {
                        op: op.kind(),
                        errno,
                    });
                }
            }
        };
        if let Err(e) = self.sock.send(&out, 0) {
            fail_all(results, e.raw_os_error().unwrap_or(libc::EIO));
            return;
        }
        let last = ops.len() - 1;
        let mut done = false;
        while !done {
            if let Err(e) = self.recv(OpKind::Flush) {
                // acknowledgements lost (e.g. ENOBUFS): outcome unknown
                fail_all(results, e.errno());
                return;
            }
            let buf = std::mem::take(&mut self.buf);
            let _ = parse_replies(OpKind::Flush, &buf, |s, p| {
                let i = s.wrapping_sub(first) as usize;
                if i > last {
                    return Ok(false);
                }
                if let NetlinkPayload::Error(e) = p {
                    if let Some(code) = e.code {
                        results[base + i] = Err(Error::Kernel {
                            op: ops[i].kind(),
                            errno: -code.get(),
                        });
                    }
                    if i == last {
                        done = true;
                    }
                }
                Ok(false)
            });
            self.buf = buf;
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn set_int_opt(sock: &Socket, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt with a pointer to a live c_int and its exact size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Walk the netlink messages in `buf`, calling `f(seq, payload)`; stops early
/// and returns `Ok(true)` when `f` says the exchange is complete.
fn parse_replies<F>(op: OpKind, buf: &[u8], mut f: F) -> Result<bool, Error>
where
    F: FnMut(u32, NetlinkPayload<GenlMessage<IpvsMessage>>) -> Result<bool, Error>,
{
    let mut off = 0;
    let mut finished = false;
    while off + 16 <= buf.len() {
        let nb = NetlinkBuffer::new_checked(&buf[off..]).map_err(|e| decode_err(op, e))?;
        let len = nb.length() as usize;
        if len < 16 || off + len > buf.len() {
            return Err(decode_err(op, "bad netlink message length"));
        }
        let m = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&buf[off..off + len])
            .map_err(|e| decode_err(op, e))?;
        off += align4(len);
        if f(m.header.sequence_number, m.payload)? {
            finished = true;
        }
    }
    Ok(finished)
}

impl IpvsBackend for NetlinkIpvs {
    fn info(&mut self) -> Result<Info, Error> {
        let op = OpKind::GetInfo;
        let r = self.request(
            op,
            IpvsMessage {
                cmd: cmd::GET_INFO,
                nlas: vec![],
            },
            false,
        )?;
        let mut info = Info::default();
        let mut seen = 0;
        for m in &r {
            for n in &m.nlas {
                match n {
                    CmdNla::InfoVersion(v) => {
                        info.version = *v;
                        seen |= 1;
                    }
                    CmdNla::InfoConnTabSize(v) => {
                        info.conn_tab_size = *v;
                        seen |= 2;
                    }
                    _ => {}
                }
            }
        }
        if seen != 3 {
            return Err(decode_err(op, "GET_INFO reply without version"));
        }
        Ok(info)
    }

    fn services(&mut self) -> Result<Vec<Service>, Error> {
        let r = self.request(
            OpKind::GetServices,
            IpvsMessage {
                cmd: cmd::GET_SERVICE,
                nlas: vec![],
            },
            true,
        )?;
        Ok(services_of(&r))
    }

    fn service(&mut self, id: &Service) -> Result<Service, Error> {
        let op = OpKind::GetService;
        let r = self.request(
            op,
            IpvsMessage {
                cmd: cmd::GET_SERVICE,
                nlas: vec![CmdNla::Service(service_nlas(id))],
            },
            false,
        )?;
        services_of(&r)
            .into_iter()
            .next()
            .ok_or_else(|| decode_err(op, "GET_SERVICE reply without service"))
    }

    fn dests(&mut self, svc: &Service) -> Result<Vec<Destination>, Error> {
        let r = self.request(
            OpKind::GetDests,
            IpvsMessage {
                cmd: cmd::GET_DEST,
                nlas: vec![CmdNla::Service(service_id_nlas(svc))],
            },
            true,
        )?;
        let mut out = Vec::new();
        for m in &r {
            for n in &m.nlas {
                if let CmdNla::Dest(d) = n {
                    out.push(dest_from_nlas(d, svc.af));
                }
            }
        }
        Ok(out)
    }

    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let r = self.request(
            OpKind::GetTimeouts,
            IpvsMessage {
                cmd: cmd::GET_CONFIG,
                nlas: vec![],
            },
            false,
        )?;
        let mut t = Timeouts::default();
        for m in &r {
            for n in &m.nlas {
                match n {
                    CmdNla::TimeoutTcp(v) => t.tcp = *v,
                    CmdNla::TimeoutTcpFin(v) => t.tcp_fin = *v,
                    CmdNla::TimeoutUdp(v) => t.udp = *v,
                    _ => {}
                }
            }
        }
        Ok(t)
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        let r = self.request(
            OpKind::GetDaemons,
            IpvsMessage {
                cmd: cmd::GET_DAEMON,
                nlas: vec![],
            },
            true,
        )?;
        let mut out = Vec::new();
        for m in &r {
            for n in &m.nlas {
                if let CmdNla::Daemon(d) = n {
                    out.push(daemon_from_nlas(d));
                }
            }
        }
        Ok(out)
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        let mut results = Vec::with_capacity(ops.len());
        for chunk in ops.chunks(BATCH) {
            self.apply_chunk(chunk, &mut results);
        }
        results
    }
}

fn services_of(r: &[IpvsMessage]) -> Vec<Service> {
    let mut out = Vec::new();
    for m in r {
        for n in &m.nlas {
            if let CmdNla::Service(s) = n {
                out.push(service_from_nlas(s));
            }
        }
    }
    out
}
