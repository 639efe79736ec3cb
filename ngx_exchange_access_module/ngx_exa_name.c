
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdint.h>
#include <string.h>

#include "ngx_exa_name.h"


/* what the usual case calls only for anything else: not in its frame */
#if (defined __GNUC__)
#define ngx_exa_noinline  __attribute__((noinline))
#else
#define ngx_exa_noinline
#endif


static ngx_exa_noinline int ngx_exa_name_resolve_ascii(
    const ngx_exa_name_conf_t *nc, const unsigned char *domain, size_t dlen,
    const unsigned char *user, size_t ulen, unsigned char *key, size_t *klen,
    size_t *group);
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

    /* printable ASCII, the common case, first */

    for (i = 0; i < len && p[i] >= 0x20 && p[i] < 0x7f; i++) {
        /* void */
    }

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
 * What an ASCII byte is to a name: one a logon name never has (a control,
 * or one of the sAMAccountName rules' characters), "@", "\\"; and a
 * non-ASCII byte, which only ngx_exa_name_resolve_full() reads.
 */

#define NGX_EXA_NC_BAD   0x01
#define NGX_EXA_NC_AT    0x02
#define NGX_EXA_NC_BS    0x04
#define NGX_EXA_NC_HIGH  0x08

static const unsigned char  ngx_exa_name_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
 /*    !  "  #  $  %  &  '  (  )  *  +  ,  -  .  / */
    1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1,
 /* 0  1  2  3  4  5  6  7  8  9  :  ;  <  =  >  ? */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
 /* @  A  ...                                      */
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
 /* P  ...                     Z  [  \  ]  ^  _    */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
 /* p  ...                     z  {  |  }  ~  DEL  */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8
};


/* ASCII letters lowered, every other byte as it is */

static const unsigned char  ngx_exa_name_lower[256] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff
};


/*
 * Sixteen bytes, as two words: whether all of them are letters, digits,
 * ".", "-" or "_", and the words with their letters lowered.  With
 * vectors where the compiler has them, else a word at a time.
 */

#if (defined __GNUC__ && (defined __SSE2__ || defined __ARM_NEON))

typedef unsigned char  ngx_exa_name_v16_t __attribute__((vector_size(16)));
typedef uint64_t       ngx_exa_name_v2_t __attribute__((vector_size(16)));

static inline int
ngx_exa_name_words(uint64_t a, uint64_t b, uint64_t *la, uint64_t *lb)
{
    uint64_t            all[2];
    ngx_exa_name_v2_t   q;
    ngx_exa_name_v16_t  v, letter, ok;

    q = (ngx_exa_name_v2_t) { a, b };
    v = (ngx_exa_name_v16_t) q;

    /* no byte from 0x80 on is any of these */

    letter = (ngx_exa_name_v16_t)
             ((ngx_exa_name_v16_t) ((v | 0x20) - 'a') < 26);

    ok = letter
         | (ngx_exa_name_v16_t) ((ngx_exa_name_v16_t) (v - '-') < 2)
         | (ngx_exa_name_v16_t) ((ngx_exa_name_v16_t) (v - '0') < 10)
         | (ngx_exa_name_v16_t) (v == '_');

    memcpy(all, &ok, 16);

    if ((all[0] & all[1]) != (uint64_t) -1) {
        return 0;
    }

    v |= letter & 0x20;

    memcpy(all, &v, 16);
    *la = all[0];
    *lb = all[1];

    return 1;
}

#else

/*
 * Eight bytes at once: whether all of them are letters, digits, ".", "-"
 * or "_", the bytes most names are made of, and in *lw the bytes with
 * their letters lowered.  Each test sets the top bit of the bytes it
 * takes; no byte carries into the next, all of them being below 0x80.
 */

#define NGX_EXA_NW_ONES  0x0101010101010101ULL
#define NGX_EXA_NW_HIGH  0x8080808080808080ULL

static inline int
ngx_exa_name_word(uint64_t w, uint64_t *lw)
{
    uint64_t  y, letter, digit, dot, under;

    if (w & NGX_EXA_NW_HIGH) {
        return 0;
    }

    y = w | 0x20 * NGX_EXA_NW_ONES;

    /* "a" to "z", either case: y + 0x1f reaches 0x80, y + 0x05 does not */
    letter = (y + 0x1f * NGX_EXA_NW_ONES) & ~(y + 0x05 * NGX_EXA_NW_ONES);

    /* "0" to "9" */
    digit = (w + 0x50 * NGX_EXA_NW_ONES) & ~(w + 0x46 * NGX_EXA_NW_ONES);

    /* "-" and "." */
    dot = (w + 0x53 * NGX_EXA_NW_ONES) & ~(w + 0x51 * NGX_EXA_NW_ONES);

    /* "_": the byte that is 0x5f, exactly */
    y = w ^ 0x5f * NGX_EXA_NW_ONES;
    under = ~((y + 0x7f * NGX_EXA_NW_ONES) | y);

    letter &= NGX_EXA_NW_HIGH;

    *lw = w | letter >> 2;

    return ((letter | digit | dot | under) & NGX_EXA_NW_HIGH)
           == NGX_EXA_NW_HIGH;
}


static inline int
ngx_exa_name_words(uint64_t a, uint64_t b, uint64_t *la, uint64_t *lb)
{
    return ngx_exa_name_word(a, la) && ngx_exa_name_word(b, lb);
}

#endif


/*
 * A name of four bytes or more, all of them letters, digits, ".", "-" or
 * "_", to its key, sixteen bytes at a time (the last sixteen, or the two
 * halves of a name of eight or fewer, may overlap what came before): 1,
 * or 0 for any other name, the key then written in part.
 */

