package ExchangeAccess::Fixture;

# What every suite of this project shares: the module to load, a stand-in
# Exchange backend added to each test's http{} block, and helpers that
# make credentials.
#
# The backend listens on 127.0.0.1:$TEST_NGINX_BACKEND_PORT and is reached
# as "proxy_pass http://exchange_backend;".  It answers
#   - no Authorization:             401 with NTLM, Negotiate and Basic offers
#   - NTLM or Negotiate NTLM Type 1: 401 with an NTLM Type 2 challenge
#   - SPNEGO NegTokenInit:           401 with a NegTokenResp challenge
#   - anything else:                 200 "backend: METHOD URI auth=..."
# so a test tells "forwarded" (the backend's answer) from "denied by the
# module" (403 from the front).

use strict;
use warnings;

use Cwd qw(cwd);
use MIME::Base64 qw(encode_base64);
use Test::Nginx::Socket ();

use Exporter 'import';
our @EXPORT = qw(basic_auth ntlm_type2 spnego_type2 backend_config
                 state_file);

my $root = cwd();

$ENV{TEST_NGINX_BACKEND_PORT} ||= 1985;
# (empty: nginx has the module compiled in, as the sanitizer build)
$ENV{TEST_NGINX_LOAD_MODULES} //=
    "$root/build/nginx/objs/ngx_http_exchange_access_module.so";
$ENV{TEST_NGINX_ROOT} = $root;

sub basic_auth {
    my ($user, $password) = @_;
    return 'Authorization: Basic '
           . encode_base64("$user:" . ($password // 'Passw0rd!'), '');
}

# a state file as the module writes it (ngx_exa_state.h): one key a line,
# "%" escapes, an end line with the count and the FNV-1a checksum
sub state_file {
    my ($list, @keys) = @_;
    my $body = '';

    for my $k (@keys) {
        (my $e = $k) =~ s/([%\x00-\x20\x7f])/sprintf('%%%02x', ord $1)/ge;
        $e =~ s/^#/%23/;
        $body .= "$e\n";
    }

    my $h = 2166136261;

    for my $c (unpack 'C*', $body) {
        $h = (($h ^ $c) * 16777619) & 0xffffffff;
    }

    return "# exchange_access_list \"$list\" state, version 2\n$body"
           . sprintf("# end, %d names, checksum %08x\n", scalar @keys, $h);
}

sub av_pair {
    my ($type, $value) = @_;
    return pack('vv', $type, length $value) . $value;
}

sub utf16 {
    my $s = shift;
    return join '', map { pack 'v', ord } split //, $s;
}

# a valid CHALLENGE_MESSAGE: domain EXAMPLE, server EXCH01, no timestamp
sub ntlm_type2_bytes {
    my $target = utf16('EXAMPLE');
    my $info = av_pair(2, utf16('EXAMPLE')) . av_pair(1, utf16('EXCH01'))
             . av_pair(4, utf16('example.test'))
             . av_pair(3, utf16('exch01.example.test')) . av_pair(0, '');
    my $flags = 0x00000001 | 0x00000004 | 0x00000010 | 0x00000020
              | 0x00000200 | 0x00008000 | 0x00010000 | 0x00080000
              | 0x00800000 | 0x02000000 | 0x20000000 | 0x40000000
              | 0x80000000;
    my $hdr = 56;

    return "NTLMSSP\0" . pack('V', 2)
           . pack('vvV', length $target, length $target, $hdr)
           . pack('V', $flags) . pack('H*', '0123456789abcdef') . "\0" x 8
           . pack('vvV', length $info, length $info, $hdr + length $target)
           . pack('CCvCCCC', 10, 0, 20348, 0, 0, 0, 15)
           . $target . $info;
}

sub der {
    my ($tag, $v) = @_;
    my $n = length $v;
    my $len = $n < 0x80 ? chr($n)
            : $n < 0x100 ? "\x81" . chr($n)
            : "\x82" . pack('n', $n);
    return chr($tag) . $len . $v;
}

sub ntlm_type2 { encode_base64(ntlm_type2_bytes(), '') }

sub spnego_type2 {
    my $oid = pack('H*', '060a2b06010401823702020a');
    my $inner = der(0xa0, der(0x0a, "\x01")) . der(0xa1, $oid)
              . der(0xa2, der(0x04, ntlm_type2_bytes()));
    return encode_base64(der(0xa1, der(0x30, $inner)), '');
}

sub backend_config {
    my $port = $ENV{TEST_NGINX_BACKEND_PORT};
    my $t2 = ntlm_type2();
    my $s2 = spnego_type2();

    return <<"CONF";
    upstream exchange_backend {
        server 127.0.0.1:$port;
    }

    map \$http_authorization \$exa_backend_step {
        default                          other;
        ""                               none;
        "~^NTLM TlRMTVNTUAABAAAA"        ntlm_type1;
        "~^Negotiate TlRMTVNTUAABAAAA"   negotiate_type1;
        "~^Negotiate YE"                 spnego_init;
        "~^Negotiate YI"                 spnego_init;
    }

    server {
        listen 127.0.0.1:$port;
        access_log off;

        location / {
            if (\$exa_backend_step = none) {
                add_header WWW-Authenticate "Negotiate" always;
                add_header WWW-Authenticate "NTLM" always;
                add_header WWW-Authenticate 'Basic realm="exchange"' always;
                return 401 "backend: 401 \$request_method \$request_uri\\n";
            }

            if (\$exa_backend_step = ntlm_type1) {
                add_header WWW-Authenticate "NTLM $t2" always;
                return 401 "backend: ntlm challenge\\n";
            }

            if (\$exa_backend_step = negotiate_type1) {
                add_header WWW-Authenticate "Negotiate $t2" always;
                return 401 "backend: negotiate challenge\\n";
            }

            if (\$exa_backend_step = spnego_init) {
                add_header WWW-Authenticate "Negotiate $s2" always;
                return 401 "backend: spnego challenge\\n";
            }

            return 200 "backend: \$request_method \$request_uri auth=\$http_authorization\\n";
        }
    }
CONF
}

# every block gets the backend in its http{} unless it says otherwise
Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;

    return if $block->has('no_backend');

    $block->set_value('http_config',
                      backend_config() . ($block->http_config // ''));
});

1;
