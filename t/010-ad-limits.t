# Active Directory's limits, which Samba and OpenLDAP do not impose: member
# values in ranges of 1500 (MaxValRange) and at most 1000 entries in an
# unpaged search (MaxPageSize).  A stub server answers as AD does.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::StubAD;

repeat_each(1);

$ENV{TEST_NGINX_STUB_PORT} ||= 19401;
$ENV{TEST_NGINX_STUB_NOPAGE_PORT} ||= 19402;

our $Stub = ExchangeAccess::StubAD->start(port => $ENV{TEST_NGINX_STUB_PORT},
                                          members => 4000, users => 5000,
                                          paging => 1);
$Stub->{owner} = $$;

our $NoPage = ExchangeAccess::StubAD->start(
    port => $ENV{TEST_NGINX_STUB_NOPAGE_PORT}, members => 4000, users => 5000,
    paging => 0);
$NoPage->{owner} = $$;

run_tests();

__DATA__

=== TEST 1: member in three ranges, users in five pages: every member found
--- http_config
    exchange_access_list big {
        zone 4m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_STUB_PORT;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=big-group,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_user_attributes sAMAccountName;
        refresh 600s;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=big;
        proxy_pass http://exchange_backend;
    }
--- wait_for
exchange_access_list "big": 4000 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
[main::basic_auth('user000001'), main::basic_auth('user001501'),
 main::basic_auth('user004000'), main::basic_auth('user004001')]
--- error_code eval
[200, 200, 200, 403]



=== TEST 2: a server that stops at 1000 entries: the refresh fails, no truncated list
--- http_config
    exchange_access_list big {
        zone 4m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_STUB_NOPAGE_PORT;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=big-group,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_user_attributes sAMAccountName;
        refresh 600s;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=big;
        proxy_pass http://exchange_backend;
    }
--- wait_for
search failed (4: Size limit exceeded, size limit exceeded)
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('user000001')
--- error_code: 403
--- error_log
refresh failed, no list yet, restricted requests from outside are denied
