
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_name.h"


static size_t ngx_exa_name_ours(const ngx_exa_name_conf_t *nc,
    const unsigned char *p, size_t len);
static int ngx_exa_name_part_valid(const unsigned char *p, size_t len,
    int upn);


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, no C0 or C1 controls and no U+FFFD, U+FF20 (fullwidth "@"),
 * U+FF3C (fullwidth "\"), which other software may fold to a separator.
 */

int
ngx_exa_utf8_valid(const unsigned char *p, size_t len)
{
    size_t    i, n;
    uint32_t  c, min;

    i = 0;

    while (i < len) {
        c = p[i];

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return 0;
            }

            i++;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1; c &= 0x1f; min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2; c &= 0x0f; min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3; c &= 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if (len - i <= n) {
            return 0;
        }

        for (i++; n; n--, i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (p[i] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)
            || c < 0xa0 || c == 0xfffd || c == 0xff20 || c == 0xff3c)
        {
            return 0;
        }
    }

    return 1;
}


static int
ngx_exa_name_part_valid(const unsigned char *p, size_t len, int upn)
{
    size_t  i;

    if (len == 0 || !ngx_exa_utf8_valid(p, len)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        switch (p[i]) {

        /* never valid in a logon name (sAMAccountName rules) */
        case '"': case '/': case '\\': case '[': case ']': case ':':
        case ';': case '|': case '=': case ',': case '+': case '*':
        case '?': case '<': case '>': case ' ':
            return 0;

        case '@':
            if (!upn) {
                return 0;
            }
        }
    }

    return 1;
}


/*
 * The configured name p is (case ignored): its index in nc->domains, or
 * -1.  No domains configured: NGX_EXA_NAME_ANY_DOMAIN.
 */

static size_t
ngx_exa_name_ours(const ngx_exa_name_conf_t *nc, const unsigned char *p,
    size_t len)
{
    size_t                i, j;
    unsigned char         c;
    const ngx_exa_str_t  *d;

    if (nc == NULL || nc->ndomains == 0) {
        return NGX_EXA_NAME_ANY_DOMAIN;
    }

    for (i = 0; i < nc->ndomains; i++) {
        d = &nc->domains[i];

        if (d->len != len) {
            continue;
        }

        for (j = 0; j < len; j++) {
            c = p[j];

            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }

            if (c != d->data[j]) {
                break;
            }
        }

        if (j == len) {
            return i;
        }
    }

    return (size_t) -2;
}


int
ngx_exa_name_key(const ngx_exa_name_conf_t *nc, const unsigned char *domain,
    size_t dlen, const unsigned char *user, size_t ulen, unsigned char *key,
    size_t *klen)
{
    size_t  group;

    return ngx_exa_name_resolve(nc, domain, dlen, user, ulen, key, klen,
                                &group);
}


/*
 * The key of a credential's name, and the group of exchange_access_domain
 * it is from (the index of the group's NetBIOS name in nc->domains), or
 * NGX_EXA_NAME_ANY_DOMAIN for a whole UPN and when no domains are
 * configured.  A domain that is not configured is NGX_EXA_NAME_FOREIGN.
 */

int
ngx_exa_name_resolve(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen, size_t *group)
{
    size_t                i, at, d;
    const unsigned char  *bs;

    *klen = 0;
    *group = NGX_EXA_NAME_ANY_DOMAIN;

    if (ulen == 0) {
        return NGX_EXA_NAME_EMPTY;
    }

    if (ulen > NGX_EXA_KEY_MAX) {
        return NGX_EXA_NAME_INVALID;
    }

    bs = memchr(user, '\\', ulen);

    if (bs != NULL) {

        /* "DOMAIN\user" in a field that should hold the user alone */

        if (dlen != 0) {
            return NGX_EXA_NAME_INVALID;
        }

        domain = user;
        dlen = bs - user;
        ulen -= dlen + 1;
        user = bs + 1;

        if (dlen == 0) {
            return NGX_EXA_NAME_INVALID;
        }

        if (ulen == 0) {
            return NGX_EXA_NAME_EMPTY;
        }
    }

    at = ulen;

    for (i = 0; i < ulen; i++) {
        if (user[i] == '@') {
            at = i;
        }
    }

    if (at < ulen) {

        /* "user@suffix": a user principal name, unless a domain came too */

        if (dlen != 0 || at == 0 || at == ulen - 1
            || !ngx_exa_name_part_valid(user, at, 0)
            || !ngx_exa_name_part_valid(user + at + 1, ulen - at - 1, 0))
        {
            return NGX_EXA_NAME_INVALID;
        }

        if (ngx_exa_name_ours(nc, user + at + 1, ulen - at - 1)
            == (size_t) -2)
        {
            return NGX_EXA_NAME_FOREIGN;
        }

    } else {
        if (!ngx_exa_name_part_valid(user, ulen, 0)) {
            return NGX_EXA_NAME_INVALID;
        }

        if (dlen != 0) {
            if (!ngx_exa_name_part_valid(domain, dlen, 0)) {
                return NGX_EXA_NAME_INVALID;
            }

            d = ngx_exa_name_ours(nc, domain, dlen);

            if (d == (size_t) -2) {
                return NGX_EXA_NAME_FOREIGN;
            }

        } else {

            /* no domain: the first one's, as a server's default domain */

            d = (nc && nc->ndomains) ? 0 : NGX_EXA_NAME_ANY_DOMAIN;
        }

        if (d != NGX_EXA_NAME_ANY_DOMAIN) {
            *group = nc->groups ? nc->groups[d] : 0;
        }
    }

    for (i = 0; i < ulen; i++) {
        key[i] = (user[i] >= 'A' && user[i] <= 'Z') ? (user[i] | 0x20)
                                                    : user[i];
    }

    *klen = ulen;

    return NGX_EXA_NAME_OK;
}


