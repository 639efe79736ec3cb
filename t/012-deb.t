# The Debian package: it builds with dh_nginx, installs with apt, is enabled
# the way Debian's own module packages are (modules-available and
# modules-enabled), and Debian's nginx loads it.  Installs on this machine,
# then removes it again; needs root.

use strict;
use warnings;
use Test::More;

plan skip_all => 'installing a package needs root' if $> != 0;

sub run {
    my $cmd = shift;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = run('make deb');
is($rc, 0, 'make deb builds the package') or diag(substr($out, -3000));

my ($deb) = glob('build/deb/libnginx-mod-http-exchange-access_*_*.deb');
ok($deb, 'the .deb is in build/deb');

($rc, $out) = run("dpkg-deb -c $deb");
like($out, qr{\./usr/lib/nginx/modules/ngx_http_exchange_access_module\.so},
     'it holds the module');
like($out, qr{\./usr/share/nginx/modules-available/mod-http-exchange-access\.conf},
     'and its load file');

($rc, $out) = run("dpkg-deb -f $deb Depends");
like($out, qr/nginx-abi-[\d.]+-\d+/, 'it depends on the ABI of nginx');

# packaged daemons must not be started or reloaded by the installation
my $policy = '/usr/sbin/policy-rc.d';
my $own = !-e $policy;
if ($own) {
    open my $fh, '>', $policy or die;
    print $fh "#!/bin/sh\nexit 101\n";
    close $fh;
    chmod 0755, $policy;
}

($rc, $out) = run("DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$deb");
is($rc, 0, 'apt installs it') or diag($out);

ok(-l '/etc/nginx/modules-enabled/50-mod-http-exchange-access.conf',
   'it is enabled in modules-enabled');

($rc, $out) = run('nginx -t');
is($rc, 0, "Debian's nginx -t passes with the module enabled") or diag($out);

($rc, $out) = run('nginx -T');
like($out, qr{load_module modules/ngx_http_exchange_access_module\.so;},
     'nginx -T shows the module loaded');

# a configuration that uses it, with the system's modules-enabled
my $dir = ($ENV{TEST_NGINX_SCRATCH} || "$ENV{PWD}/t") . '/servroot-deb';
system("rm -rf $dir; mkdir -p $dir/logs");
open my $fh, '>', "$dir/nginx.conf" or die;
print $fh <<"CONF";
include /etc/nginx/modules-enabled/*.conf;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    exchange_access_list remote {
        zone 1m;
        file $dir/remote.txt;
    }
    server {
        listen 127.0.0.1:1999;
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        location / { return 200; }
    }
}
CONF
close $fh;
open $fh, '>', "$dir/remote.txt" or die;
print $fh "alice\n";
close $fh;

($rc, $out) = run("nginx -t -c $dir/nginx.conf");
is($rc, 0, 'a configuration with exchange_access directives passes nginx -t')
    or diag($out);

($rc, $out) = run('DEBIAN_FRONTEND=noninteractive apt-get remove -y -q '
                  . 'libnginx-mod-http-exchange-access');
is($rc, 0, 'apt removes it again') or diag($out);
ok(!-e '/etc/nginx/modules-enabled/50-mod-http-exchange-access.conf',
   'and it is no longer enabled');

unlink $policy if $own;

done_testing();
