# piranha-rs — build, test and install entry points.
# `make test` is the one command CI runs (.ci/run); it installs the Debian
# packages it needs when they are missing (root on a Debian machine).

CARGO      ?= cargo
PREFIX     ?= /usr
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d
RELEASE    := target/release
BINARIES   := lvs pulse nanny send_arp ipvsadm piranha-passwd piranha-gui genhash
FUZZ_SECONDS ?= 60
# What the fault suite runs (release: a debug lvs and nanny take seconds to
# start in the loaded TCG guest, which the VIP's 8 s bound does not cover).
FAULT_PACKAGES := -p pulse -p lvs -p nanny -p send_arp -p ipvsadm

.PHONY: all build check test deps validate bench fuzz install demo demo-scale lab faults clean

all:
	$(CARGO) build --release --workspace --bins

build:
	$(CARGO) build --workspace --all-targets

# Debian packages the tests need; installed only when missing.
# The edit-test loop: format, lint and the host tests, no kernel lab
# (KERNEL_LAB_SKIP: its tests say SKIPPED) and no Debian packages.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	KERNEL_LAB_SKIP=1 $(CARGO) test --workspace

deps:
	@./tests/install-deps

# Unit, host (network namespaces, loopback) and kernel-lab tests. The lab
# boots a Debian kernel with IPVS under QEMU (tests/kernel-lab/README.md).
test: deps
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast
	$(CARGO) test -p nanny --test lab -- --ignored --test-threads=1
	$(CARGO) test -p piranha-gui --test e2e -- --ignored
	tests/kernel-lab/run --timeout 300 tests/kernel-lab/smoke.sh
	$(CARGO) build --release $(FAULT_PACKAGES)
	tests/kernel-lab/run --timeout 2100 --env RC_ASSERT=1 --env RC_SLACK_MS=$${RC_SLACK_MS:-400} --env SO_ASSERT=1 --env SO_SLACK_MS=$${SO_SLACK_MS:-400} tests/lab/role-change-and-scale-out.sh $(abspath $(RELEASE))
	FAULT_SEED=$${FAULT_SEED:-2026} FAULT_COUNT=$${FAULT_COUNT:-100} ./tests/faults/run $(RELEASE)

# The fault suite alone (tests/faults/README.md): one kernel-lab boot, the
# director pair, FAULT_COUNT faults (default 100) with the invariants asserted
# after each; a fresh seed unless FAULT_SEED=N (printed; reproduces a run's
# sequence).  About 10 s per fault under emulation on a quiet host (README
# "Time").  `make test` runs the same 100 faults with the fixed seed 2026, so
# a CI failure replays with `FAULT_SEED=2026 make faults`.
faults: deps
	$(CARGO) build --release $(FAULT_PACKAGES)
	./tests/faults/run $(RELEASE)

validate: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps
	$(MAKE) test

# Figures, each next to its peer where one exists (docs/BENCHMARKS.md).
# The kernel-lab and failover benches take several minutes each.
bench: deps
	@command -v keepalived >/dev/null 2>&1 || apt-get install -y -q keepalived >/dev/null 2>&1 || echo "bench: keepalived unavailable: no peer figures"
	$(CARGO) build --release --workspace --bins --examples
	./tests/bench/run-all

# A short bounded run of every fuzz target (cargo-fuzz, stable toolchain via RUSTC_BOOTSTRAP).
fuzz:
	@./fuzz/run-all $(FUZZ_SECONDS)

lab:
	./tests/kernel-lab/run --shell

# The director pair end to end in the kernel lab, with packet captures and
# their decode (tests/demo/run, docs/DEMO.md); output in target/demo/.
demo:
	@./tests/install-deps demo
	$(CARGO) build --release --workspace --bins
	@./tests/demo/run

# The active-active act (docs/SCALE-OUT.md): a router running BIRD with ECMP
# and BFD, three directors announcing the VIPs over BGP, three real servers
# and a client, in the lab; each event narrated, the router's routes and the
# connections shown before and after.
demo-scale:
	@./tests/install-deps
	$(CARGO) build --release --workspace --bins
	tests/kernel-lab/run --timeout 1200 --env SO_DEMO=1 tests/lab/scale-out.sh $(abspath $(RELEASE))

# Installs what `make all` built, without building (root often has no cargo).
install:
	@for b in $(BINARIES); do [ -x $(RELEASE)/$$b ] || { echo "make install: $(RELEASE)/$$b is missing; run make all first" >&2; exit 1; }; done
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for b in $(BINARIES); do install -m 0755 $(RELEASE)/$$b $(DESTDIR)$(SBINDIR)/$$b; done
	ln -sf lvs $(DESTDIR)$(SBINDIR)/lvsd
	install -m 0700 $(RELEASE)/piranha-passwd $(DESTDIR)$(SBINDIR)/piranha-passwd # root only, as in Piranha
	install -m 0644 docs/lvs.cf.5 $(DESTDIR)$(MANDIR)/man5/lvs.cf.5
	install -m 0644 docs/genhash.1 $(DESTDIR)$(MANDIR)/man1/genhash.1
	for m in docs/*.8; do [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/ || true; done
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/sysconfig/ha/samples
	# The GUI's password file lives here (piranha-passwd does not create it):
	# group piranha, when that group exists, so that the GUI can read it.
	if [ ! -d $(DESTDIR)$(SYSCONFDIR)/sysconfig/ha/conf ]; then \
		install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/sysconfig/ha/conf && \
		if getent group piranha >/dev/null 2>&1; then chgrp piranha $(DESTDIR)$(SYSCONFDIR)/sysconfig/ha/conf; fi; \
	fi
	install -m 0644 etc/*.cf $(DESTDIR)$(SYSCONFDIR)/sysconfig/ha/samples/
	[ -e $(DESTDIR)$(SYSCONFDIR)/sysconfig/pulse ] || install -m 0644 etc/sysconfig/pulse $(DESTDIR)$(SYSCONFDIR)/sysconfig/pulse
	[ -e $(DESTDIR)$(SYSCONFDIR)/sysconfig/piranha-gui ] || install -m 0644 etc/sysconfig/piranha-gui $(DESTDIR)$(SYSCONFDIR)/sysconfig/piranha-gui
	install -d $(DESTDIR)$(SYSCONFDIR)/init.d $(DESTDIR)$(SYSTEMDDIR)
	install -m 0755 init/pulse $(DESTDIR)$(SYSCONFDIR)/init.d/pulse
	install -m 0644 init/pulse.service $(DESTDIR)$(SYSTEMDDIR)/pulse.service
	install -m 0755 init/piranha-gui $(DESTDIR)$(SYSCONFDIR)/init.d/piranha-gui
	install -m 0644 init/piranha-gui.service $(DESTDIR)$(SYSTEMDDIR)/piranha-gui.service
	install -d $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 init/piranha.tmpfiles $(DESTDIR)$(TMPFILESDIR)/piranha.conf
	@if [ -d $(DESTDIR)$(SYSCONFDIR)/rc.d/init.d ]; then for s in pulse piranha-gui; do ln -sf ../../init.d/$$s $(DESTDIR)$(SYSCONFDIR)/rc.d/init.d/$$s; done; fi

clean:
	$(CARGO) clean
