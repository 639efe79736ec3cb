# A hostile or broken directory cannot take nginx down, freeze the list or
# change who gets in.  A server of the test's own (HostileLDAP.pm) answers
# like a directory, then misbehaves in one way per block; a client keeps
# asking as a member meanwhile (Probe.pm): every answer must come from the
# last good list, fast, the workers must not grow, the refresh must fail
# or end within its deadline with one clear line, the state file must keep
# the last good list, and the status page must say what happened.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::HostileLDAP;
use ExchangeAccess::Slapd;
use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);

repeat_each(1);

my $dir = ($ENV{TEST_NGINX_SCRATCH} || cwd() . '/t') . '/servroot-hostile';
remove_tree($dir);
make_path("$dir/state", "$dir/b", "$dir/s");
chmod 0777, "$dir/state";

$ENV{TEST_NGINX_HOSTILE_DIR} = $dir;
$ENV{TEST_NGINX_STATE_DIR} = "$dir/state";
$ENV{TEST_NGINX_HOSTILE_PORT} ||= 19501;
$ENV{TEST_NGINX_HOSTILE2_PORT} ||= 19502;
$ENV{TEST_NGINX_SILENT_PORT} ||= 19503;

# the deadline of a refresh (empty: a build that does not have it)
$ENV{TEST_NGINX_HOSTILE_EXTRA} //= 'ldap_refresh_timeout 8s;';

our $H = ExchangeAccess::HostileLDAP->start(port => $ENV{TEST_NGINX_HOSTILE_PORT},
                                            dir => "$dir/a");
our $H2 = ExchangeAccess::HostileLDAP->start(
    port => $ENV{TEST_NGINX_HOSTILE2_PORT}, dir => "$dir/b");
our @Silent = map {
    ExchangeAccess::HostileLDAP->start(
        port => $ENV{TEST_NGINX_SILENT_PORT} + $_, dir => "$dir/s",
        mode => 'silent')
} 0 .. 3;

# a real OpenLDAP whose ACL lets the bind account search the group entry
# but not read it
$ENV{TEST_NGINX_LDAP_PORT} = 19589;
$ENV{TEST_NGINX_LDAPS_PORT} = 19636 + 200;
our $Slapd = ExchangeAccess::Slapd->start(base => 1, dir => "$dir/slapd",
    acl => 'to dn.exact="cn=outlook-remote,ou=groups,dc=example,dc=com"'
           . ' by users search by * none');
$Slapd->{owner} = $$;

sub list {
    my ($extra, %o) = @_;
    my $url = $o{url} || 'ldap://127.0.0.1:$TEST_NGINX_HOSTILE_PORT';
    my $nested = $o{nested} || 'chain';
    my $timeout = $o{timeout} || '2s';

    return <<"CONF";
    exchange_access_list remote {
        zone 1m;
        ldap_url $url;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=outlook-remote,ou=groups,dc=example,dc=com";
        ldap_nested $nested;
        ldap_timeout $timeout;
        refresh 1s;
        state_file \$TEST_NGINX_STATE_DIR/remote.list;
        \$TEST_NGINX_HOSTILE_EXTRA
$extra
    }
CONF
}

# switch the server, then watch the proxy; tag names the line of a report
sub probe {
    my ($tag, $mode, $until, %o) = @_;
    my $args = join ', ', map { "$_ => $o{$_}" } sort keys %o;
    $args = ", $args" if $args;

    return <<"SH";
printf '%s' '$mode' > \$TEST_NGINX_HOSTILE_DIR/a/mode
perl -It/lib -MExchangeAccess::Probe -e 'ExchangeAccess::Probe::run(
    log => "\$TEST_NGINX_LOG_DIR/error.log", tag => "$tag",
    until => qr{$until}, seconds => 20, latency => 500$args)'
SH
}

sub status {
    return "curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status";
}

# class 13: the first server in MODE, the second one a good directory that
# keeps a log of who connects to it
sub elsewhere_init {
    my $mode = shift;
    $main::H->mode($mode);
    $main::H2->mode('good');
    unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list",
           "$ENV{TEST_NGINX_HOSTILE_DIR}/b/log";
}

