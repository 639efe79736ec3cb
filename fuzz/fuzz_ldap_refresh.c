/*
 * libFuzzer harness for the LDAP refresh: the input is what a directory
 * server sends, read by libldap from memory as the module reads it from
 * the network, and interpreted by the refresh's logic.  The first byte
 * picks the configuration: nested mode, Active Directory's domains,
 * StartTLS, how many bytes a read returns.  Seeds: make -C fuzz seeds.
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


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc, calls;
    LDAP                 *ld;
    size_t                n, i, j;
    wire_t                w;
    ngx_exa_lr_t         *r;
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
        return 0;
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

    return 0;
}
