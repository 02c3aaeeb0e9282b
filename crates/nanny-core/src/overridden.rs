//! Extension (issue 20): the administrator's overrides (drain, weight,
//! disable; `lvs --drain` and friends) as the nanny sees them.  lvs keeps
//! them in a file and names it in the environment of the nannies it
//! starts; before this nanny puts its server in the table or changes its
//! weight, it asks the file, so a drained server stays at weight 0 and a
//! disabled one stays out while the checks go on.  lvs itself changes the
//! entry when the administrator acts; the nanny only keeps to it.

use piranha_status::overrides::{service_word, Effect, Watched};

use crate::ipvsadm::{Op, Service, Table};

/// A [`Table`] that keeps to the overrides file.
pub struct Overridden<T: Table + ?Sized> {
    /// The table changes go to.
    pub inner: Box<T>,
    /// The file.
    pub file: Watched,
    /// This server's service, as the file names it.
    pub service: String,
    /// `RIP:PORT`.
    pub server: String,
}

impl<T: Table + ?Sized> Overridden<T> {
    /// Wrap `inner` for the real server `rip:rport` of `service`.
    pub fn new(inner: Box<T>, file: Watched, service: &Service, server: String) -> Self {
        let service = match service {
            Service::Tcp(v, p) => service_word("tcp", v, *p, 0),
            Service::Udp(v, p) => service_word("udp", v, *p, 0),
            Service::Fwmark(m) => service_word("tcp", "", 0, *m),
            Service::Fwmark6(m) => service_word("tcp", "::", 0, *m),
        };
        Overridden {
            inner,
            file,
            service,
            server,
        }
    }
}

impl<T: Table + ?Sized> Table for Overridden<T> {
    fn apply(&mut self, op: Op) -> bool {
        let weight = match op {
            Op::Add(w) | Op::Edit(w) => w.max(0) as u32,
            Op::Delete => 0,
        };
        match (
            self.file.get().effect(&self.service, &self.server, weight),
            op,
        ) {
            // lvs keeps it out: nothing to add, and nothing to remove
            (Effect::Absent, _) => true,
            (Effect::Weight(w), Op::Add(_)) => self.inner.apply(Op::Add(w as i32)),
            (Effect::Weight(w), Op::Edit(_)) => self.inner.apply(Op::Edit(w as i32)),
            (Effect::Weight(_), Op::Delete) => self.inner.apply(Op::Delete),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec(Vec<Op>);
    impl Table for Rec {
        fn apply(&mut self, op: Op) -> bool {
            self.0.push(op);
            true
        }
    }

    #[test]
    fn keeps_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("overrides");
        let mut t = Overridden::new(
            Box::new(Rec::default()),
            Watched::new(&p),
            &Service::Tcp("192.168.1.10".into(), 80),
            "10.0.1.2:80".into(),
        );
        assert!(t.apply(Op::Add(3)));
        std::fs::write(
            &p,
            "version 1\nserver tcp:192.168.1.10:80 10.0.1.2:80 drain since=1\n",
        )
        .unwrap();
        assert!(t.apply(Op::Edit(3)));
        std::fs::write(
            &p,
            "version 1\nserver tcp:192.168.1.10:80 10.0.1.2:80 disabled since=2\n",
        )
        .unwrap();
        assert!(t.apply(Op::Add(3)));
        assert!(t.apply(Op::Delete));
        std::fs::write(
            &p,
            "version 1\nserver tcp:192.168.1.10:80 10.0.1.2:80 weight=9 since=3\n",
        )
        .unwrap();
        assert!(t.apply(Op::Add(3)));
        assert!(t.apply(Op::Delete));
        assert_eq!(
            t.inner.0,
            vec![Op::Add(3), Op::Edit(0), Op::Add(9), Op::Delete]
        );
    }
}