static inline int
ngx_exa_name_plain(const unsigned char *p, size_t len, unsigned char *key)
{
    size_t    i;
    uint32_t  x, y;
    uint64_t  a, b, la, lb;

    if (len < 8) {
        memcpy(&x, p, 4);
        memcpy(&y, p + len - 4, 4);

        a = (uint64_t) x | (uint64_t) y << 32;

        if (!ngx_exa_name_words(a, a, &la, &lb)) {
            return 0;
        }

        x = (uint32_t) la;
        y = (uint32_t) (la >> 32);
        memcpy(key, &x, 4);
        memcpy(key + len - 4, &y, 4);

        return 1;
    }

    for (i = 0; i + 16 < len; i += 16) {
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);

        if (!ngx_exa_name_words(a, b, &la, &lb)) {
            return 0;
        }

        memcpy(key + i, &la, 8);
        memcpy(key + i + 8, &lb, 8);
    }

    /* the last sixteen bytes, or the first and last eight */

    i = (len >= 16) ? len - 16 : 0;

    memcpy(&a, p + i, 8);
    memcpy(&b, p + len - 8, 8);

    if (!ngx_exa_name_words(a, b, &la, &lb)) {
        return 0;
    }

    memcpy(key + i, &la, 8);
    memcpy(key + len - 8, &lb, 8);

    return 1;
}


/*
 * The key of a credential's name, and the group of exchange_access_domain
 * it is from: ngx_exa_name_resolve_full()'s answer.  A name of letters,
 * digits, ".", "-" and "_" without a domain, eight bytes at a time, here;
 * any other ASCII name without "\\" in one pass, that reads the validity
 * of every part, the "@" of a UPN and the lower case at once
 * (ngx_exa_name_resolve_ascii(), in a frame of its own); anything else
 * the full way.
 */

int
ngx_exa_name_resolve(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen, size_t *group)
{
    if (dlen == 0 && ulen >= 4 && ulen <= NGX_EXA_KEY_MAX
        && ngx_exa_name_plain(user, ulen, key))
    {
        *klen = ulen;

        if (nc && nc->ndomains) {
            *group = nc->groups ? nc->groups[0] : 0;

        } else {
            *group = NGX_EXA_NAME_ANY_DOMAIN;
        }

        return NGX_EXA_NAME_OK;
    }

    return ngx_exa_name_resolve_ascii(nc, domain, dlen, user, ulen, key,
                                      klen, group);
}


static ngx_exa_noinline int
ngx_exa_name_resolve_ascii(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen, size_t *group)
{
    size_t                i, d, at;
    unsigned              f, fd;
    const unsigned char  *first;

    if (ulen == 0 || ulen > NGX_EXA_KEY_MAX) {
        goto full;
    }

    /* what the bytes are, and the key as it will be if the name is good */

    f = 0;

    for (i = 0; i < ulen; i++) {
        f |= ngx_exa_name_class[user[i]];
        key[i] = ngx_exa_name_lower[user[i]];
    }

    fd = 0;

    for (i = 0; i < dlen; i++) {
        fd |= ngx_exa_name_class[domain[i]];
    }

    if ((f | fd) & (NGX_EXA_NC_BS|NGX_EXA_NC_HIGH)) {
        goto full;
    }

    *klen = 0;
    *group = NGX_EXA_NAME_ANY_DOMAIN;

    if (f & NGX_EXA_NC_AT) {

        /* "user@suffix": one "@", inside, no domain besides */

        first = memchr(user, '@', ulen);
        at = first - user;

        if ((f & NGX_EXA_NC_BAD) || dlen != 0 || at == 0 || at == ulen - 1
            || memchr(first + 1, '@', ulen - at - 1) != NULL)
        {
            return NGX_EXA_NAME_INVALID;
        }

        if (ngx_exa_name_ours(nc, user + at + 1, ulen - at - 1)
            == (size_t) -2)
        {
            return NGX_EXA_NAME_FOREIGN;
        }

    } else {
        if (f & NGX_EXA_NC_BAD) {
            return NGX_EXA_NAME_INVALID;
        }

        if (dlen != 0) {
            if (fd & (NGX_EXA_NC_BAD|NGX_EXA_NC_AT)) {
                return NGX_EXA_NAME_INVALID;
            }

            d = ngx_exa_name_ours(nc, domain, dlen);

            if (d == (size_t) -2) {
                return NGX_EXA_NAME_FOREIGN;
            }

        } else {
            d = (nc && nc->ndomains) ? 0 : NGX_EXA_NAME_ANY_DOMAIN;
        }

        if (d != NGX_EXA_NAME_ANY_DOMAIN) {
            *group = nc->groups ? nc->groups[d] : 0;
        }
    }

    *klen = ulen;

    return NGX_EXA_NAME_OK;

full:

    return ngx_exa_name_resolve_full(nc, domain, dlen, user, ulen, key, klen,
                                     group);
}


/*
 * The key of a credential's name, and the group of exchange_access_domain
 * it is from (the index of the group's NetBIOS name in nc->domains), or
 * NGX_EXA_NAME_ANY_DOMAIN for a whole UPN and when no domains are
 * configured.  A domain that is not configured is NGX_EXA_NAME_FOREIGN.
 */

int
ngx_exa_name_resolve_full(const ngx_exa_name_conf_t *nc,
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
    unsigned char         user[NGX_EXA_KEY_MAX];

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

    rc = ngx_exa_name_key(NULL, NULL, 0, line, len, user, klen);

    if (rc != NGX_EXA_NAME_OK) {
        return rc;
    }

    memcpy(key + dlen + 1, user, *klen);

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