# what alice and bob get, then how many connections the second server saw
our $Elsewhere = <<'SH';
sleep 1
for u in alice bob; do
    curl -s -o /dev/null -w "$u %{http_code}\n" \
         -H "Authorization: Basic $(printf '%s:pw' $u | base64)" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
done
cat $TEST_NGINX_HOSTILE_DIR/b/log 2>/dev/null | grep -c open || true
SH

our $Config = <<'CONF';
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
    location = /status {
        exchange_access_status;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', $Config) unless defined $block->config;
    $block->set_value('init', '$main::H->mode("good"); '
                              . 'unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";')
        unless defined $block->init;
    $block->set_value('timeout', 60) unless defined $block->timeout;
    $block->set_value('log_level', 'info') unless defined $block->log_level;
});

run_tests();

__DATA__

=== TEST 1: class 1: a primaryGroupToken on every range of member, ranges without end
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('1 token on every range', 'token-ranges', 'refresh failed',
            after => 0, seconds => 8)
. "grep -c 'req group [1-9]' \$TEST_NGINX_HOSTILE_DIR/a/log || true\n"
--- exec_stdout
not found in 8 s
answered ok
latency ok
memory ok
0
--- no_error_log
refresh failed



=== TEST 1b: class 1: a group entry with 10,000 primaryGroupToken attributes
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('1 10,000 tokens in an entry', 'token-entry', 'refresh failed',
            seconds => 8)
--- exec_stdout
not found in 8 s
answered ok
latency ok
memory ok
--- no_error_log
refresh failed



=== TEST 2: class 2: member with 10,000 values and 30,000 empty member attributes
--- http_config eval
main::list('', nested => 'walk')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('2 30,000 empty attributes', 'empty-attrs', 'refresh failed')
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
--- error_log
has more than one member attribute



=== TEST 3: class 3: a search that never ends, a continuation reference every 2 s
--- http_config eval
main::list('', timeout => '5s')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('3 references forever', 'references', 'refresh failed')
. "sleep 4\n" . main::status() . " | grep -o '\"state\":\"[a-z]*\"'\n"
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
"state":"stale"
--- error_log
timed out (search_users)



=== TEST 4: class 3: ranges that go back to the start
--- http_config eval
main::list('', nested => 'walk')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('3 ranges back to 0', 'range-loop', 'refresh failed')
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
--- error_log
answered member;range=0-1499 when asked for member;range=1500-*



=== TEST 5: class 3: a refresh that makes progress for ever ends at its deadline
--- http_config eval
main::list('', nested => 'walk')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('3 progress for ever', 'flood', 'refresh failed')
--- exec_stdout_like
^found after (?:[89]|1[0-2])\.\d s
answered ok
latency ok
memory ok
--- error_log
the refresh took longer than ldap_refresh_timeout (8s)



=== TEST 6: class 3: at a fresh start the list says it is failing, not "failures 0"
--- init
$main::H->mode('references');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list('', timeout => '5s')
--- wait_for
refresh failed, no list yet
--- exec eval
main::status() . " | grep -o '\"state\":\"[a-z]*\",\"entries\":0'\n"
. main::status() . " | grep -o '\"failures\":[1-9]'\n"
--- exec_stdout
"state":"unavailable","entries":0
"failures":1



=== TEST 7: class 4: entries without end
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('4 entries without end', 'flood', 'refresh failed')
--- exec_stdout_like
^found after [0-5]\.\d s
answered ok
latency ok
memory ok
--- error_log eval
qr/more names than the zone of 1048576 bytes can hold/



=== TEST 8: class 5: a message that announces 1 GiB
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('5 1 GiB message', 'huge', 'refresh failed')
--- exec_stdout_like
^found after [0-4]\.\d s
answered ok
latency ok
memory ok
--- error_log eval
qr/a message of \d+ bytes, more than 32 MB/



=== TEST 9: class 6: a group read answered without the group: the list and the state file stay
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('6 no group entry', 'no-entry', 'refresh failed', user => '"bob"')
. "grep -c '^bob\$' \$TEST_NGINX_STATE_DIR/remote.list\n"
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
1
--- error_log
was not returned by its base read



