
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_ldap_refresh_int.h"
#include "ngx_exa_ldap.h"
#include "ngx_exa_name.h"


/*
 * The NetBIOS names of Active Directory's domains, so that a
 * sAMAccountName is kept with its domain ("example\alice"), as a list
 * file's DOMAIN\alice is.  The root DSE names the configuration naming
 * context; its crossRef objects under CN=Partitions give each domain's
 * naming context (nCName) and NetBIOS name (nETBIOSName).  A user's
 * domain is the longest naming context its DN ends with.  A directory
 * without a configuration naming context (OpenLDAP) keeps names bare.
 */


static int ngx_exa_lr_domains_search(ngx_exa_lr_t *r, const char *base,
    int scope, const char *filter, const char **attrs);


int
ngx_exa_lr_domains_start(ngx_exa_lr_t *r)
{
    static const char  *attrs[] = { "configurationNamingContext", NULL };

    r->state = NGX_EXA_LR_READ_DOMAINS;
    r->domains_step = 0;

    return ngx_exa_lr_domains_search(r, "", LDAP_SCOPE_BASE,
                                     "(objectClass=*)", attrs);
}


static int
ngx_exa_lr_domains_search(ngx_exa_lr_t *r, const char *base, int scope,
    const char *filter, const char **attrs)
{
    int  rc;

    rc = ldap_search_ext(r->ld, base, scope, filter, (char **) attrs, 0,
                         NULL, NULL, NULL, 0, &r->msgid);

    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_NEXT;
}


/*
 * The result of the root DSE's read, then of the partitions' search:
 * NGX_EXA_LR_NEXT while there is more to read, NGX_EXA_LR_PARTIAL when the
 * domains are known.
 */

int
ngx_exa_lr_domains_result(ngx_exa_lr_t *r, int code, const char *text)
{
    char                 *base;
    static const char  *attrs[] = { "nETBIOSName", "nCName", NULL };

    if (code != LDAP_SUCCESS) {

        /* a server that does not show its root DSE is no Active Directory */

        if (r->domains_step == 0) {
            return NGX_EXA_LR_PARTIAL;
        }

        return ngx_exa_lr_fail(r, ngx_exa_lr_server_fault(code),
                               "reading the domains failed (%d: %s%s%s)",
                               code, ldap_err2string(code),
                               text[0] ? ", " : "", text);
    }

    if (r->domains_step == 1 || r->config_nc == NULL) {
        return NGX_EXA_LR_PARTIAL;
    }

    r->domains_step = 1;

    base = ngx_exa_arena_alloc(&r->arena,
                               sizeof("CN=Partitions,") + r->config_nc_len);
    if (base == NULL) {
        return ngx_exa_lr_nomem(r);
    }

    snprintf(base, sizeof("CN=Partitions,") + r->config_nc_len,
             "CN=Partitions,%.*s", (int) r->config_nc_len, r->config_nc);

    return ngx_exa_lr_domains_search(r, base, LDAP_SCOPE_ONELEVEL,
                                     "(&(objectClass=crossRef)"
                                     "(nETBIOSName=*))", attrs);
}


/* a value of configurationNamingContext, nETBIOSName or nCName */

int
ngx_exa_lr_domains_value(ngx_exa_lr_t *r, struct berval *v)
{
    size_t         klen;
    unsigned char  in[32], key[NGX_EXA_KEY_MAX];

    if (v->bv_len == 0 || v->bv_len >= NGX_EXA_LR_DN_MAX) {
        return NGX_EXA_LR_NEXT;
    }

    switch (r->attr) {

    case NGX_EXA_LR_ATTR_CONFIG:
        if (r->config_nc == NULL) {
            r->config_nc = ngx_exa_arena_alloc(&r->arena, v->bv_len + 1);
            if (r->config_nc == NULL) {
                return ngx_exa_lr_nomem(r);
            }

            memcpy(r->config_nc, v->bv_val, v->bv_len);
            r->config_nc[v->bv_len] = '\0';
            r->config_nc_len = v->bv_len;
        }

        return NGX_EXA_LR_NEXT;

    case NGX_EXA_LR_ATTR_NETBIOS:

        /* a NetBIOS name, as a list file would give it: "NAME\a" */

        if (v->bv_len > 15) {
            r->stats.refused++;
            return NGX_EXA_LR_NEXT;
        }

        memcpy(in, v->bv_val, v->bv_len);
        memcpy(in + v->bv_len, "\\a", 2);

        if (ngx_exa_name_entry(in, v->bv_len + 2, key, &klen)
            != NGX_EXA_NAME_OK)
        {
            r->stats.refused++;
            return NGX_EXA_LR_NEXT;
        }

        memcpy(r->cur_netbios, key, v->bv_len);
        r->cur_netbios[v->bv_len] = '\0';

        return NGX_EXA_LR_NEXT;

    case NGX_EXA_LR_ATTR_NCNAME:
        r->cur_nc_len = ngx_exa_ldap_dn_norm((unsigned char *) v->bv_val,
                                             v->bv_len, r->cur_nc);
        return NGX_EXA_LR_NEXT;

    default:
        return NGX_EXA_LR_NEXT;
    }
}


/* the end of a crossRef's entry: its domain, if it named both */

int
ngx_exa_lr_domains_entry(ngx_exa_lr_t *r)
{
    unsigned char        *nc;
    ngx_exa_lr_domain_t  *d;

    if (r->cur_netbios[0] == '\0' || r->cur_nc_len == 0) {
        return NGX_EXA_LR_NEXT;
    }

    if (ngx_exa_mem_grow(&r->mem, (void **) &r->domains, &r->domains_size,
                         r->ndomains + 1, sizeof(ngx_exa_lr_domain_t))
        != 0)
    {
        return ngx_exa_lr_nomem(r);
    }

    nc = ngx_exa_arena_alloc(&r->arena, r->cur_nc_len);
    if (nc == NULL) {
        return ngx_exa_lr_nomem(r);
    }

    memcpy(nc, r->cur_nc, r->cur_nc_len);

    d = &r->domains[r->ndomains++];
    d->nc = nc;
    d->len = r->cur_nc_len;
    memcpy(d->netbios, r->cur_netbios, sizeof(d->netbios));

    r->cur_netbios[0] = '\0';
    r->cur_nc_len = 0;

    return NGX_EXA_LR_NEXT;
}


/* the NetBIOS name of the domain of a normalised DN, or NULL */

const char *
ngx_exa_lr_domain_of(ngx_exa_lr_t *r, const unsigned char *dn, size_t len)
{
    size_t                i, best;
    const char           *netbios;
    ngx_exa_lr_domain_t  *d;

    netbios = NULL;
    best = 0;

    for (i = 0; i < r->ndomains; i++) {
        d = &r->domains[i];

        if (d->len > len || d->len <= best
            || memcmp(dn + len - d->len, d->nc, d->len) != 0
            || (d->len < len && dn[len - d->len - 1] != ','))
        {
            continue;
        }

        best = d->len;
        netbios = d->netbios;
    }

    return netbios;
}