/*
 * A NetBIOS domain name: 1 to 15 characters, none of them a dot, a blank,
 * a control, or one of \ / : * ? " < > | @.
 */

int
ngx_exa_netbios_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_EXA_TAG_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] >= 0x7f || strchr(".\\/:*?\"<>|@", p[i])) {
            return 0;
        }
    }

    return 1;
}


/*
 * A line of a list: "DOMAIN\user" keeps its NetBIOS domain ("domain\user",
 * lower case), "user" and "user@suffix" are keys as they are.
 */

int
ngx_exa_name_entry(const unsigned char *line, size_t len,
    unsigned char *key, size_t *klen)
{
    int                   rc;
    size_t                i, dlen, ulen;
    const unsigned char  *bs;

    *klen = 0;

    bs = memchr(line, '\\', len);

    if (bs == NULL) {
        return ngx_exa_name_key(NULL, NULL, 0, line, len, key, klen);
    }

    dlen = bs - line;

    if (dlen > 0 && !ngx_exa_netbios_valid(line, dlen)
        && ngx_exa_name_part_valid(line, dlen, 0))
    {
        return NGX_EXA_NAME_NOT_NETBIOS;
    }

    /* the user part: a sAMAccountName, never a UPN */

    ulen = len - dlen - 1;

    if (dlen + 1 + ulen > NGX_EXA_KEY_MAX || memchr(bs + 1, '@', ulen)) {
        return NGX_EXA_NAME_INVALID;
    }

    rc = ngx_exa_name_key(NULL, NULL, 0, line, len, key + dlen + 1, klen);

    if (rc != NGX_EXA_NAME_OK) {
        return rc;
    }

    for (i = 0; i < dlen; i++) {
        key[i] = (line[i] >= 'A' && line[i] <= 'Z') ? (line[i] | 0x20)
                                                    : line[i];
    }

    key[dlen] = '\\';
    *klen += dlen + 1;

    return NGX_EXA_NAME_OK;
}


/*
 * Writes src for a log line as nginx's access_log escapes by default:
 * "\"", "\\" and every byte below 0x20 or from 0x7f on become "\xHH", so
 * that a line is one line and a name reads the same in both logs.  dst
 * holds 4 * len bytes, or is NULL to count.  Returns the length.
 */

size_t
ngx_exa_log_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t          i, n;
    unsigned char   c;
    static const char  hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            if (dst) {
                dst[n] = '\\';
                dst[n + 1] = 'x';
                dst[n + 2] = hex[c >> 4];
                dst[n + 3] = hex[c & 0xf];
            }

            n += 4;
            continue;
        }

        if (dst) {
            dst[n] = c;
        }

        n++;
    }

    return n;
}


const char *
ngx_exa_name_strerror(int rc)
{
    switch (rc) {
    case NGX_EXA_NAME_OK:
        return "ok";
    case NGX_EXA_NAME_EMPTY:
        return "empty user name";
    case NGX_EXA_NAME_FOREIGN:
        return "domain is not one of ours";
    case NGX_EXA_NAME_NOT_NETBIOS:
        return "domain is not a NetBIOS name (at most 15 characters, "
               "no dot)";
    default:
        return "invalid user name";
    }
}
