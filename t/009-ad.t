# Active Directory semantics against a real Samba AD domain controller:
# in-chain membership of nested groups, sAMAccountName and UPN keys, a
# disabled account taken out by ldap_filter, paged results, LDAPS.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::Samba;

repeat_each(1);

our $DC = ExchangeAccess::Samba->start(bulk => 1200);

sub list {
    my ($extra, %o) = @_;
    my $url = $o{url} || 'ldap://$TEST_NGINX_AD_IP';
    my $group = $o{group} || 'CN=Outlook Remote,CN=Users,DC=example,DC=test';

    return <<"CONF";
    exchange_access_list remote {
        zone 4m;
        ldap_url $url;
        ldap_bind_dn "CN=svc-nginx,CN=Users,DC=example,DC=test";
        ldap_bind_password_file \$TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "DC=example,DC=test";
        ldap_group "$group";
        ldap_timeout 20s;
        refresh 600s;
$extra
    }
CONF
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> ldap.secret\nPassw0rd!\n");
    $block->set_value('config', <<'CONF') unless defined $block->config;
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.test;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: chain: nested and direct members, by sAMAccountName and UPN
--- http_config eval
main::list('        ldap_nested chain;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
[main::basic_auth('EXAMPLE\alice'), main::basic_auth('alice@example.test'),
 main::basic_auth('carol'), main::basic_auth('erin'),
 main::basic_auth('EXAMPLE\bob'), main::basic_auth('dave@example.test')]
--- error_code eval
[200, 200, 200, 200, 403, 403]



=== TEST 2: chain with a filter that takes out disabled accounts
--- http_config eval
main::list('        ldap_nested chain;
        ldap_filter "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('erin')]
--- error_code eval
[200, 403]



=== TEST 3: off: direct members only
--- http_config eval
main::list('        ldap_nested off;')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('carol'), main::basic_auth('alice')]
--- error_code eval
[200, 403]



=== TEST 4: walk works against Active Directory too
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('bob')]
--- error_code eval
[200, 403]



=== TEST 5: a group of 1200: the in-chain search is paged (1000 a page)
--- http_config eval
main::list('        ldap_nested chain;', group => 'CN=Big Group,CN=Users,DC=example,DC=test')
--- wait_for
exchange_access_list "remote": 2400 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth('bulk00001'), main::basic_auth('bulk01200@example.test'),
 main::basic_auth('alice')]
--- error_code eval
[200, 200, 403]



=== TEST 6: LDAPS to the domain controller with its certificate
--- http_config eval
main::list('        ldap_nested chain;
        ldap_trusted_certificate $TEST_NGINX_AD_CA;', url => 'ldaps://$TEST_NGINX_AD_IP')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 200



=== TEST 7: StartTLS to the domain controller
--- http_config eval
main::list('        ldap_nested chain;
        ldap_starttls on;
        ldap_trusted_certificate $TEST_NGINX_AD_CA;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('carol')
--- error_code: 200



=== TEST 8: a group that really is empty empties the list
--- http_config eval
main::list('        ldap_nested chain;', group => 'CN=Nobody,CN=Users,DC=example,DC=test')
--- wait_for
exchange_access_list "remote": 0 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403
--- error_log
exchange access denied user "alice" (not_member)



=== TEST 9: a sAMAccountName is its domain's: with EXAMPLE the second domain, EXAMPLE\alice gets in and CHILD\alice does not
--- http_config eval
main::list('        ldap_nested chain;')
--- config
    location / {
        exchange_access on;
        exchange_access_domain CHILD child.example.test EXAMPLE example.test;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
[main::basic_auth('EXAMPLE\alice'), main::basic_auth('CHILD\alice'),
 main::basic_auth('alice'), main::basic_auth('alice@example.test')]
--- error_code eval
[200, 403, 403, 200]
