#!/usr/bin/perl
# Rewrites example-nginx.conf so that it runs unprivileged-style in a
# private prefix on loopback, in front of a stand-in Exchange backend:
# the demo and the test of the example both run what this prints.
#
# usage: localize.pl PREFIX MODULE_SO HTTPS_PORT HTTP_PORT BACKEND_PORT
#        (MODULE_SO "-": the module is compiled into nginx)
#        < example-nginx.conf > PREFIX/conf/nginx.conf

use strict;
use warnings;

my ($p, $so, $https, $http, $backend) = @ARGV;
die "usage: $0 PREFIX MODULE_SO HTTPS_PORT HTTP_PORT BACKEND_PORT\n"
    unless defined $backend;

local $/;
my $c = <STDIN>;

my @subst = (
    # MODULE_SO "-": nginx has the module compiled in
    [qr{load_module modules/ngx_http_exchange_access_module\.so;\n?},
     $so eq '-' ? '' : "load_module $so;\n"],
    [qr{^user [^;]+;\n}m, ''],
    [qr{/run/nginx\.pid}, "$p/logs/nginx.pid"],
    [qr{error_log /var/log/nginx/error\.log;}, "error_log $p/logs/error.log info;"],
    [qr{/var/log/nginx/}, "$p/logs/"],
    [qr{/etc/nginx/}, "$p/conf/"],
    [qr{listen 443 ssl;}, "listen 127.0.0.1:$https ssl;"],
    [qr{listen 80;}, "listen 127.0.0.1:$http;"],
    [qr{server exchange\.corp\.example\.com:443;},
     "server 127.0.0.1:$backend;"],
    [qr{worker_processes auto;}, 'worker_processes 2;'],
    # 127.0.0.2 stands for a client inside the network
    [qr{exchange_access_internal 10\.0\.0\.0/8},
     'exchange_access_internal 127.0.0.2 10.0.0.0/8'],
    [qr{^http \{\n}m,
     "http {\n    client_body_temp_path $p/tmp/body;\n"
     . "    proxy_temp_path $p/tmp/proxy;\n"
     . "    fastcgi_temp_path $p/tmp/fastcgi;\n"
     . "    uwsgi_temp_path $p/tmp/uwsgi;\n"
     . "    scgi_temp_path $p/tmp/scgi;\n\n"
     . "    include $p/conf/backend.conf;\n\n"],
);

for my $s (@subst) {
    my ($re, $to) = @$s;
    $c =~ s/$re/$to/g or die "$0: example-nginx.conf has no match for $re\n";
}

print $c;
