# A directory of 100,000 users and a group of 50,000 of them: the list loads
# through paged searches, every member is in, nobody else is; its table is
# built a step at a time.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::Slapd;

repeat_each(1);

our $Slapd = ExchangeAccess::Slapd->start(
    dir => ($ENV{TEST_NGINX_SCRATCH} || "$ENV{PWD}/t") . '/servroot-slapd-big',
    ldif => ExchangeAccess::Slapd::big_ldif(100000, 50000));
$Slapd->{owner} = $$;

run_tests();

__DATA__

=== TEST 1: 50,000 members of 100,000 users, walking the group and paging the users
--- http_config
    exchange_access_list big {
        zone 32m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=big-group,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_timeout 10s;
        refresh 600s;
    }
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=big;
        proxy_pass http://exchange_backend;
    }
--- log_level: info
--- wait_for
exchange_access_list "big": 100000 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 5]
--- more_headers eval
[main::basic_auth('user000001'), main::basic_auth('USER050000'),
 main::basic_auth('user025000@example.test'), main::basic_auth('user050001'),
 main::basic_auth('user099999')]
--- error_code eval
[200, 200, 200, 403, 403]
--- error_log eval
qr/"big": 100000 names loaded, generation 1, built in \d+ steps/
--- no_error_log
refresh failed



=== TEST 2: a list that does not fit in its zone: the refresh fails as soon as that is known, clearly
--- http_config
    exchange_access_list big {
        zone 1m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=big-group,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_timeout 10s;
        refresh 600s;
    }
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=big;
        proxy_pass http://exchange_backend;
    }
--- log_level: info
--- wait_for eval
qr/more members than the zone of 1048576 bytes can hold \(\d+ so far\): make "zone" larger/
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('user000001')
--- error_code: 403
--- error_log
exchange access denied user "user000001" (list_unavailable)
