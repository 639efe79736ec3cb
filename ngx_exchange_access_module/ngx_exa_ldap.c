
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>
#include <strings.h>

#include "ngx_exa_ldap.h"


/*
 * A ranged attribute description as Active Directory returns it when an
 * attribute has more values than MaxValRange: "member;range=0-1499", the
 * last part "member;range=1500-*".  Returns 1 for a range of base, 0 for
 * plain base, -1 for anything else (another attribute, a broken range).
 */

int
ngx_exa_ldap_range(const char *attr, const char *base, ngx_exa_range_t *range)
{
    size_t       n, v;
    const char  *p;

    n = strlen(base);

    if (strncasecmp(attr, base, n) != 0) {
        return -1;
    }

    p = attr + n;

    if (*p == '\0') {
        range->start = 0;
        range->end = 0;
        range->last = 1;
        return 0;
    }

    if (strncasecmp(p, ";range=", 7) != 0) {
        return -1;
    }

    p += 7;

    if (*p < '0' || *p > '9') {
        return -1;
    }

    for (v = 0; *p >= '0' && *p <= '9'; p++) {
        if (v > 100000000) {
            return -1;
        }

        v = v * 10 + (*p - '0');
    }

    range->start = v;

    if (*p++ != '-') {
        return -1;
    }

    if (p[0] == '*' && p[1] == '\0') {
        range->end = 0;
        range->last = 1;
        return 1;
    }

    if (*p < '0' || *p > '9') {
        return -1;
    }

    for (v = 0; *p >= '0' && *p <= '9'; p++) {
        if (v > 100000000) {
            return -1;
        }

        v = v * 10 + (*p - '0');
    }

    if (*p != '\0' || v < range->start) {
        return -1;
    }

    range->end = v;
    range->last = 0;

    return 1;
}


/*
 * A DN in a form that compares equal for the same entry as the directory
 * returns it in a "member" value and as an entry's name: ASCII lowered,
 * no blanks around the separators.  out holds len bytes.
 */

size_t
ngx_exa_ldap_dn_norm(const unsigned char *dn, size_t len, unsigned char *out)
{
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = dn[i];

        if (c == '\\' && i + 1 < len) {

            /* an escaped character is kept as it is */

            out[n++] = c;
            out[n++] = dn[++i];
            continue;
        }

        if (c == ' '
            && (n == 0 || out[n - 1] == ',' || out[n - 1] == '='
                || out[n - 1] == '+'))
        {
            continue;
        }

        if (c == ',' || c == '=' || c == '+') {
            while (n > 0 && out[n - 1] == ' '
                   && !(n > 1 && out[n - 2] == '\\'))
            {
                n--;
            }
        }

        out[n++] = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
    }

    while (n > 0 && out[n - 1] == ' ' && !(n > 1 && out[n - 2] == '\\')) {
        n--;
    }

    return n;
}


/*
 * Escapes an assertion value for a search filter (RFC 4515): "*", "(",
 * ")", "\" and NUL become \2a, \28, \29, \5c, \00.  out holds 3 * len.
 */

size_t
ngx_exa_ldap_escape(const unsigned char *v, size_t len, unsigned char *out)
{
    size_t                i, n;
    static const char     hex[] = "0123456789abcdef";

    n = 0;

    for (i = 0; i < len; i++) {
        switch (v[i]) {
        case '*': case '(': case ')': case '\\': case '\0':
            out[n++] = '\\';
            out[n++] = hex[v[i] >> 4];
            out[n++] = hex[v[i] & 0x0f];
            break;
        default:
            out[n++] = v[i];
        }
    }

    return n;
}


/*
 * A configured extra filter must be one parenthesised filter with balanced
 * parentheses, so that it can be ANDed with the module's own.
 */

int
ngx_exa_ldap_filter_valid(const unsigned char *f, size_t len)
{
    size_t  i;
    int     depth;

    if (len < 3 || f[0] != '(' || f[len - 1] != ')') {
        return 0;
    }

    depth = 0;

    for (i = 0; i < len; i++) {
        if (f[i] == '\\') {
            i++;
            continue;
        }

        if (f[i] == '(') {
            depth++;

        } else if (f[i] == ')') {
            if (--depth < 0) {
                return 0;
            }

            if (depth == 0 && i != len - 1) {
                return 0;
            }

        } else if (f[i] == '\0') {
            return 0;
        }
    }

    return depth == 0;
}
