# Work linear in the request: the worst inputs of every parser (the path
# and query near large_client_header_buffers, Email values and explicit
# logon addresses found everywhere, many cookies with names of
# whitespace, huge Authorization values of each scheme, the longest names
# through the user maps) never stall the worker: another connection's
# request is answered within 100 ms while they are sent
# (t/lib/ExchangeAccess/Responsive.pm).

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;

repeat_each(1);

our $Http = <<'CONF';
    large_client_header_buffers 4 64k;

    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
CONF

our $Config = <<'CONF';
    location = /ping {
        return 200 "pong\n";
    }

    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com;
        exchange_access_require mapi rpc autodiscover owa list=remote;
        exchange_access_user_map "~^(?<d>[^\\\\]+)\\\\(?<u>.+)x$" $u;
        exchange_access_user_map "~^(.+)(.+)(.+)@(.+)$" $1;
        proxy_pass http://exchange_backend;
    }
CONF

sub probe {
    my $kind = shift;
    return "perl -It/lib -MExchangeAccess::Responsive -e "
           . "'run(port => $ENV{TEST_NGINX_SERVER_PORT}, kind => \"$kind\")'";
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> remote.txt\nalice\n");
    $block->set_value('http_config', ($block->http_config // '') . $Http);
    $block->set_value('config', $Config);
    $block->set_value('log_level', 'info');
    $block->set_value('exec_stdout_like',
                      qr/statuses=(\d{3}:\d+,?)+ probes=\d+ max_ms=\d+\n$/);

    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        $block->set_value('SKIP', 'timings mean nothing under valgrind');
    }
});

run_tests();

__DATA__

=== TEST 1: Email values of one letter, in a path and query of that letter
--- exec eval
main::probe('email')



=== TEST 2: Email cookies of that letter
--- exec eval
main::probe('email-cookie')



=== TEST 3: eight X-OWA-ExplicitLogonUser headers of that letter
--- exec eval
main::probe('logon')



=== TEST 4: dot segments, "@" segments, encodings and query segments to normalise
--- exec eval
main::probe('path')



=== TEST 5: cookies whose names are whitespace and separators, %u-encoded Email names
--- exec eval
main::probe('cookies')



=== TEST 6: a Basic credential of 60 KB
--- exec eval
main::probe('basic')



=== TEST 7: an NTLM credential of 60 KB
--- exec eval
main::probe('ntlm')



=== TEST 8: an NTLM Type 3 with the longest user and domain fields
--- exec eval
main::probe('ntlm3')



=== TEST 9: Negotiate: nested DER of 44 KB
--- exec eval
main::probe('negotiate')



=== TEST 10: Bearer: a JWT with a large JSON payload
--- exec eval
main::probe('bearer')



=== TEST 11: the longest DOMAIN\user through the user maps
--- exec eval
main::probe('usermap')
