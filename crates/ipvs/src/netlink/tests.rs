//! Round trips of the IPVS messages through their wire encoding.

use netlink_packet_core::{Emitable, ParseableParametrized};
use netlink_packet_generic::GenlHeader;

use super::*;
use crate::model::*;
use crate::Op;

fn roundtrip(m: &IpvsMessage) -> IpvsMessage {
    let mut buf = vec![0u8; m.buffer_len()];
    m.emit(&mut buf);
    IpvsMessage::parse_with_param(
        &buf,
        GenlHeader {
            cmd: m.cmd,
            version: 1,
        },
    )
    .unwrap()
}

#[test]
fn service_attributes_round_trip() {
    let s = Service {
        af: AF_INET,
        protocol: IPPROTO_TCP,
        addr: "10.0.0.1".parse().unwrap(),
        port: 80,
        sched_name: "rr".into(),
        flags: SVC_F_PERSISTENT,
        timeout: 360,
        netmask: 0xffffff00,
        ..Service::default()
    };
    let m = op_message(&Op::AddService(s.clone()));
    let back = roundtrip(&m);
    let CmdNla::Service(nlas) = &back.nlas[0] else {
        panic!()
    };
    assert_eq!(service_from_nlas(nlas), s);
}

#[test]
fn wire_bytes_of_port_and_netmask_are_network_order() {
    let s = Service {
        af: AF_INET,
        protocol: IPPROTO_TCP,
        addr: "10.0.0.1".parse().unwrap(),
        port: 0x1234,
        netmask: 0xffffff00,
        ..Service::default()
    };
    let nlas = service_nlas(&s);
    let mut buf = vec![0u8; nlas.as_slice().buffer_len()];
    nlas.as_slice().emit(&mut buf);
    // AF(8) PROTOCOL(8) ADDR(20) then PORT: header 4 bytes, value 12 34.
    assert_eq!(&buf[36 + 4..36 + 6], &[0x12, 0x34]);
    assert!(buf.windows(4).any(|w| w == [0xff, 0xff, 0xff, 0x00]));
    // address: 16 bytes, IPv4 in the first four
    assert_eq!(
        &buf[20..36],
        &[10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn dest_round_trip_keeps_tunnel_fields() {
    let d = Destination {
        af: AF_INET6,
        addr: "2001:db8::2".parse().unwrap(),
        port: 8080,
        fwd: Forward::Tunnel,
        weight: 3,
        u_threshold: 10,
        l_threshold: 5,
        tun_type: TunnelType::Gue,
        tun_port: 6080,
        tun_flags: 1,
        ..Destination::default()
    };
    let svc = Service::default();
    let m = op_message(&Op::AddDest(svc, d.clone()));
    let back = roundtrip(&m);
    let CmdNla::Dest(nlas) = &back.nlas[1] else {
        panic!()
    };
    assert_eq!(dest_from_nlas(nlas, AF_INET), d);
}

#[test]
fn daemon_round_trip() {
    let d = Daemon {
        state: DAEMON_MASTER,
        mcast_ifn: "eth0".into(),
        syncid: 7,
        sync_maxlen: 1400,
        mcast_group: Some("239.1.2.3".parse().unwrap()),
        mcast_port: 8849,
        mcast_ttl: 2,
    };
    let back = roundtrip(&op_message(&Op::StartDaemon(d.clone())));
    let CmdNla::Daemon(nlas) = &back.nlas[0] else {
        panic!()
    };
    assert_eq!(daemon_from_nlas(nlas), d);
}