=== TEST 10: class 6: OpenLDAP, whose ACL gives search but not read on the group
--- init
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
open my $fh, '>', "$ENV{TEST_NGINX_STATE_DIR}/remote.list" or die $!;
print $fh state_file('remote', 'alice');
close $fh;
chmod 0666, "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- http_config eval
main::list('        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;',
           nested => 'walk', url => 'ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT')
--- wait_for
refresh failed, the last good list stays
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 200
--- exec
grep -c '^alice$' $TEST_NGINX_STATE_DIR/remote.list
--- exec_stdout
1
--- error_log
was not returned by its base read
--- no_error_log
0 names loaded



=== TEST 11: class 7: directory values read as exactly their attribute
--- init
$main::H->mode('evil-values');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list('')
--- wait_for
names loaded
--- request eval
[('POST /mapi/emsmdb/') x 5]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('admin'),
 main::basic_auth('root'), main::basic_auth('boss'),
 main::basic_auth('carol')]
--- error_code eval
[200, 403, 403, 403, 200]
--- exec eval
main::status() . " | grep -o '\"refused\":[0-9]*'\n"
--- exec_stdout
"refused":3
--- error_log
3 directory values are not what their attribute holds and were refused



=== TEST 12: class 8: a name that starts with "#" is kept in the state file
--- init
$main::H->mode('hash-name');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('#alice')
--- error_code: 200



=== TEST 13: class 8: ... and read back: the list after a restart is the list before
--- init
$main::H->mode('silent');
--- http_config eval
main::list('')
--- wait_for
4 names loaded from the state file
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('#alice'), main::basic_auth('bob')]
--- error_code eval
[200, 200]



=== TEST 14: class 8: a truncated state file is refused whole, never a part of it
--- init
$main::H->mode('silent');
my $s = state_file('remote', 'alice', 'bob', 'carol');
open my $fh, '>', "$ENV{TEST_NGINX_STATE_DIR}/remote.list" or die $!;
print $fh substr($s, 0, length($s) - 12);
close $fh;
--- http_config eval
main::list('')
--- wait_for eval
qr/state file ".*remote\.list" is truncated/
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('bob')]
--- error_code eval
[403, 403]
--- no_error_log
names loaded



=== TEST 15: class 8: a state file with a changed byte is refused
--- init
$main::H->mode('silent');
my $s = state_file('remote', 'alice', 'bob', 'carol');
$s =~ s/bob/bop/;
open my $fh, '>', "$ENV{TEST_NGINX_STATE_DIR}/remote.list" or die $!;
print $fh $s;
close $fh;
--- http_config eval
main::list('')
--- wait_for eval
qr/state file ".*remote\.list" is corrupted \(its checksum does not match\), ignored/
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403



=== TEST 16: class 9: answers behind messages with IDs nobody asked for
--- init
$main::H->mode('stray-ids');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('bob')
--- error_code: 200
--- no_error_log
timed out



=== TEST 17: class 10: busy in the middle of a search: the next server
--- init
$main::H->mode('busy');
$main::H2->mode('good');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list('', url => 'ldap://127.0.0.1:$TEST_NGINX_HOSTILE_PORT ldap://127.0.0.1:$TEST_NGINX_HOSTILE2_PORT')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('bob')
--- error_code: 200
--- no_error_log
refresh failed



=== TEST 18: class 11: several slow servers: one refresh at a time
(the watch, which keeps a connection of its own, is off: only refreshes
connect here)
--- workers: 2
--- init
$main::H2->mode('good');
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
unlink "$ENV{TEST_NGINX_HOSTILE_DIR}/s/log";
--- http_config eval
main::list('        ldap_watch off;', timeout => '1500ms', url => join ' ', (map { 'ldap://127.0.0.1:' . ($ENV{TEST_NGINX_SILENT_PORT} + $_) } 0 .. 3), 'ldap://127.0.0.1:$TEST_NGINX_HOSTILE2_PORT')
--- exec
sleep 20
# refreshes that overlap: a connection opened while another is open (a
# server logs a close a little after nginx made it, and a refresh opens
# its next connection at once: a close counts 100 ms early)
perl -e 'my @l = sort { $a->[-1] <=> $b->[-1] }
                map { $_->[-1] -= 0.1 if $_->[0] eq "close"; $_ }
                map { [split] } <>;
         for (@l) { $n++ if $_->[0] eq "open"; $n-- if $_->[0] eq "close";
                    $max = $n if $n > $max }
         print "at most ", $max + 0, " at once\n"' $TEST_NGINX_HOSTILE_DIR/s/log
