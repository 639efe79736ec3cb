/*
 * libFuzzer harness for the LDAP refresh: the input is what a directory
 * server sends, read by libldap from memory as the module reads it from
 * the network, and interpreted by the refresh's logic.  The first byte
 * picks the configuration: nested mode, Active Directory's domains,
 * StartTLS, how many bytes a read returns.  Walking two groups without
 * domains, the input answers a delta: the changes applied to what a full
 * read of a fixed conversation recorded.  Seeds: make -C fuzz seeds.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../t/unit/ldap_wire.h"
#include "ngx_exa_ldap_refresh.h"


static const char  *groups[] = {
    "cn=remote,ou=groups,dc=example,dc=com",
    "cn=other,ou=groups,dc=example,dc=com"
};

static const char  *attrs[] = { "sAMAccountName", "userPrincipalName", NULL };

#define U(n)  "uid=" n ",ou=people,dc=example,dc=com"

static const ngx_exa_str_t  changed[] = {
    { sizeof(U("carol")) - 1, (const unsigned char *) U("carol") },
    { sizeof(U("dave")) - 1, (const unsigned char *) U("dave") }
};


/* a full read of both groups, recorded in a new model: alice, bob, carol */

static ngx_exa_lm_t *
model(const ngx_exa_lr_conf_t *conf)
{
    LDAP                 *ld;
    int                   rc, calls;
    ngx_exa_lr_t         *r;
    ngx_exa_lm_t         *m;
    static wire_t         w;
    const char           *g0[] = { "member", U("alice"), U("bob"), NULL,
                                   NULL };
    const char           *g1[] = { "member", U("carol"), groups[0], NULL,
                                   NULL };
    const char           *alice[] = { "sAMAccountName", "alice", NULL, NULL };
    const char           *carol[] = { "userPrincipalName", "carol@x.test",
                                      NULL, NULL };

    if (w.in == NULL) {
        w.in = malloc(WIRE_MAX);
        wire_result(&w, 1, LDAP_RES_BIND, 0, "");
        wire_entry(&w, 2, groups[0], (const char *[]) { NULL });
        wire_entry(&w, 2, groups[1], (const char *[]) { NULL });
        wire_page_done(&w, 2, "");
        wire_entry(&w, 3, groups[0], g0);
        wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
        wire_entry(&w, 4, groups[1], g1);
        wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
        wire_entry(&w, 5, U("alice"), alice);
        wire_entry(&w, 5, U("carol"), carol);
        wire_page_done(&w, 5, "");
    }

    w.pos = 0;

    m = ngx_exa_lm_create(conf->memory_max);
    ld = wire_ldap(&w);
    r = ngx_exa_lr_create(conf, ld);

    ngx_exa_lr_record(r, m);
    rc = ngx_exa_lr_bind(r);

    for (calls = 0; calls < 1000 && rc == NGX_EXA_LR_AGAIN; calls++) {
        rc = ngx_exa_lr_step(r);
    }

    if (rc != NGX_EXA_LR_DONE) {
        abort();                  /* the fixed conversation must work */
    }

    ngx_exa_lr_destroy(r);
    ldap_unbind_ext(ld, NULL, NULL);

    return m;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc, calls;
    LDAP                 *ld;
    size_t                n, i, j;
    wire_t                w;
    ngx_exa_lr_t         *r;
    ngx_exa_lm_t         *m;
    ngx_exa_lr_conf_t     conf;
    const ngx_exa_str_t  *keys;

    if (size < 1) {
        return 0;
    }

    memset(&conf, 0, sizeof(ngx_exa_lr_conf_t));

    conf.base = "dc=example,dc=com";
    conf.groups = groups;
    conf.ngroups = 1 + ((data[0] >> 7) & 1);
    conf.nested = (data[0] & 0x03) % 3;
    conf.domains = data[0] & 0x04;
    conf.filter = (data[0] & 0x40) ? "(!(cn=x))" : "";
    conf.attrs = attrs;
    conf.bind_dn = "cn=svc,dc=example,dc=com";
    conf.password = "secret";
    conf.password_len = 6;
    conf.table_max = 1 << 20;
    conf.memory_max = 16 << 20;
    conf.message_max = 1 << 20;
    conf.step_usec = (data[0] & 0x20) ? 1 : 0;

    /* the nested mode that does not exist: a watch, polling again and again */
    conf.watch = (data[0] & 0x03) == 3;

    /* walking two groups, no domains: a delta */

    m = ((data[0] & 0x87) == 0x82 && !conf.step_usec) ? model(&conf) : NULL;

    memset(&w, 0, sizeof(wire_t));

    w.in = (unsigned char *) data + 1;
    w.len = size - 1;
    w.chunk = (data[0] & 0x10) ? 7 : 0;

    ld = wire_ldap(&w);
    if (ld == NULL) {
        return 0;
    }

    r = ngx_exa_lr_create(&conf, ld);
    if (r == NULL) {
        ldap_unbind_ext(ld, NULL, NULL);
        ngx_exa_lm_destroy(m);
        return 0;
    }

    if (m && ngx_exa_lr_apply(r, m, changed, 2) != 0) {
        abort();
    }

    rc = (data[0] & 0x08) ? ngx_exa_lr_starttls(r) : ngx_exa_lr_bind(r);

    for (calls = 0; calls < 100000; calls++) {

        if (rc == NGX_EXA_LR_TLS) {
            rc = ngx_exa_lr_bind(r);
            continue;
        }

        if (rc == NGX_EXA_LR_IDLE || rc == NGX_EXA_LR_CHANGED) {
            if (!conf.watch) {
                abort();
            }

            /* the DNs of the changes: whole, and within a DN's bound */

            if (ngx_exa_lr_changes(r, &keys, &n) == 0) {
                for (i = 0; i < n; i++) {
                    if (keys[i].len >= 1024
                        || strlen((const char *) keys[i].data) != keys[i].len)
                    {
                        abort();
                    }
                }
            }

            (void) ngx_exa_lr_changes(r, NULL, NULL);

            rc = ngx_exa_lr_poll(r);
            continue;
        }

        if (rc != NGX_EXA_LR_AGAIN && rc != NGX_EXA_LR_YIELD) {
            break;
        }

        if (rc == NGX_EXA_LR_AGAIN && w.pos >= w.len) {
            break;
        }

        rc = ngx_exa_lr_step(r);
    }

    if (calls == 100000) {
        abort();                  /* a refresh that never ends */
    }

    if (rc == NGX_EXA_LR_DONE) {
        keys = ngx_exa_lr_keys(r, &n);

        for (i = 0; i < n; i++) {
            if (keys[i].len == 0 || keys[i].len > NGX_EXA_KEY_MAX) {
                abort();
            }

            for (j = 0; j < keys[i].len; j++) {
                if (keys[i].data[j] < 0x21 || keys[i].data[j] == 0x7f
                    || (keys[i].data[j] >= 'A' && keys[i].data[j] <= 'Z'))
                {
                    abort();
                }
            }
        }
    }

    if (rc == NGX_EXA_LR_ERROR && ngx_exa_lr_error(r)[0] == '\0') {
        abort();                  /* a failure says why */
    }

    if (ngx_exa_lr_stats(r)->memory > conf.memory_max + (1 << 20)) {
        abort();
    }

    ngx_exa_lr_destroy(r);
    ldap_unbind_ext(ld, NULL, NULL);
    ngx_exa_lm_destroy(m);

    return 0;
}
