#!/usr/bin/perl
# The demo client's HTTP prober (perl-base only: it is on every Debian).
#     probe.pl VIP count N        N requests one after the other; prints the
#                                 first word of each answer (the server's
#                                 name) or FAIL
#     probe.pl VIP every STOPFILE one request every 0.1 s until STOPFILE
#                                 exists; prints "epoch_ms name|FAIL"
# One process for all requests: forking curl for each is too slow under
# emulation to probe ten times a second.  Each request is a new connection
# (HTTP/1.0) with a 0.5 s connect and a 1 s answer timeout.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

$| = 1;
my ($vip, $mode, $arg) = @ARGV;
die "usage: probe.pl VIP count N | VIP every STOPFILE\n" unless defined $arg;

sub fetch {
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => $vip, PeerPort => 80, Proto => 'tcp', Timeout => 0.5)
        or return "FAIL";
    print $s "GET / HTTP/1.0\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $buf = "";
    while ((my $left = $t0 + 1.5 - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($s, $buf, 4096, length $buf);
        last unless $n;
    }
    close $s;
    return $buf =~ /\r\n\r\n(\S+)/ ? $1 : "FAIL";
}

if ($mode eq "count") {
    print fetch(), "\n" for 1 .. $arg;
} elsif ($mode eq "every") {
    until (-e $arg) {
        my $t = time;
        my $who = fetch();
        printf "%d %s\n", $t * 1000, $who;
        my $rest = 0.1 - (time - $t);
        sleep $rest if $rest > 0;
    }
} else {
    die "probe.pl: unknown mode $mode\n";
}
