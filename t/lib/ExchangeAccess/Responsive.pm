package ExchangeAccess::Responsive;

# Sends the worst inputs a parser of the module can be given, one request
# after another on a connection of their own, while other connections
# probe the same worker with a small request every 10 ms: the worker must
# answer every probe within the limit (work linear in the request, no
# stall of other clients).  Bounded: at most COUNT hostile requests, sent
# for about SECONDS (1 by default; each may take at most 20 seconds).
#
#   perl -It/lib -MExchangeAccess::Responsive -e 'run(...)'
#
# run(port => P, kind => K, count => N, seconds => S, limit_ms => 100) prints
# "kind=K statuses=... probes=M max_ms=X" and exits 0 when every probe was
# answered in time, 1 otherwise.  A run with a slow probe is run once more
# (a stall comes again; a machine busy with something else once does not),
# and both lines are printed.

use strict;
use warnings;

use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

use Exporter 'import';
our @EXPORT = qw(run hostile);

sub b64url {
    my $s = encode_base64(shift, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub utf16 { join '', map { pack 'v', ord } split //, shift }

# an NTLM AUTHENTICATE message whose fields are as long as they can be
sub ntlm3 {
    my ($user, $domain) = @_;
    my ($u, $d, $ws) = (utf16($user), utf16($domain), utf16('WS'));
    my $off = 64;
    my $hdr = "NTLMSSP\0" . pack('V', 3);
    my @f = ('', '', $d, $u, $ws, '');
    my $body = '';
    my $fields = '';
    for my $v (@f) {
        $fields .= pack('vvV', length $v, length $v, $off + length $body);
        $body .= $v;
    }
    return $hdr . $fields . pack('V', 0xe2888215) . $body;
}

sub der {
    my ($tag, $v) = @_;
    my $n = length $v;
    my $len = $n < 0x80 ? chr($n)
            : $n < 0x100 ? "\x81" . chr($n)
            : $n < 0x10000 ? "\x82" . pack('n', $n)
            : "\x83" . substr(pack('N', $n), 1);
    return chr($tag) . $len . $v;
}

# the request lines and headers of every kind; each about as large as
# "large_client_header_buffers 4 64k" lets through
sub hostile {
    my $kind = shift;
    my $a = 'a' x 60000;
    my $basic = 'Authorization: Basic ' . encode_base64('bob:x', '');

    if ($kind eq 'email') {
        # a path of one letter, eight Email values of that letter and
        # one more: each search is a near match everywhere
        my $q = join '&', map { 'Email=' . ('a' x 3500) . '@b' } 1 .. 8;
        return ('GET /autodiscover/' . ('a' x 30000) . "?$q", $basic);
    }

    if ($kind eq 'email-cookie') {
        # three Cookie headers of 40 KB and the request line fill the
        # four buffers
        my $c = join "\r\n", map {
            'Cookie: ' . join('; ', map { 'Email=' . ('a' x 20000) . '@b' }
                                     1 .. 2)
        } 1 .. 3;
        return ('GET /autodiscover/' . ('a' x 30000), "$basic\r\n$c");
    }

    if ($kind eq 'logon') {
        my $h = join "\r\n",
            map { 'X-OWA-ExplicitLogonUser: ' . ('a' x 60000) . '@b' } 1 .. 3;
        return ('GET /owa/' . ('a' x 30000), "$basic\r\n$h");
    }

    if ($kind eq 'path') {
        # dot segments, slashes, encodings and "@" segments to normalise
        my $p = ('/a/..' x 6000) . ('/x@y' x 2000);
        return ("GET /owa$p/" . ('%61' x 1000) . '?' . ('a=/mapi&' x 2000),
                $basic);
    }

    if ($kind eq 'cookies') {
        # names of whitespace and encodings, many separators
        my $c = join "\r\n", map {
            'Cookie: ' . (" \t" x 10000) . "Email=x\@y.com" . (';' x 20000)
        } 1 .. 3;
        return ("GET /autodiscover/autodiscover.json?"
                . ('%u0045mail=x@y.com&' x 2000), "$basic\r\n$c");
    }

    if ($kind eq 'basic') {
        return ('POST /mapi/emsmdb/',
                'Authorization: Basic '
                . encode_base64('a' x 44000 . ':' . 'p' x 100, ''));
    }

    if ($kind eq 'ntlm') {
        return ('POST /mapi/emsmdb/',
                'Authorization: NTLM ' . encode_base64('A' x 44000, ''));
    }

    if ($kind eq 'ntlm3') {
        return ('POST /mapi/emsmdb/',
                'Authorization: NTLM '
                . encode_base64(ntlm3('u' x 2000, 'D' x 2000), ''));
    }

    if ($kind eq 'negotiate') {
        # nested DER as deep and as long as fits
        my $t = 'x' x 100;
        $t = der(0x30, der(0xa0, $t)) for 1 .. 4000;
        return ('POST /mapi/emsmdb/',
                'Authorization: Negotiate '
                . encode_base64(substr(der(0xa1, $t), 0, 44000), ''));
    }

    if ($kind eq 'bearer') {
        # a JSON payload of many keys, strings with escapes, deep arrays
        my $p = '{' . join(',', map { "\"k$_\":\"\\u0041\\n\"" } 1 .. 1500)
              . ',"arr":' . ('[' x 32) . (']' x 32) . ',"upn":"bob@example.com"}';
        my $jwt = b64url('{"alg":"RS256"}') . '.' . b64url($p) . '.'
                  . b64url('s' x 100);
        return ('POST /mapi/emsmdb/', "Authorization: Bearer $jwt");
    }

    if ($kind eq 'usermap') {
        # the longest name a credential carries, through the user maps
        return ('POST /mapi/emsmdb/',
                'Authorization: Basic '
                . encode_base64(('D' x 200) . '\\' . ('u' x 250)
                                . ':x', ''));
    }

    die "unknown kind $kind";
}

sub request {
    my ($port, $line, $headers, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => $timeout)
        or return 'connect';
    my ($method, $target) = $line =~ /^(\S+) (.*)$/;
    my $req = "$method $target HTTP/1.1\r\nHost: localhost\r\n"
              . ($headers ? "$headers\r\n" : '')
              . ($method eq 'POST' ? "Content-Length: 0\r\n" : '')
              . "Connection: close\r\n\r\n";
    print $s $req;
    my $res = '';
    my $t0 = time;
    while (time - $t0 < $timeout) {
        my $n = sysread($s, $res, 65536, length $res);
        last unless $n;
    }
    close $s;
    return $res =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : 'none';
}

sub attempt {
    my ($port, $line, $headers, $count, $seconds, $limit) = @_;

    pipe(my $rd, my $wr) or die;
    my $pid = fork // die;

    if ($pid == 0) {
        close $rd;
        my %st;
        my $t0 = time;
        for (1 .. $count) {
            $st{request($port, $line, $headers, 20)}++;
            last if time - $t0 > $seconds;
        }
        print $wr join(',', map { "$_:$st{$_}" } sort keys %st);
        close $wr;
        POSIX::_exit(0);
    }

    close $wr;

    my ($probes, $max, @slow) = (0, 0);
    sleep 0.05;

    while (waitpid($pid, WNOHANG) == 0) {
        my $t0 = time;
        my $st = request($port, 'GET /ping', '', 30);
        my $ms = (time - $t0) * 1000;
        $probes++;
        $max = $ms if $ms > $max;
        push @slow, sprintf('%.0f', $ms) if $ms >= $limit || $st ne '200';
        sleep 0.01;
    }

    my $statuses = do { local $/; <$rd> } // '';

    return ($statuses, $probes, $max, @slow);
}

sub run {
    my %a = @_;
    my $limit = $a{limit_ms} // 100;
    my ($line, $headers) = hostile($a{kind});
    my ($statuses, $probes, $max, @slow);

    # a stall repeats; a machine busy with something else once does not
    for my $try (1 .. 2) {
        ($statuses, $probes, $max, @slow) =
            attempt($a{port}, $line, $headers, $a{count} // 2000,
                    $a{seconds} // 1, $limit);

        printf "kind=%s statuses=%s probes=%d max_ms=%.0f%s\n",
               $a{kind}, $statuses, $probes, $max,
               @slow ? ' slow=' . join(',', @slow) : '';

        last unless @slow || $probes < 3;
    }

    exit(@slow || $probes < 3 ? 1 : 0);
}

1;
