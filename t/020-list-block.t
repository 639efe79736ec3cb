# The exchange_access_list block reads like any nginx block: its
# directives, the list's own and each source's, are checked by nginx's
# rules, with nginx's messages for a repeated setting, a wrong number of
# arguments, a bad value or a misspelt name.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;

repeat_each(1);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> remote.txt\nalice\n>>> ldap.secret\nx\n");
    $block->set_value('config', "    location / { }\n")
        if !defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: a repeated zone is a duplicate
--- http_config
    exchange_access_list remote {
        zone 1m;
        zone 2m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- must_die
--- error_log
"zone" directive is duplicate



=== TEST 2: a misspelt directive
--- http_config
    exchange_access_list remote {
        zone 1m;
        fiel $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- must_die
--- error_log
unknown directive "fiel"



=== TEST 3: a wrong number of arguments
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- must_die
--- error_log
invalid number of arguments in "file" directive



=== TEST 4: a size that is not one
--- http_config
    exchange_access_list remote {
        zone 1q;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- must_die
--- error_log
"zone" directive invalid value



=== TEST 5: a refresh of zero seconds
--- http_config
    exchange_access_list remote {
        zone 1m;
        refresh 0s;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- must_die
--- error_log
value must be between 1 and 31536000



=== TEST 6: a repeated LDAP setting is a duplicate, not the last one winning
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_base "dc=example,dc=com";
        ldap_base "dc=example,dc=org";
        ldap_group "cn=g,dc=example,dc=com";
    }
--- must_die
--- error_log
"ldap_base" directive is duplicate



=== TEST 7: a flag that is neither on nor off
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_starttls maybe;
    }
--- must_die
--- error_log
invalid value "maybe" in "ldap_starttls" directive, it must be "on" or "off"



=== TEST 8: ldap_nested takes chain, walk or off
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_nested deep;
    }
--- must_die
--- error_log
invalid value "deep"



=== TEST 9: an ldap_timeout of zero
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_timeout 0;
    }
--- must_die
--- error_log
"ldap_timeout" directive invalid value



=== TEST 10: ldap_user_attributes twice
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_user_attributes uid;
        ldap_user_attributes mail;
    }
--- must_die
--- error_log
"ldap_user_attributes" directive is duplicate



=== TEST 11: two sources
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        ldap_url ldap://127.0.0.1:1;
    }
--- must_die
--- error_log
exchange_access_list "remote" has more than one source



=== TEST 12: a state file is for a directory, not for a file list
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        state_file $TEST_NGINX_HTML_DIR/remote.state;
    }
--- must_die
--- error_log
"state_file" of exchange_access_list "remote" is not used with a file source



=== TEST 13: a block a directive cannot open
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        ldap_url { }
    }
--- must_die
--- error_log
unexpected "{"



=== TEST 14: the list block's directives mean nothing outside it
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
    ldap_url ldap://127.0.0.1:1;
--- must_die
--- error_log
unknown directive "ldap_url"



=== TEST 15: every directive in its place, the list works
--- http_config
    exchange_access_list remote {
        zone 1m;
        refresh 30s;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["POST /mapi/emsmdb/", "POST /mapi/emsmdb/"]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('bob')]
--- error_code eval
[200, 403]



=== TEST 16: ldap_watch takes poll, notify, syncrepl or off
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_watch often;
    }
--- must_die
--- error_log
invalid value "often"



=== TEST 17: ldap_watch twice
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_watch poll;
        ldap_watch off;
    }
--- must_die
--- error_log
"ldap_watch" directive is duplicate



=== TEST 18: an ldap_watch_interval of zero, or not a time
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:1;
        ldap_watch_interval 0;
    }
--- must_die
--- error_log
"ldap_watch_interval" directive invalid value



=== TEST 19: ldap_watch in a file list is an error
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        ldap_watch poll;
    }
--- must_die
--- error_log
exchange_access_list "remote" has more than one source