grep -c 'names loaded, generation 1' $TEST_NGINX_LOG_DIR/error.log
--- exec_stdout
at most 1 at once
1
--- timeout: 60



=== TEST 19: class 12: text from the server is escaped in the log and on the status page
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('12 forged log line', 'forge', 'refresh failed')
. main::status() . " | perl -MJSON::PP -e 'local \$/; my \$j = decode_json(<STDIN>); print \"\$j->{lists}{remote}{last_error}\\n\"'\n"
. "grep -c '^2026/01/01 00:00:00' \$TEST_NGINX_LOG_DIR/error.log || true\n"
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
ldap://127\.0\.0\.1:\d+: reading group "cn=outlook-remote,ou=groups,dc=example,dc=com" failed \(50: Insufficient access, denied\\x0a2026/01/01 00:00:00 \[notice\] 1#1: forged \\xff\)
0



=== TEST 20: class 12: every refresh error names the server it came from
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('12 found nobody', 'nobody', 'refresh failed')
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
--- error_log eval
qr/refresh failed, the last good list stays: ldap:\/\/127\.0\.0\.1:\d+: the in-chain search \(1\.2\.840\.113556\.1\.4\.1941\) found nobody/



=== TEST 21: class 12: the status page is valid JSON whatever a list's name holds
--- user_files eval
[["r.txt", "alice\n"]]
--- http_config eval
"    exchange_access_list \"r\xffe\xc3\xa9\" {\n"
. "        zone 1m;\n"
. "        file \$TEST_NGINX_HTML_DIR/r.txt;\n"
. "    }\n"
--- config
    location = /status {
        exchange_access_status;
    }
--- exec eval
main::status() . " | perl -MJSON::PP -e 'local \$/; my \$j = decode_json(<STDIN>); print join(\",\", map { sprintf(\"%vx\", \$_) } keys %{\$j->{lists}}), \"\\n\"'\n"
--- exec_stdout
72.ff.65.e9



=== TEST 22: a paged results control without a value: the refresh fails, the worker lives
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec eval
main::probe('- control without value', 'empty-control', 'refresh failed')
--- exec_stdout_like
^found after \d+\.\d s
answered ok
latency ok
memory ok
--- error_log
a paged results control without a value
--- no_error_log
exited on signal



=== TEST 23: StartTLS accepted with a message behind it in the same packet: refused, nothing of it believed
--- init
$main::H->mode("starttls-inject");
unlink "$ENV{TEST_NGINX_STATE_DIR}/remote.list";
--- http_config eval
main::list("        ldap_starttls on;\n        ldap_verify off;\n")
--- wait_for
refresh failed
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403
--- error_log eval
[qr/refresh failed, no list yet, .*the server sent more after it accepted StartTLS/,
 'exchange access denied user "alice" (list_unavailable)']
--- no_error_log
names loaded
exited on signal



=== TEST 24: class 13: a continuation reference to a server that answers is not followed
--- init
main::elsewhere_init('references-here');
--- http_config eval
main::list('')
--- wait_for
names loaded
--- exec eval
$main::Elsewhere
--- exec_stdout
alice 200
bob 403
0
--- error_log
exchange_access_list "remote": 4 names loaded
--- no_error_log
exited on signal
[alert]



=== TEST 25: class 13: a search that ends in a referral is not followed: the refresh fails
--- init
main::elsewhere_init('referral-here');
--- http_config eval
main::list('')
--- wait_for
refresh failed
--- exec eval
$main::Elsewhere
--- exec_stdout
alice 403
bob 403
0
--- error_log eval
qr/refresh failed, no list yet, .*Referral/
--- no_error_log
names loaded
exited on signal
[alert]
